"""The store: what the service and CLI rely on — union default graph, formats, bounds, errors."""

import pytest

from treatygraph.store import (
    RDF_FORMATS,
    RESULT_FORMATS,
    Limits,
    QuerySyntaxError,
    ResultTooLarge,
    Store,
)

G1 = "https://example.org/graph/1"
G2 = "https://example.org/graph/2"


@pytest.fixture
def store() -> Store:
    store = Store()
    store.update(
        f"""INSERT DATA {{
          GRAPH <{G1}> {{ <http://e/basel> <http://e/label> "Basel Convention"@en . }}
          GRAPH <{G2}> {{ <http://e/minamata> <http://e/refersTo> <http://e/basel> . }}
        }}"""
    )
    return store


def test_default_graph_is_the_union_of_named_graphs(store):
    rows = list(store.query("SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s").rows())
    assert [r["s"].value for r in rows] == ["http://e/basel", "http://e/minamata"]


def test_default_graph_can_be_narrowed_to_named_graphs(store):
    rows = list(store.query("SELECT ?s WHERE { ?s ?p ?o }", default_graphs=[G2]).rows())
    assert [r["s"].value for r in rows] == ["http://e/minamata"]


def test_graph_keyword_sees_only_the_given_named_graphs(store):
    query = "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    rows = list(store.query(query, named_graphs=[G1]).rows())
    assert [r["g"].value for r in rows] == [G1]


def test_terms_keep_language_and_datatype(store):
    row = next(store.query("SELECT ?o WHERE { <http://e/basel> ?p ?o }").rows())
    assert row["o"].to_json() == {"type": "literal", "value": "Basel Convention", "xml:lang": "en"}


@pytest.mark.parametrize("media_type", sorted(RESULT_FORMATS))
def test_select_serializes_in_every_result_format(store, media_type):
    body = store.query("SELECT ?s WHERE { ?s ?p ?o }").serialize(media_type)
    assert b"http://e/minamata" in body


@pytest.mark.parametrize("media_type", sorted(RDF_FORMATS))
def test_construct_serializes_in_every_rdf_format(store, media_type):
    body = store.query("CONSTRUCT WHERE { ?s ?p ?o }").serialize(media_type)
    assert b"refersTo" in body and b"http://e/minamata" in body


def test_ask_is_a_boolean(store):
    assert store.query("ASK { <http://e/minamata> ?p <http://e/basel> }").boolean is True
    assert store.query("ASK { <http://e/basel> ?p <http://e/minamata> }").boolean is False


def test_syntax_error_carries_the_position(store):
    with pytest.raises(QuerySyntaxError, match=r"1:\d+"):
        store.query("SELECT * WHERE { ?s ?p }")


def test_result_byte_bound_is_enforced():
    store = Store(limits=Limits(max_bytes=200))
    store.update(
        "INSERT DATA { GRAPH <http://g> { "
        + " ".join(f'<http://e/s{i}> <http://e/p> "{i}" .' for i in range(100))
        + " } }"
    )
    with pytest.raises(ResultTooLarge, match="200 bytes"):
        store.query("SELECT * WHERE { ?s ?p ?o }").serialize("application/sparql-results+json")


def test_row_bound_is_enforced():
    store = Store(limits=Limits(max_rows=5))
    store.update(
        "INSERT DATA { GRAPH <http://g> { "
        + " ".join(f'<http://e/s{i}> <http://e/p> "{i}" .' for i in range(10))
        + " } }"
    )
    with pytest.raises(ResultTooLarge, match="more than 5"):
        list(store.query("SELECT * WHERE { ?s ?p ?o }").rows())


def test_replace_graph_keeps_old_content_when_new_content_is_unreadable(store):
    with pytest.raises(SyntaxError):
        store.replace_graph(b"<http://e/x> <http://e/p> .", "text/turtle", G1)
    assert store.count(G1) == 1


def test_replace_and_drop_graph(store):
    store.replace_graph(b'<http://e/x> <http://e/p> "new" .', "text/turtle", G1)
    assert store.count(G1) == 1
    assert store.query('ASK { <http://e/x> ?p "new" }').boolean
    assert store.drop_graph(G1) is True
    assert store.drop_graph(G1) is False
    assert store.graphs() == [G2]


def test_on_disk_store_persists(tmp_path):
    store = Store(tmp_path / "store")
    store.load(b"<http://e/a> <http://e/p> <http://e/b> .", "application/n-triples", G1)
    store.flush()
    del store
    reopened = Store(tmp_path / "store", read_only=True)
    assert reopened.count() == 1


def test_turtle_is_written_with_the_vocabularies_prefixes():
    store = Store()
    store.update(
        "INSERT DATA { GRAPH <http://g> { <https://w3id.org/treatygraph/id/minamata/article/11> "
        "<https://w3id.org/treatygraph/ontology#refersTo> "
        "<https://w3id.org/treatygraph/id/basel> } }"
    )
    body = store.query("CONSTRUCT WHERE { ?s ?p ?o }").serialize("text/turtle").decode()
    assert "@prefix tg: <https://w3id.org/treatygraph/ontology#> ." in body
    assert "<https://w3id.org/treatygraph/id/minamata/article/11> tg:refersTo" in body
