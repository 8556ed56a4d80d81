"""Written data is never lost to a rebuild: a rebuild replaces the curated graphs (one per file of
data/, and the graphs the build derives) and keeps every other graph, and the store's default
graph, as they were; a write aimed at a curated graph is refused (409) naming its file.

The data is always a temporary copy of data/ (the build reads it from `data=` in this process,
from $TREATYGRAPH_DATA_DIR in a served one): the repository's own files are never changed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import conftest
import pyoxigraph as ox
import pytest
import rdflib
from conftest import WRITE_TOKEN, Server

from treatygraph import build as builder
from treatygraph import catalogue, sources, write_policy
from treatygraph.namespaces import GRAPH
from treatygraph.store import Store

AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
CONVENTION = str(GRAPH["data/basel/convention.ttl"])
NOTE = str(GRAPH["data/extra/note.ttl"])
EX = "http://example.org/kept/"
TG = "https://w3id.org/treatygraph/ontology#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
BASEL = "https://w3id.org/treatygraph/id/basel"
CHANGE = '\n<basel> rdfs:comment "A curated change, made for a test."@en .\n'
ASK_CHANGE = (
    f"ASK {{ GRAPH <{CONVENTION}> {{ <{BASEL}> <http://www.w3.org/2000/01/rdf-schema#comment> "
    '"A curated change, made for a test."@en } }'
)
DECISION = "https://w3id.org/treatygraph/id/decision/ZZ-9/9"


def node(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


# Written data, as a client would have written it: the default graph, a graph of its own, and
# a graph the service minted for a Graph Store POST.
WRITTEN = {
    None: [(node(EX + "s"), node(EX + "p"), ox.Literal("in the default graph"))],
    EX + "graph": [
        (node(DECISION), node(RDF_TYPE), node(TG + "Decision")),
        (node(DECISION), node(TG + "symbol"), ox.Literal("ZZ-9/9")),
        (node(DECISION), node(RDFS_LABEL), ox.Literal("ZZ-9/9: Quokka census", language="en")),
    ],
    str(GRAPH["uploaded/0b5e"]): [(node(EX + "u"), node(EX + "p"), ox.Literal(1))],
}
WRITTEN_COUNT = sum(len(triples) for triples in WRITTEN.values())


def copy_data(target: Path) -> Path:
    """A copy of data/, with one more file (data/extra/note.ttl) that a test can remove."""
    shutil.copytree(sources.REPO_ROOT / "data", target)
    (target / "extra").mkdir()
    (target / "extra" / "note.ttl").write_text(
        f"<{BASEL}> <http://www.w3.org/2000/01/rdf-schema#seeAlso> <https://example.org/note> .\n"
    )
    return target


@pytest.fixture(scope="module")
def first_build(tmp_path_factory) -> tuple[Path, Path]:
    """The copied data and a store built from it, once for the module (copied by each test)."""
    directory = tmp_path_factory.mktemp("kept")
    data = copy_data(directory / "data")
    builder.build(directory / "store", validate=False, data=data)
    return data, directory / "store"


@pytest.fixture()
def built(first_build, tmp_path) -> tuple[Path, Path]:
    data, store = first_build
    shutil.copytree(data, tmp_path / "data")
    shutil.copytree(store, tmp_path / "store", ignore=shutil.ignore_patterns("LOCK"))
    return tmp_path / "data", tmp_path / "store"


def write(store_path: Path) -> None:
    store = Store(store_path)
    store.add_quads(
        ox.Quad(*triple, ox.DefaultGraph() if graph is None else node(graph))
        for graph, triples in WRITTEN.items()
        for triple in triples
    )
    store.flush()


def graph_triples(store: Store, graph: str | None) -> set:
    quads = store.default_graph_quads() if graph is None else store.quads(graph)
    return {(q.subject, q.predicate, q.object) for q in quads}


def assert_written_data_kept(store: Store) -> None:
    for graph, triples in WRITTEN.items():
        assert graph_triples(store, graph) == set(triples), f"written data lost in {graph}"


def record(store_path: Path) -> dict:
    return json.loads((store_path / builder.MARKER).read_text())


# -- the build ---------------------------------------------------------------------------------


def test_a_rebuild_keeps_written_data_and_replaces_the_curated_graphs(built):
    data, store_path = built
    write(store_path)
    with (data / "basel" / "convention.ttl").open("a") as file:
        file.write(CHANGE)
    (data / "extra" / "note.ttl").unlink()
    assert not builder.is_fresh(store_path, data)
    result = builder.build(store_path, validate=False, data=data)
    assert result.written == WRITTEN_COUNT
    assert builder.is_fresh(store_path, data)
    store = Store(store_path, read_only=True)
    assert_written_data_kept(store)
    assert store.query(ASK_CHANGE).boolean  # the curated change is in
    assert NOTE not in store.graphs()  # the graph of a file that is gone is dropped
    assert store.count() == result.quads + WRITTEN_COUNT
    # The build record lists the curated graphs with their files, and the written data kept.
    made = record(store_path)
    assert made["curated"][CONVENTION] == "data/basel/convention.ttl"
    assert made["curated"][str(GRAPH["inferred"])] == write_policy.INFERENCE_ORIGIN
    assert NOTE not in made["curated"] and EX + "graph" not in made["curated"]
    assert made["written_quads"] == WRITTEN_COUNT
    # The catalogue was remade with the new store, written data included.
    kept = catalogue.Catalogue(catalogue.path_for(store_path))
    assert [row["resource"].value for row in kept.search("quokka", 5).rows] == [DECISION]
    assert sorted(p.name for p in store_path.parent.iterdir()) == ["data", "store", "store.lock"]


def test_a_build_that_fails_midway_leaves_the_store_and_its_written_data(built, monkeypatch):
    data, store_path = built
    write(store_path)
    before = record(store_path)
    with (data / "basel" / "convention.ttl").open("a") as file:
        file.write(CHANGE)

    def fail(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(catalogue, "make", fail)  # after the written data was carried over
    with pytest.raises(OSError, match="simulated"):
        builder.build(store_path, validate=False, data=data)
    store = Store(store_path, read_only=True)
    assert_written_data_kept(store)
    assert not store.query(ASK_CHANGE).boolean
    assert record(store_path) == before
    assert not store_path.with_name("store.building").exists()


def test_a_swap_cut_short_loses_nothing(built):
    """Killed between the swap's two renames, a build leaves the old store as store.previous:
    the next build puts it back and carries its written data over."""
    data, store_path = built
    write(store_path)
    store_path.rename(store_path.with_name("store.previous"))
    result = builder.build(store_path, validate=False, data=data)
    assert result.written == WRITTEN_COUNT
    assert_written_data_kept(Store(store_path, read_only=True))
    assert not store_path.with_name("store.previous").exists()


def test_a_written_graph_with_the_name_of_a_new_curated_graph_stops_the_build(built):
    data, store_path = built
    write(store_path)
    before = record(store_path)
    # A TriG file may name any graph: this one names a graph that holds written data.
    (data / "extra" / "named.trig").write_text(
        f"<{EX}graph> {{ <{EX}x> <{EX}p> <{EX}o> . }}\n", encoding="utf-8"
    )
    with pytest.raises(builder.StoreKept, match="written graphs have the names of curated"):
        builder.build(store_path, validate=False, data=data)
    assert_written_data_kept(Store(store_path, read_only=True))
    assert record(store_path) == before


def test_no_build_replaces_a_store_that_is_being_served(built):
    data, store_path = built
    write(store_path)
    with builder.store_lock(store_path, shared=True):  # as `treatygraph serve` holds it
        with pytest.raises(builder.StoreKept, match="in use by another process"):
            builder.build(store_path, validate=False, data=data)
    assert_written_data_kept(Store(store_path, read_only=True))


def test_a_store_whose_record_lists_no_curated_graphs_is_rebuilt_keeping_written_data(built):
    """A store built before the build record listed the curated graphs: its graphs under
    graph/data/, graph/ontology/ and the derived graphs are curated, the others written."""
    data, store_path = built
    write(store_path)
    old = record(store_path)
    del old["curated"]
    (store_path / builder.MARKER).write_text(json.dumps(old))
    assert not builder.is_fresh(store_path, data)
    result = builder.build(store_path, validate=False, data=data)
    assert result.written == WRITTEN_COUNT
    assert_written_data_kept(Store(store_path, read_only=True))


# -- the service -------------------------------------------------------------------------------


def ask(client, query: str) -> bool:
    answer = client.get("/sparql", params={"query": query})
    assert answer.status_code == 200, answer.text
    return answer.json()["boolean"]


def test_writes_survive_a_kill_and_a_restart_that_rebuilds_the_store(built, tmp_path, monkeypatch):
    data, store_path = built
    # The Server fixture would mark the store fresh for the repository's data: here the store
    # must be judged against its own (copied) data, so that changing it makes `serve` rebuild.
    monkeypatch.setattr(conftest, "mark_fresh", lambda store: None)
    server = Server(store_path, tmp_path / "server.log", write_token=WRITE_TOKEN, data_dir=data)
    turtle = {"Content-Type": "text/turtle", **AUTH}
    named = f"INSERT DATA {{ GRAPH <{EX}named> {{ <{EX}a> <{EX}p> 'in a named graph' }} }}"
    default = f"INSERT DATA {{ <{EX}b> <{EX}p> 'in the default graph' }}"
    put = f"<{EX}c> <{EX}p> 'put' . <{EX}d> <{EX}p> 'put too' ."
    server.start()
    try:
        with server.client() as client:
            assert client.post("/update", data={"update": named}, headers=AUTH).status_code == 204
            assert client.post("/sparql", data={"update": default}, headers=AUTH).status_code == 204
            answer = client.put(
                "/rdf-graphs/service", params={"graph": EX + "put"}, content=put, headers=turtle
            )
            assert answer.status_code == 201
            created = client.post(
                "/rdf-graphs/service", content=f"<{EX}e> <{EX}p> 'posted' .", headers=turtle
            )
            assert created.status_code == 201
            posted = created.headers["location"]
            assert not ask(client, ASK_CHANGE)
    finally:
        # Killed, not stopped: the writes must be on disk without a clean shutdown.
        server.process.kill()
        server.process.wait(20)
        server.stop()
    with (data / "basel" / "convention.ttl").open("a") as file:
        file.write(CHANGE)
    (data / "extra" / "note.ttl").unlink()
    server.start()  # sees the store is stale, rebuilds it from the changed copy
    try:
        log = server.log_path.read_text()
        assert "building the store" in log and "kept 5 quads of written data" in log
        with server.client() as client:
            kept = f"ASK {{ GRAPH <{EX}named> {{ <{EX}a> <{EX}p> 'in a named graph' }} }}"
            assert ask(client, kept)
            got = client.get(
                "/rdf-graphs/service", params={"default": ""}, headers={"Accept": "text/turtle"}
            )
            default_graph = rdflib.Graph().parse(data=got.text, format="turtle")
            triple = (EX + "b", EX + "p", "in the default graph")
            assert (
                rdflib.URIRef(triple[0]),
                rdflib.URIRef(triple[1]),
                rdflib.Literal(triple[2]),
            ) in (default_graph)
            params = {"graph": EX + "put"}
            got = client.get(
                "/rdf-graphs/service", params=params, headers={"Accept": "text/turtle"}
            )
            assert len(rdflib.Graph().parse(data=got.text, format="turtle")) == 2
            assert ask(client, f"ASK {{ GRAPH <{posted}> {{ <{EX}e> <{EX}p> 'posted' }} }}")
            assert ask(client, ASK_CHANGE)  # the curated change is visible
            gone = client.get("/rdf-graphs/service", params={"graph": NOTE})
            assert gone.status_code == 404  # its file was removed
    finally:
        server.stop()


CURATED_FILE = "data/basel/convention.ttl"
REFUSAL = (
    f"graph <{CONVENTION}> comes from {CURATED_FILE}; curated graphs change only through data/ "
    "and a rebuild"
)
CURATED_UPDATES = [
    f"INSERT DATA {{ GRAPH <{CONVENTION}> {{ <{EX}s> <{EX}p> 1 }} }}",
    "PREFIX g: <https://w3id.org/treatygraph/graph/data/basel/> "
    f"delete data {{ graph g:convention.ttl {{ <{EX}s> <{EX}p> 1 }} }}",
    f"WITH <{CONVENTION}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
    f"DELETE WHERE {{ GRAPH <{CONVENTION}> {{ ?s ?p ?o }} }}",
    f"CLEAR GRAPH <{CONVENTION}>",
    f"# a comment\nDROP SILENT GRAPH <{CONVENTION}>",
    f"MOVE <{CONVENTION}> TO <{EX}mine>",
    f"COPY <{EX}mine> TO <{CONVENTION}>",
    f"ADD DEFAULT TO <{CONVENTION}>",
    "BASE <https://w3id.org/treatygraph/graph/data/> CLEAR GRAPH <basel/convention.ttl>",
]


def test_writes_to_curated_graphs_are_refused_with_409_naming_the_file(writable_server):
    turtle = {"Content-Type": "text/turtle", **AUTH}
    service = "/rdf-graphs/service"
    with writable_server.client() as client:
        before = client.get(service, params={"graph": CONVENTION}).text
        for update in CURATED_UPDATES:
            for path in ("/update", "/sparql"):
                answer = client.post(path, data={"update": update}, headers=AUTH)
                assert answer.status_code == 409, (update, answer.text)
                assert REFUSAL in answer.text, (update, answer.text)
        for method in ("PUT", "POST", "DELETE"):
            body = {} if method == "DELETE" else {"content": f"<{EX}s> <{EX}p> 1 ."}
            headers = AUTH if method == "DELETE" else turtle
            params = {"graph": CONVENTION}
            answer = client.request(method, service, params=params, headers=headers, **body)
            assert answer.status_code == 409, (method, answer.text)
            assert REFUSAL in answer.text, (method, answer.text)
            # Without the token, the answer is about the token.
            assert client.request(method, service, params=params, **body).status_code == 401
        assert client.get(service, params={"graph": CONVENTION}).text == before


def test_refusals_of_whole_dataset_updates_variable_graphs_and_unreadable_updates(
    writable_server,
):
    with writable_server.client() as client:
        for update in ("CLEAR ALL", "drop named"):
            answer = client.post("/update", data={"update": update}, headers=AUTH)
            assert answer.status_code == 409, answer.text
            assert "curated graphs" in answer.text and "comes from" in answer.text
        variable = "DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } }"
        answer = client.post("/update", data={"update": variable}, headers=AUTH)
        assert answer.status_code == 409 and "cannot be proven" in answer.text
        unreadable = client.post("/update", data={"update": "INSERT DATA { oops }"}, headers=AUTH)
        assert unreadable.status_code == 400 and "could not be parsed" in unreadable.text
        derived = f"CLEAR GRAPH <{GRAPH['inferred']}>"
        answer = client.post("/update", data={"update": derived}, headers=AUTH)
        assert answer.status_code == 409 and "queries/rules" in answer.text
        assert ask(client, "ASK { ?s ?p ?o }")  # nothing was cleared
        # What is written data passes: the default graph, a graph of one's own, copies out.
        allowed = (
            f"INSERT DATA {{ <{EX}s> <{EX}p> 1 }} ; "
            f"COPY <{CONVENTION}> TO <{EX}mine> ; CLEAR DEFAULT ; DROP GRAPH <{EX}mine>"
        )
        assert client.post("/update", data={"update": allowed}, headers=AUTH).status_code == 204
