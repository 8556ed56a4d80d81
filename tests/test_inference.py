"""Inference: consumers querying with ELI / Dublin Core terms and super-classes find our links."""

import pytest

from treatygraph import build, sources
from treatygraph.inference import INFERRED_GRAPH, infer
from treatygraph.store import Store

ID = "https://w3id.org/treatygraph/id/"
TG = "https://w3id.org/treatygraph/ontology#"
ELI = "http://data.europa.eu/eli/ontology#"
DCTERMS = "http://purl.org/dc/terms/"


@pytest.fixture
def store(tmp_path) -> Store:
    """A store holding the ontology and one small data file."""
    data = tmp_path / "data.ttl"
    data.write_text(
        f"""
        <{ID}minamata/article/11> <{TG}refersTo> <{ID}basel> .
        <{ID}decision/BC-16/21> <{TG}recalls> <{ID}decision/BC-15/20> .
        <{ID}basel/article/4> a <{TG}Article> .
        <{ID}minamata/article/11/paragraph/3> <{TG}partOf> <{ID}minamata/article/11> .
        <{ID}decision/BC-16/21> <{TG}jointWith> <{ID}decision/RC-11/8> .
        """
    )
    store = Store()
    ontology = sources.Source(
        sources.REPO_ROOT / "ontology" / "treatygraph.ttl", build.ONTOLOGY_GRAPH
    )
    sources.load_into(store, [ontology, *sources.user_sources([data])])
    infer(store)
    return store


def inferred(store: Store, s: str, p: str, o: str) -> bool:
    query = f"ASK {{ GRAPH <{INFERRED_GRAPH}> {{ <{s}> <{p}> <{o}> }} }}"
    return store.query(query).boolean


def test_typed_links_are_also_stated_with_their_super_properties(store):
    article, basel = ID + "minamata/article/11", ID + "basel"
    assert inferred(store, article, ELI + "cites", basel)
    assert inferred(store, article, DCTERMS + "references", basel)
    assert inferred(store, article, TG + "linksTo", basel)


def test_recalls_is_a_kind_of_refers_to(store):
    a, b = ID + "decision/BC-16/21", ID + "decision/BC-15/20"
    assert inferred(store, a, TG + "refersTo", b)
    assert inferred(store, a, ELI + "cites", b)


def test_resources_get_their_super_classes(store):
    article, rdf_type = ID + "basel/article/4", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    assert inferred(store, article, rdf_type, TG + "Provision")
    assert inferred(store, article, rdf_type, ELI + "LegalResourceSubdivision")


def test_part_of_and_has_part_are_stated_both_ways(store):
    article, paragraph = ID + "minamata/article/11", ID + "minamata/article/11/paragraph/3"
    assert inferred(store, article, TG + "hasPart", paragraph)
    assert inferred(store, paragraph, ELI + "is_part_of", article)
    assert inferred(store, article, ELI + "has_part", paragraph)


def test_joint_decisions_are_joint_both_ways(store):
    basel, rotterdam = ID + "decision/BC-16/21", ID + "decision/RC-11/8"
    assert inferred(store, rotterdam, TG + "jointWith", basel)


def test_inference_is_recomputed_not_accumulated(store):
    before = store.count(str(INFERRED_GRAPH))
    assert infer(store) == before
