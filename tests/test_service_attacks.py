"""No query can reach the network: two layers, each tested alone against a loopback canary.

Layer (a), the guard, refuses SERVICE, LOAD and foreign FROM on a parse of the text; layer (b), the
workers' sandbox, keeps the processes that evaluate queries from opening any socket. Each variant
runs against a server with both layers, with the guard alone, and with the sandbox alone: the
canary must count no connection. A control server with both layers off shows that the canary does
count, so these tests can fail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from bench import attack
from tests.canary import Canary, query_attacks, update_attacks
from tests.conftest import WRITE_TOKEN, Server, _copy

LAYERS = {
    "both": {},
    "guard-only": {"worker_sandbox": "false"},
    "sandbox-only": {"query_guard": "false"},
}
AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    opened = Canary()
    yield opened
    opened.close()


@pytest.fixture(scope="module", params=list(LAYERS))
def layered(request, built_store, tmp_path_factory) -> Iterator[tuple[str, Server]]:
    name = request.param
    store = _copy(built_store, tmp_path_factory.mktemp(name) / "store")
    running = Server(
        store, store.parent / "server.log", write_token=WRITE_TOKEN, **LAYERS[name]
    ).start()
    yield name, running
    running.stop()


def test_no_query_variant_reaches_the_canary(layered, canary):
    name, server = layered
    before = canary.hits
    with server.client() as http:
        for clause, query in query_attacks(canary.url):
            answer = http.post("/sparql", data={"query": query})
            assert answer.status_code < 500, (query, answer.status_code, answer.text)
            if name != "sandbox-only":
                assert answer.status_code == 400, (query, answer.text)
                assert clause in answer.text, (query, answer.text)
            assert canary.hits == before, f"{name}: {query!r} reached the canary"
        if name == "sandbox-only":
            # The sandbox says what it stopped.
            plain = f"SELECT * WHERE {{ SERVICE <{canary.url}x> {{ ?s ?p ?o }} }}"
            answer = http.get("/sparql", params={"query": plain})
            assert answer.status_code == 400
            assert "network connection" in answer.text


def test_no_update_variant_reaches_the_canary(layered, canary):
    name, server = layered
    before = canary.hits
    with server.client() as http:
        for clause, update in update_attacks(canary.url):
            answer = http.post("/update", data={"update": update}, headers=AUTH)
            assert answer.status_code < 500, (update, answer.status_code, answer.text)
            if name != "sandbox-only":
                assert answer.status_code == 400, (update, answer.text)
                assert clause in answer.text, (update, answer.text)
            assert canary.hits == before, f"{name}: {update!r} reached the canary"


def test_the_canary_counts_when_both_layers_are_off(built_store, tmp_path, canary):
    """The control: without either layer the first attack does reach the canary."""
    store = _copy(built_store, tmp_path / "store")
    server = Server(
        store, tmp_path / "server.log", query_guard="false", worker_sandbox="false"
    ).start()
    try:
        before = canary.hits
        _, query = query_attacks(canary.url)[0]
        with server.client() as http:
            http.get("/sparql", params={"query": query})
        assert canary.hits > before
    finally:
        server.stop()


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE " + "{" * 10_000 + "}" * 10_000,
        "SELECT * WHERE { BIND(" + "(" * 45_000 + "1" + ")" * 45_000 + " AS ?x) }",
        "SELECT * WHERE { " + "OPTIONAL { ?a ?b ?c " * 4_000 + "}" * 4_000 + " }",
        "SELECT * WHERE { ?s ?p " + "[ <http://p> " * 3_000 + "]" * 3_000 + " }",
    ],
    ids=["braces", "parentheses", "optional", "blank-nodes"],
)
def test_deep_nesting_is_a_400_naming_the_bound(server, query):
    with server.client() as http:
        answer = http.post(
            "/sparql", content=query, headers={"Content-Type": "application/sparql-query"}
        )
        assert answer.status_code == 400
        assert "nests more than" in answer.text
        assert http.get("/sparql", params={"query": "ASK {}"}).status_code == 200


def test_a_query_past_the_memory_bound_gets_503_and_the_service_goes_on(built_store, tmp_path):
    store = _copy(built_store, tmp_path / "store")
    server = Server(store, tmp_path / "server.log", worker_memory_mb=300, query_timeout=60).start()
    runaway = "SELECT ?a ?d WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f LIMIT 1"
    try:
        with server.client(timeout=90) as http:
            answer = http.get("/sparql", params={"query": runaway})
            assert answer.status_code == 503
            assert "300 MiB" in answer.text
            # The worker was replaced: the service answers as before.
            for _ in range(5):
                assert http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"]
    finally:
        server.stop()


def test_a_busy_answer_says_when_to_retry(built_store, tmp_path):
    """One long slot: while a long query holds it, another query that runs long is stopped at
    once, and a query of the same shape as one that ran long waits a bounded time for the slot;
    both get 503 with Retry-After, and short queries are answered all along."""
    store = _copy(built_store, tmp_path / "store")
    server = Server(
        store, tmp_path / "server.log", query_workers=2, max_long_queries=1, query_timeout=8,
        long_query_after=0.3, queue_wait=1,
    ).start()  # fmt: skip
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . FILTER(STR(?c) < STR(?f)) }"
    other = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?c }"
    try:
        with httpx.Client(base_url=server.url, timeout=30) as first, server.client() as http:
            results = {}
            thread = threading.Thread(
                target=lambda: results.setdefault(
                    "first", first.get("/sparql", params={"query": runaway})
                )
            )
            thread.start()
            time.sleep(1.0)  # the first is long by now, and holds the only long slot
            stopped = http.get("/sparql", params={"query": other})
            assert stopped.status_code == 503
            assert "long queries were running" in stopped.text
            assert int(stopped.headers["retry-after"]) >= 1
            # The same shape as the first (another comment, other numbers) waits for the slot.
            same = http.get("/sparql", params={"query": runaway + " # again"})
            assert same.status_code == 503
            assert "ran long lately" in same.text
            assert int(same.headers["retry-after"]) >= 1
            assert http.get("/sparql", params={"query": "ASK {}"}).status_code == 200
            thread.join(30)
            assert results["first"].status_code == 503  # stopped by the time bound
            assert "time limit" in results["first"].text
    finally:
        server.stop()


def test_ordinary_clients_keep_their_share_while_others_loop_a_runaway_query(built_store, tmp_path):
    """The starvation scenario at a small scale (bench/attack.py runs it at full scale): the
    ordinary clients' throughput with attackers beside them, against their throughput alone."""
    store = _copy(built_store, tmp_path / "store")
    server = Server(store, tmp_path / "server.log").start()
    try:
        figures = attack.measure(server.url, seconds=8, ordinary=4, attackers=2)
    finally:
        server.stop()
    attacked = figures["attacked"]
    assert attacked["server_errors"] == 0, figures
    assert attacked["ok"] > 0, figures
    # The attackers were really there: each of their queries was stopped or refused.
    assert sum(attacked["attacker_answers"].values()) > 0, figures
    assert figures["ratio"] >= 0.5, figures
