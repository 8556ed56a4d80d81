# Rule: give every resource the super-classes of its class (a tg:Article is also a tg:Provision).
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
INSERT { GRAPH <https://w3id.org/treatygraph/graph/inferred> { ?s a ?super } }
WHERE {
  GRAPH <https://w3id.org/treatygraph/graph/ontology/treatygraph.ttl> {
    ?class rdfs:subClassOf+ ?super .
    FILTER(STRSTARTS(STR(?class), "https://w3id.org/treatygraph/ontology#") && isIRI(?super))
  }
  GRAPH ?g { ?s a ?class }
  FILTER(?g != <https://w3id.org/treatygraph/graph/ontology/treatygraph.ttl>)
}
