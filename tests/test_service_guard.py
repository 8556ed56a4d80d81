"""Query safety: SERVICE, LOAD and foreign FROM are refused before anything runs or is fetched."""

from __future__ import annotations

import socket
import threading

import pytest

from treatygraph import guard

OWN = {"https://w3id.org/treatygraph/graph/data/basel/meetings.ttl"}


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
        "select * where { service <http://127.0.0.1:9/> { ?s ?p ?o } }",
        "SELECT * WHERE { SeRvIcE SILENT <http://127.0.0.1:9/> { ?s ?p ?o } }",
        "SELECT * WHERE { VALUES ?e { <http://127.0.0.1:9/> } SERVICE ?e { ?s ?p ?o } }",
        "SELECT * WHERE { # a comment\n SERVICE\n<http://x/> { ?s ?p ?o } }",
        'SELECT * WHERE { ?s ?p "a" SERVICE <http://x/> { ?s ?p ?o } }',
        "SELECT * WHERE { ?s ?p ?o FILTER(?s<?p) SERVICE <http://x/> { } }",
    ],
)
def test_service_is_refused_however_it_is_written(query):
    with pytest.raises(guard.Refused) as refused:
        guard.check_query(query, OWN)
    assert refused.value.clause == "SERVICE"


def test_an_escaped_keyword_is_refused():
    """Oxigraph does not read \\u escapes outside strings and IRIs; rdflib does. Either way such
    a text does not run: the guard refuses what its parser cannot read the engine's way."""
    with pytest.raises(guard.Refused) as refused:
        guard.check_query("SELECT * WHERE { \\u0053ERVICE <http://x/> { ?s ?p ?o } }", OWN)
    assert refused.value.clause in ("SERVICE", "parse")


@pytest.mark.parametrize(
    "query",
    [
        'SELECT * WHERE { ?s ?p "SERVICE <http://x/> { }" }',
        "SELECT * WHERE { ?s ?p '''LOAD <http://x/>\nSERVICE''' }",
        "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://x/> in a comment",
        "PREFIX service: <http://example.org/> SELECT * WHERE { ?s service:load ?service }",
        "SELECT * WHERE { <http://example.org/SERVICE> ?p ?o }",
        "SELECT * FROM <https://w3id.org/treatygraph/graph/data/basel/meetings.ttl> {?s ?p ?o}",
        'SELECT * WHERE { ?s ?p ?o FILTER(CONTAINS(STR(?o), "from <file:///etc/passwd>")) }',
    ],
)
def test_the_words_in_strings_iris_comments_and_names_are_not_refused(query):
    guard.check_query(query, OWN)


@pytest.mark.parametrize(
    ("query", "clause"),
    [
        ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "FROM"),
        ("select * from named <http://127.0.0.1:9/g> where { ?s ?p ?o }", "FROM NAMED"),
        ("PREFIX f: <file:///etc/> SELECT * FROM f:passwd WHERE { ?s ?p ?o }", "FROM"),
        ("BASE <file:///etc/> SELECT * FROM <passwd> WHERE { ?s ?p ?o }", "FROM"),
    ],
)
def test_from_a_graph_that_is_not_ours_is_refused(query, clause):
    with pytest.raises(guard.Refused) as refused:
        guard.check_query(query, OWN)
    assert refused.value.clause == clause
    assert "file:///etc/passwd" in str(refused.value) or "127.0.0.1" in str(refused.value)


def test_load_is_refused_in_updates():
    with pytest.raises(guard.Refused):
        guard.check_update("LOAD <http://127.0.0.1:9/data.ttl>")
    with pytest.raises(guard.Refused):
        guard.check_update("load silent <file:///etc/passwd> into graph <http://g>")
    guard.check_update('INSERT DATA { <http://a> <http://b> "LOAD <http://x/>" }')


def test_query_form_is_found_after_the_prologue():
    text = "PREFIX ask: <http://x/>\n# SELECT\nCONSTRUCT { ?s ask:p ?o } WHERE { ?s ?p ?o }"
    assert guard.check_query(text, OWN).form == "construct"


class Listener:
    """A TCP listener on loopback that records whether anyone connected."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture()
def listener():
    opened = Listener()
    yield opened
    opened.close()


def test_the_server_refuses_service_and_contacts_nobody(http, listener):
    target = f"http://127.0.0.1:{listener.port}/"
    for query in (
        f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{target}sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{target}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        f"SELECT * FROM <{target}data.ttl> WHERE {{ ?s ?p ?o }}",
    ):
        answer = http.get("/sparql", params={"query": query})
        assert answer.status_code == 400
        assert "SERVICE" in answer.text or "FROM" in answer.text
    answer = http.post("/sparql", data={"update": f"LOAD <{target}data.ttl>"})
    assert answer.status_code in (400, 403)
    assert listener.connections == 0


def test_the_server_refuses_from_a_local_file(http):
    answer = http.get(
        "/sparql", params={"query": "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }"}
    )
    assert answer.status_code == 400
    assert "FROM <file:///etc/passwd>" in answer.text


def test_a_string_that_mentions_service_is_answered(http):
    query = 'SELECT ?x WHERE { BIND("SERVICE <http://127.0.0.1:9/> {}" AS ?x) }'
    answer = http.get("/sparql", params={"query": query})
    assert answer.status_code == 200
    assert answer.json()["results"]["bindings"][0]["x"]["value"].startswith("SERVICE")
