"""The store interface without a real engine: the in-memory store, the result object's formats,
open_store's choice, and the remote store's behaviour against small fake HTTP servers on
loopback (down, stalled, trickling, failing with 503, refusing), all bounded in time."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pyoxigraph as ox
import pytest

from treatygraph.stores import (
    DataSyntaxError,
    EmbeddedStore,
    GraphStore,
    MemoryStore,
    QuerySyntaxError,
    Refused,
    RemoteStore,
    ResultTooLarge,
    StoreError,
    StoreUnavailable,
    UnsupportedMediaType,
    open_store,
)
from treatygraph.stores.base import Limits, QueryResult, Term
from treatygraph.stores.remote import read_json_results

XSD = "http://www.w3.org/2001/XMLSchema#"
G1 = "urn:x-test:g1"
G2 = "urn:x-test:g2"
TTL = b'<urn:a> <urn:p> 1 , 2 .\n<urn:b> <urn:p> "x"@en .'
VALUES_QUERY = (
    'SELECT ?a ?b ?c ?d WHERE { VALUES (?a ?b ?c ?d) { (<urn:x> "a,\\"b" 1 "x"@en) '
    '(UNDEF "\u00e9" 2.5 UNDEF) (<urn:y> "tab\\there" true "1e3"^^<http://www.w3.org/2001/'
    "XMLSchema#double>) } }"
)


@pytest.fixture()
def memory() -> MemoryStore:
    store = MemoryStore()
    store.load(TTL, "text/turtle", G1)
    store.load(
        b'<urn:a> <urn:p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .',
        "application/n-triples",
        G2,
    )
    return store


# -- the in-memory store -------------------------------------------------------------------------


def test_memory_store_implements_the_interface(memory, tmp_path):
    assert isinstance(memory, GraphStore)
    with EmbeddedStore(tmp_path / "db") as embedded:
        assert isinstance(embedded, GraphStore)
    with RemoteStore("http://127.0.0.1:9/sparql") as remote:
        assert isinstance(remote, GraphStore)


def test_default_graph_is_the_union_unless_a_dataset_is_named(memory):
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert memory.query(count).rows[0]["n"].value == "4"  # 3 + 1, the duplicate counted twice
    assert memory.query(count, default_graphs=[G2]).rows[0]["n"].value == "1"
    # Only named graphs given: the default graph is empty, the named ones readable.
    assert memory.query(count, named_graphs=[G1]).rows[0]["n"].value == "0"
    named = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert [r["g"].value for r in memory.query(named, named_graphs=[G1]).rows] == [G1]
    # The query's own FROM applies when the caller names nothing.
    from_g2 = f"SELECT (COUNT(*) AS ?n) FROM <{G2}> WHERE {{ ?s ?p ?o }}"
    assert memory.query(from_g2).rows[0]["n"].value == "1"
    # ...and the caller's graphs replace it.
    assert memory.query(from_g2, default_graphs=[G1]).rows[0]["n"].value == "3"


def test_graphs_counts_and_dumps(memory):
    assert memory.graphs() == [G1, G2]
    assert memory.has_graph(G1) and not memory.has_graph("urn:x-test:none")
    assert memory.count() == 4 and memory.count(G1) == 3 and memory.count("urn:x-test:no") == 0
    assert memory.counts() == {G1: 3, G2: 1}
    quads = list(ox.parse(memory.dump("application/n-quads"), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == 4
    # A triple format holds the union without duplicates.
    union = list(ox.parse(memory.dump("text/turtle"), format=ox.RdfFormat.TURTLE))
    assert len(union) == 3
    one = list(ox.parse(memory.dump("application/n-triples", G2), format=ox.RdfFormat.N_TRIPLES))
    assert [str(t) for t in one] == ["<urn:a> <urn:p> 1"] or len(one) == 1
    with pytest.raises(UnsupportedMediaType):
        memory.dump("text/html")


def test_writes(memory):
    memory.replace_graph(b"<urn:c> <urn:p> <urn:d> .", "text/turtle", G1)
    assert memory.count(G1) == 1
    with pytest.raises(DataSyntaxError):
        memory.replace_graph(b"<urn:c> <urn:p> .", "text/turtle", G1)
    assert memory.count(G1) == 1  # left as it was
    with pytest.raises(DataSyntaxError):
        memory.load(b"<urn:c> <urn:p> <urn:e> . oops", "text/turtle", G1)
    assert memory.count(G1) == 1  # nothing of it written
    memory.update(f"INSERT DATA {{ GRAPH <{G1}> {{ <urn:c> <urn:p> <urn:e> }} }}")
    assert memory.count(G1) == 2
    assert memory.drop_graph(G1) is True
    assert memory.drop_graph(G1) is False
    assert memory.graphs() == [G2]
    with pytest.raises(QuerySyntaxError):
        memory.update("INSERT DATA { oops")
    with pytest.raises(QuerySyntaxError):
        memory.query("SELECT WHERE {")
    with pytest.raises(UnsupportedMediaType):
        memory.load(b"x", "text/html", G1)


def test_quad_formats_keep_their_graphs_on_load(memory):
    memory.load(
        b"<urn:a> <urn:p> <urn:b> <urn:x-test:g3> .\n<urn:a> <urn:p> <urn:c> .",
        "application/n-quads",
        G2,
    )
    assert memory.count("urn:x-test:g3") == 1 and memory.count(G2) == 2
    with pytest.raises(DataSyntaxError):  # data for one graph that names another
        memory.replace_graph(
            b"<urn:a> <urn:p> <urn:b> <urn:x-test:g4> .", "application/n-quads", G2
        )


def test_row_bound():
    store = MemoryStore(limits=Limits(max_rows=2))
    store.load(TTL, "text/turtle", G1)
    with pytest.raises(ResultTooLarge):
        store.query("SELECT * WHERE { ?s ?p ?o }")
    assert len(store.query("SELECT * WHERE { ?s ?p ?o } LIMIT 2").rows) == 2


# -- results ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "media_type",
    [
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
    ],
)
def test_results_are_written_as_oxigraph_writes_them(media_type):
    """The interface's own writers give the bytes pyoxigraph gives, so a remote engine's answer
    re-served by treatygraph looks as the embedded store's does."""
    fmt = {
        "application/sparql-results+json": ox.QueryResultsFormat.JSON,
        "application/sparql-results+xml": ox.QueryResultsFormat.XML,
        "text/csv": ox.QueryResultsFormat.CSV,
        "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    }[media_type]
    oxstore = ox.Store()
    ours = MemoryStore()
    for query in (VALUES_QUERY, "ASK {}", "ASK { FILTER(false) }"):
        assert ours.query(query).serialize(media_type) == oxstore.query(query).serialize(format=fmt)


def test_graph_results_and_bounds(memory):
    result = memory.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert result.kind == "graph" and len(result.triples) == 3
    turtle = result.serialize("text/turtle")
    assert len(list(ox.parse(turtle, format=ox.RdfFormat.TURTLE))) == 3
    with pytest.raises(UnsupportedMediaType):
        result.serialize("text/csv")
    with pytest.raises(UnsupportedMediaType):
        memory.query("ASK {}").serialize("text/turtle")
    small = QueryResult("select", ["a"], [{"a": Term("literal", "x" * 100)}], max_bytes=50)
    with pytest.raises(ResultTooLarge):
        small.serialize("application/sparql-results+json")


def test_json_results_in_virtuoso_forms():
    """Virtuoso's `typed-literal`, its ASK as a row of __ASK_RETVAL, its 1/0 booleans."""
    body = json.dumps(
        {
            "head": {"link": [], "vars": ["n", "b", "s"]},
            "results": {
                "bindings": [
                    {
                        "n": {"type": "typed-literal", "datatype": XSD + "integer", "value": "3"},
                        "b": {"type": "typed-literal", "datatype": XSD + "boolean", "value": "1"},
                        "s": {"type": "literal", "value": "x", "xml:lang": "en"},
                    }
                ]
            },
        }
    ).encode()
    result = read_json_results(body, "select", Limits())
    row = result.rows[0]
    assert row["n"] == Term("literal", "3", XSD + "integer")
    assert row["b"] == Term("literal", "true", XSD + "boolean")
    assert row["s"] == Term("literal", "x", None, "en")
    ask = b'{"head":{"vars":["__ASK_RETVAL"]},"results":{"bindings":[{"__ASK_RETVAL":{"type":"typed-literal","datatype":"http://www.w3.org/2001/XMLSchema#integer","value":"1"}}]}}'  # noqa: E501
    assert read_json_results(ask, "ask", Limits()).boolean is True
    empty = b'{"head":{"vars":["__ASK_RETVAL"]},"results":{"bindings":[]}}'
    assert read_json_results(empty, "ask", Limits()).boolean is False


# -- open_store ----------------------------------------------------------------------------------


def test_open_store_chooses_the_backend(tmp_path):
    assert isinstance(open_store(None), MemoryStore)
    embedded = open_store(tmp_path / "db")
    assert isinstance(embedded, EmbeddedStore)
    embedded.close()
    ox_store = open_store("http://127.0.0.1:7878", engine="oxigraph")
    assert isinstance(ox_store, RemoteStore)
    assert ox_store.query_url == "http://127.0.0.1:7878/query"
    assert ox_store.update_url == "http://127.0.0.1:7878/update"
    assert ox_store.graph_store_url == "http://127.0.0.1:7878/store"
    assert ox_store.union_default == "parameter"
    vt = open_store("http://h:8890/sparql", engine="virtuoso", user="u", password="p")
    assert (vt.update_url, vt.graph_store_url) == (
        "http://h:8890/sparql-auth",
        "http://h:8890/sparql-graph-crud-auth",
    )
    assert vt.union_default == "explicit" and vt.replace_with == "graph-store"
    anonymous = open_store("http://h:8890/sparql", engine="virtuoso")
    assert anonymous.update_url == "http://h:8890/sparql"
    fuseki = open_store("http://h:3030/ds/sparql", engine="fuseki")
    assert (fuseki.query_url, fuseki.update_url, fuseki.graph_store_url) == (
        "http://h:3030/ds/query",
        "http://h:3030/ds/update",
        "http://h:3030/ds/data",
    )
    plain = open_store("https://example.org/sparql", timeout=3)
    assert plain.update_url is None and plain.timeout == 3
    for store in (ox_store, vt, anonymous, fuseki, plain):
        store.close()
    with pytest.raises(ValueError):
        open_store("http://h/sparql", engine="nope")


# -- the remote store against fake servers --------------------------------------------------------


# The fake servers answer every request alike: no graph list asked first ("explicit" would).
DIRECT = {"union_default": "engine"}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Fake:
    """A loopback HTTP server answering every request with `behaviour(handler)`; counts them."""

    def __init__(self, behaviour):
        self.hits = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _any(self):
                fake.hits += 1
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                behaviour(self)

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def fake():
    made = []

    def make(behaviour):
        server = Fake(behaviour)
        made.append(server)
        return server

    yield make
    for server in made:
        server.close()


def reply(status: int, body: bytes = b"", media_type: str = "text/plain"):
    def behaviour(handler):
        handler.send_response(status)
        handler.send_header("Content-Type", media_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return behaviour


def test_a_down_server_is_reported_quickly():
    url = f"http://127.0.0.1:{closed_port()}/sparql"
    store = RemoteStore(url, update_url=url, timeout=2, retries=1, backoff=0.05)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        store.query("ASK {}")
    assert time.monotonic() - started < 2
    assert caught.value.url == url and "connect" in caught.value.reason
    assert url in str(caught.value)
    with pytest.raises(StoreUnavailable):
        store.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    store.close()


def test_a_stalled_server_is_cut_off_at_the_time_bound(fake):
    stop = threading.Event()
    server = fake(lambda handler: stop.wait(10))  # accepts, reads, never answers
    store = RemoteStore(server.url + "/sparql", timeout=0.8, retries=2, backoff=0.05, **DIRECT)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        store.query("ASK {}")
    elapsed = time.monotonic() - started
    stop.set()
    assert elapsed < 3, elapsed
    assert "within 0.8 s" in caught.value.reason
    assert server.hits == 1  # a read that timed out is not tried again
    store.close()


def test_a_trickling_server_is_cut_off_too(fake):
    stop = threading.Event()

    def trickle(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/sparql-results+json")
        handler.end_headers()
        for _ in range(40):  # a byte every 0.1 s: never idle long enough for a read timeout
            if stop.is_set():
                return
            try:
                handler.wfile.write(b" ")
                handler.wfile.flush()
            except OSError:
                return
            time.sleep(0.1)

    server = fake(trickle)
    store = RemoteStore(server.url + "/sparql", timeout=1.0, retries=0, **DIRECT)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        store.query("ASK {}")
    stop.set()
    assert time.monotonic() - started < 2.5
    assert "not complete within 1 s" in caught.value.reason
    store.close()


def test_reads_are_retried_and_writes_are_not(fake):
    server = fake(reply(503, b"busy"))
    store = RemoteStore(
        server.url + "/sparql",
        update_url=server.url + "/update",
        retries=2,
        backoff=0.01,
        **DIRECT,
    )
    with pytest.raises(StoreUnavailable) as caught:
        store.query("ASK {}")
    assert server.hits == 3 and "HTTP 503" in caught.value.reason
    server.hits = 0
    with pytest.raises(StoreUnavailable):
        store.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    assert server.hits == 1
    store.close()


def test_a_read_that_fails_once_succeeds_on_retry(fake):
    answers = iter(
        [reply(503), reply(200, b'{"head":{},"boolean":true}', "application/sparql-results+json")]
    )
    server = fake(lambda handler: next(answers)(handler))
    store = RemoteStore(server.url + "/sparql", retries=1, backoff=0.01, **DIRECT)
    assert store.query("ASK {}").boolean is True
    assert server.hits == 2
    store.close()


def test_error_statuses_become_typed_errors(fake):
    cases = [
        (reply(400, b"error at 1:8: expected WHERE"), QuerySyntaxError),
        (reply(401, b"no"), Refused),
        (reply(403, b"no"), Refused),
        (reply(500, b"Virtuoso 42000 Error SR186:SECURITY: No permission"), Refused),
        (reply(500, b"Virtuoso S1T00 Error SR171: Transaction timed out"), StoreUnavailable),
        (reply(500, b"something broke"), StoreError),
        (reply(200, b"<html></html>", "text/html"), StoreError),
    ]
    for behaviour, error in cases:
        server = fake(behaviour)
        store = RemoteStore(server.url + "/sparql", retries=0, **DIRECT)
        with pytest.raises(error):
            store.query("SELECT * WHERE { ?s ?p ?o }")
        store.close()
    big = fake(reply(200, b"x" * 5000, "application/sparql-results+json"))
    store = RemoteStore(big.url + "/sparql", limits=Limits(max_bytes=1000), **DIRECT)
    with pytest.raises(ResultTooLarge):
        store.query("SELECT * WHERE { ?s ?p ?o }")
    store.close()


def test_a_store_without_update_url_is_read_only():
    store = RemoteStore("http://127.0.0.1:9/sparql")
    with pytest.raises(Refused):
        store.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    with pytest.raises(DataSyntaxError):  # parsed before anything is sent
        store.replace_graph(b"<urn:a> <urn:b> .", "text/turtle", G1)
    store.close()


def test_engine_row_cap_is_reported(fake):
    rows = [{"x": {"type": "literal", "value": str(i)}} for i in range(5)]
    body = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": rows}}).encode()
    server = fake(reply(200, body, "application/sparql-results+json"))
    store = RemoteStore(server.url + "/sparql", engine_max_rows=5, **DIRECT)
    with pytest.raises(ResultTooLarge):
        store.query("SELECT ?x WHERE { ?s ?p ?x }")
    store.close()
