"""The few inferences the API and consumers rely on, materialised into one graph of their own.

- every typed link (tg:refersTo, tg:recalls, ...) is also stated with its super-properties, so a
  consumer asking for eli:cites or dcterms:references finds it;
- every resource also has the super-classes of its class (a tg:Article is a tg:Provision and an
  eli:LegalResourceSubdivision);
- tg:partOf and tg:hasPart are stated both ways.

The rules are read from the ontology, so adding a sub-property there is enough.
"""

from __future__ import annotations

from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from treatygraph.namespaces import GRAPH, ONTOLOGY_IRI

INFERRED_GRAPH = GRAPH["inferred"]


def _closure(ontology: Graph, relation: URIRef) -> dict[URIRef, set[URIRef]]:
    """For each term of our ontology, all the terms above it along `relation` (transitively)."""
    direct: dict[URIRef, set[URIRef]] = {}
    for sub, sup in ontology.subject_objects(relation):
        if isinstance(sub, URIRef) and isinstance(sup, URIRef):
            direct.setdefault(sub, set()).add(sup)
    closed: dict[URIRef, set[URIRef]] = {}
    for term in direct:
        seen: set[URIRef] = set()
        todo = list(direct[term])
        while todo:
            parent = todo.pop()
            if parent not in seen:
                seen.add(parent)
                todo.extend(direct.get(parent, ()))
        closed[term] = seen
    return closed


def infer(dataset: Dataset, ontology_graph: URIRef) -> Graph:
    """Add the inferred graph to `dataset` and return it."""
    ontology = dataset.graph(ontology_graph)
    super_classes = _closure(ontology, RDFS.subClassOf)
    super_properties = _closure(ontology, RDFS.subPropertyOf)
    inverses = [
        (a, b)
        for a, b in ontology.subject_objects(OWL.inverseOf)
        if str(a).startswith(ONTOLOGY_IRI)
    ]
    inferred = dataset.graph(INFERRED_GRAPH)
    asserted = [
        (s, p, o)
        for g in dataset.graphs()
        if g.identifier not in (INFERRED_GRAPH, ontology_graph)
        for s, p, o in g
    ]
    for s, p, o in asserted:
        if p == RDF.type and o in super_classes:
            for parent in super_classes[o]:
                inferred.add((s, RDF.type, parent))
        elif p in super_properties:
            for parent in super_properties[p]:
                inferred.add((s, parent, o))
    for a, b in inverses:
        for s, p, o in asserted:
            if p == a:
                inferred.add((o, b, s))
            elif p == b:
                inferred.add((o, a, s))
    return inferred
