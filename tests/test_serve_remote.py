"""The service in front of an existing engine: `treatygraph build --store-url` loads a real Oxigraph
server, two `treatygraph serve --store-url` instances answer a mixed workload identically, and
the answers agree with the embedded service's; a store that goes down gives 503, never a hang."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Server
from treatygraph.stores import engines

WORKLOAD = [
    ("/sparql", {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}),
    (
        "/sparql",
        {
            "query": "PREFIX tg: <https://w3id.org/treatygraph/ontology#> "
            "SELECT ?c WHERE { ?c a tg:Convention } ORDER BY ?c"
        },
    ),
    ("/sparql", {"query": "ASK { <https://w3id.org/treatygraph/id/minamata> ?p ?o }"}),
    ("/api/conventions", {}),
    ("/api/decisions", {"convention": "minamata", "limit": "10"}),
    ("/api/parties/JPN", {}),
    ("/api/search", {"q": "mercury"}),
]


def _treatygraph() -> str:
    return str(Path(sys.executable).with_name("treatygraph"))


@pytest.fixture(scope="module")
def oxigraph_url(tmp_path_factory) -> Iterator[str]:
    reason = engines.missing("oxigraph")
    if reason:
        pytest.skip(reason)
    with engines.oxigraph(tmp_path_factory.mktemp("oxigraph")) as engine:
        built = subprocess.run(
            [_treatygraph(), "build", "--store-url", engine.query_url],
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "TREATYGRAPH_STORE_ENGINE": "oxigraph"},
        )
        assert built.returncode == 0, built.stderr
        assert "loaded" in built.stdout
        yield engine.query_url


@pytest.fixture(scope="module")
def remote_servers(oxigraph_url, tmp_path_factory) -> Iterator[list[Server]]:
    running = []
    for n in range(2):
        directory = tmp_path_factory.mktemp(f"remote{n}")
        running.append(
            Server(
                directory / "unused-store",
                directory / "server.log",
                store_url=oxigraph_url,
                store_engine="oxigraph",
                query_timeout=30,
            ).start()
        )
    yield running
    for server in running:
        server.stop()


def _answers(server: Server) -> list[tuple[int, str]]:
    with server.client(timeout=60) as http:
        out = []
        for path, params in WORKLOAD:
            answer = http.get(path, params=params, headers={"Accept": "application/json"})
            # Each instance writes its own public URL (the @context link): the rest must agree.
            out.append((answer.status_code, answer.text.replace(server.url, "SERVICE-URL")))
        return out


def test_two_instances_over_one_engine_answer_alike(remote_servers):
    first, second = (_answers(server) for server in remote_servers)
    assert [status for status, _ in first] == [200] * len(WORKLOAD), first
    assert first == second


def test_the_engine_answers_as_the_embedded_store(remote_servers, server):
    remote = _answers(remote_servers[0])
    embedded = _answers(server)
    for (path, params), (r_status, r_text), (e_status, e_text) in zip(
        WORKLOAD, remote, embedded, strict=True
    ):
        assert r_status == e_status == 200, (path, params)
        assert r_text == e_text, (path, params)


def test_the_guard_holds_in_front_of_an_engine(remote_servers):
    with remote_servers[0].client() as http:
        answer = http.get(
            "/sparql", params={"query": "SELECT * { SERVICE <http://127.0.0.1:9/> { } }"}
        )
        assert answer.status_code == 400
        assert "SERVICE" in answer.text


def test_serve_refuses_to_start_on_a_store_that_is_down(tmp_path):
    port = engines.free_port()  # nothing listens there
    server = Server(
        tmp_path / "unused-store",
        tmp_path / "server.log",
        store_url=f"http://127.0.0.1:{port}",
        store_engine="oxigraph",
    )
    with pytest.raises(RuntimeError, match="not reachable|exited|did not start"):
        server.start()
