# Rule: state tg:jointWith (and any other owl:SymmetricProperty of the ontology) both ways, so that
# a joint decision recorded in one convention's file is found from the other convention's symbol.
PREFIX owl: <http://www.w3.org/2002/07/owl#>
INSERT { GRAPH <https://w3id.org/treatygraph/graph/inferred> { ?o ?p ?s } }
WHERE {
  GRAPH <https://w3id.org/treatygraph/graph/ontology/treatygraph.ttl> { ?p a owl:SymmetricProperty }
  GRAPH ?g { ?s ?p ?o }
  FILTER(?g != <https://w3id.org/treatygraph/graph/ontology/treatygraph.ttl>)
}
