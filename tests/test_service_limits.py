"""Time and size bounds: a runaway query is stopped in time while others are answered meanwhile."""

from __future__ import annotations

import threading
import time

import httpx
from conftest import QUERY_TIMEOUT

# A cross product of all triples, several times over: would run for hours.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
MARGIN = 10.0


def test_a_runaway_query_is_stopped_while_other_requests_are_answered(server):
    outcome: dict = {}

    def run_slow():
        with server.client(timeout=QUERY_TIMEOUT + MARGIN + 30) as client:
            started = time.monotonic()
            outcome["answer"] = client.get("/sparql", params={"query": RUNAWAY})
            outcome["seconds"] = time.monotonic() - started

    slow = threading.Thread(target=run_slow)
    slow.start()
    answered_meanwhile = 0
    with server.client(timeout=QUERY_TIMEOUT + MARGIN) as client:
        time.sleep(0.5)
        while slow.is_alive() and answered_meanwhile < 20:
            quick = client.get("/api/conventions")
            assert quick.status_code == 200
            answered_meanwhile += 1
            time.sleep(0.1)
    slow.join(QUERY_TIMEOUT + MARGIN + 30)
    answer = outcome["answer"]
    assert answer.status_code == 503
    assert f"{QUERY_TIMEOUT:g} s time limit" in answer.text
    assert outcome["seconds"] < QUERY_TIMEOUT + MARGIN
    assert answered_meanwhile >= 1
    # and the service keeps answering queries after the worker was replaced
    with server.client() as client:
        again = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
        assert again.status_code == 200


def test_a_result_over_the_size_bound_is_refused_with_a_message(http):
    answer = http.get(
        "/sparql",
        params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/n-triples"},
    )
    assert answer.status_code == 400
    assert "larger than the bound" in answer.text


def test_clients_that_give_up_do_not_use_up_the_workers(server):
    for _ in range(3):
        with server.client(timeout=0.5) as impatient:
            try:
                impatient.get("/sparql", params={"query": RUNAWAY})
            except httpx.TimeoutException:
                pass
    # every runaway query is stopped at the bound, and the pool is whole again afterwards
    time.sleep(QUERY_TIMEOUT + 2)
    with server.client(timeout=QUERY_TIMEOUT + MARGIN) as client:
        for _ in range(4):
            assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200
