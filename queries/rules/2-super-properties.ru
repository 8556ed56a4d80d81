# Rule: state every link with its super-properties (tg:refersTo also as eli:cites, dcterms:references).
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
INSERT { GRAPH <https://w3id.org/treatygraph/graph/inferred> { ?s ?super ?o } }
WHERE {
  GRAPH <https://w3id.org/treatygraph/graph/ontology/treatygraph.ttl> {
    ?p rdfs:subPropertyOf+ ?super .
    FILTER(STRSTARTS(STR(?p), "https://w3id.org/treatygraph/ontology#"))
  }
  GRAPH ?g { ?s ?p ?o }
  FILTER(?g != <https://w3id.org/treatygraph/graph/ontology/treatygraph.ttl>)
}
