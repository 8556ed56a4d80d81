"""The ontology: every term documented and aligned; its HTML page generated and current."""

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from treatygraph import ontology_doc
from treatygraph.namespaces import ONTOLOGY_IRI, TG

GRAPH = Graph().parse(ontology_doc.ONTOLOGY_FILE)
TERMS = sorted(
    t
    for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    for t in GRAPH.subjects(RDF.type, kind)
    if str(t).startswith(str(TG))
)
REQUIRED_CLASSES = [
    "Convention", "Protocol", "Amendment", "Article", "Paragraph", "Annex", "Body",
    "ConferenceOfTheParties", "SubsidiaryBody", "Secretariat", "Meeting", "Decision",
    "TechnicalGuideline", "GuidelineVersion", "Document", "Party", "ParticipationEvent", "Topic",
]  # fmt: skip
LINK_PROPERTIES = [
    "refersTo", "implements", "recalls", "amends", "supersedes", "requests", "cooperatesWith",
]  # fmt: skip


def test_ontology_metadata():
    ontology = URIRef(ONTOLOGY_IRI)
    assert (ontology, RDF.type, OWL.Ontology) in GRAPH
    for predicate in (OWL.versionInfo, OWL.versionIRI, DCTERMS.license, DCTERMS.creator):
        assert GRAPH.value(ontology, predicate) is not None, predicate


@pytest.mark.parametrize("name", REQUIRED_CLASSES)
def test_required_classes_exist(name):
    assert (TG[name], RDF.type, OWL.Class) in GRAPH


@pytest.mark.parametrize("name", LINK_PROPERTIES)
def test_typed_links_are_sub_properties_of_links_to(name):
    assert (TG[name], RDF.type, OWL.ObjectProperty) in GRAPH
    chain = set(GRAPH.transitive_objects(TG[name], RDFS.subPropertyOf))
    assert TG.linksTo in chain


@pytest.mark.parametrize("term", TERMS, ids=lambda t: str(t).rsplit("#", 1)[-1])
def test_every_term_has_label_definition_and_is_defined_by(term):
    assert GRAPH.value(term, RDFS.label) is not None
    assert GRAPH.value(term, SKOS.definition) is not None
    assert GRAPH.value(term, RDFS.isDefinedBy) == URIRef(ONTOLOGY_IRI)


def test_terms_are_aligned_with_the_standard_vocabularies():
    aligned = {
        str(o).split("#")[0].rsplit("/", 1)[0]
        for t in TERMS
        for p in (RDFS.subClassOf, RDFS.subPropertyOf)
        for o in GRAPH.objects(t, p)
    }
    for vocabulary in ("http://data.europa.eu/eli", "https://schema.org", "http://purl.org/dc"):
        assert any(a.startswith(vocabulary) for a in aligned), vocabulary
    assert (TG.Topic, RDFS.subClassOf, SKOS.Concept) in GRAPH
    assert any("prov#" in str(o) for t in TERMS for o in GRAPH.objects(t, RDFS.subClassOf))


def test_html_documentation_lists_every_term():
    page = ontology_doc.render_html(GRAPH)
    for term in TERMS:
        assert f'id="{str(term).rsplit("#", 1)[-1]}"' in page
    assert 'href="#Provision"' in page  # our terms link within the page


def test_the_documentation_model_follows_the_link_function():
    doc = ontology_doc.document(GRAPH, href=lambda iri: "/x/" + iri.rsplit("#", 1)[-1])
    article = next(t for t in doc.groups["Classes"] if t.anchor == "Article")
    relations = dict(article.relations)
    assert ontology_doc.Link("tg:Provision", "/x/Provision") in relations["Sub-class of"]


def test_committed_html_documentation_is_current():
    expected = ontology_doc.render_html(GRAPH)
    committed = ontology_doc.HTML_FILE.read_text(encoding="utf-8")
    assert committed == expected, "run `treatygraph build` to regenerate ontology/treatygraph.html"
