# Rule: state tg:partOf / tg:hasPart (and any other owl:inverseOf pair of the ontology) both ways.
PREFIX owl: <http://www.w3.org/2002/07/owl#>
INSERT { GRAPH <https://w3id.org/treatygraph/graph/inferred> { ?o ?inverse ?s } }
WHERE {
  GRAPH <https://w3id.org/treatygraph/graph/ontology/treatygraph.ttl> {
    { ?p owl:inverseOf ?inverse } UNION { ?inverse owl:inverseOf ?p }
  }
  GRAPH ?g { ?s ?p ?o }
  FILTER(?g != <https://w3id.org/treatygraph/graph/ontology/treatygraph.ttl>)
}
