"""SPARQL dataset semantics as the standards say, through the endpoint and the CLI.

SPARQL 1.1 Query (13.2) and Protocol (2.1.4): FROM / FROM NAMED in the query define its dataset;
the protocol's default-graph-uri / named-graph-uri replace it when given; with neither, the
service's own default applies (here: the default graph is the union of all graphs). A dataset
given with only named graphs has an empty default graph, and the other way round.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BASE = "https://w3id.org/treatygraph/graph/data/"
CONVENTION = BASE + "basel/convention.ttl"
MEETINGS = BASE + "basel/meetings.ttl"
COUNT = "SELECT (COUNT(*) AS ?n) {} WHERE {{ ?s ?p ?o }}"
GRAPHS = "SELECT DISTINCT ?g {} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"


def count(http, query: str, **params) -> int:
    answer = http.post("/sparql", data={"query": query, **params})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


def graphs(http, query: str, **params) -> set[str]:
    answer = http.post("/sparql", data={"query": query, **params})
    assert answer.status_code == 200, answer.text
    return {b["g"]["value"] for b in answer.json()["results"]["bindings"]}


def in_graph(http, graph: str) -> int:
    return count(http, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")


def test_from_defines_the_default_graph(http):
    own = in_graph(http, CONVENTION)
    assert 0 < own < count(http, COUNT.format(""))
    assert count(http, COUNT.format(f"FROM <{CONVENTION}>")) == own
    both = count(http, COUNT.format(f"FROM <{CONVENTION}> FROM <{MEETINGS}>"))
    assert both == own + in_graph(http, MEETINGS)


def test_the_protocol_dataset_replaces_the_query_dataset(http):
    own = in_graph(http, CONVENTION)
    assert count(http, COUNT.format(""), **{"default-graph-uri": CONVENTION}) == own
    replaced = count(http, COUNT.format(f"FROM <{MEETINGS}>"), **{"default-graph-uri": CONVENTION})
    assert replaced == own


def test_named_graphs_only_leave_the_default_graph_empty(http):
    assert count(http, COUNT.format(f"FROM NAMED <{CONVENTION}>")) == 0
    assert graphs(http, GRAPHS.format(f"FROM NAMED <{CONVENTION}>")) == {CONVENTION}
    assert count(http, COUNT.format(""), **{"named-graph-uri": CONVENTION}) == 0
    assert graphs(http, GRAPHS.format(""), **{"named-graph-uri": CONVENTION}) == {CONVENTION}


def test_default_graphs_only_leave_no_named_graphs(http):
    assert graphs(http, GRAPHS.format(""), **{"default-graph-uri": CONVENTION}) == set()
    assert graphs(http, GRAPHS.format(f"FROM <{CONVENTION}>")) == set()


def test_without_a_dataset_every_graph_is_named_and_the_default_is_their_union(http):
    every = graphs(http, GRAPHS.format(""))
    assert {CONVENTION, MEETINGS} <= every
    assert count(http, COUNT.format("")) >= max(in_graph(http, g) for g in (CONVENTION, MEETINGS))


@pytest.mark.parametrize("dataset", ["", f"FROM <{CONVENTION}>", f"FROM NAMED <{CONVENTION}>"])
def test_the_cli_answers_as_the_endpoint(http, built_store: Path, dataset):
    query = COUNT.format(dataset)
    script = Path(sys.executable).with_name("treatygraph")
    answer = subprocess.run(
        [str(script), "query", query, "--format", "json", "--store", str(built_store)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stderr
    rows = json.loads(answer.stdout)
    assert int(rows[0]["n"]) == count(http, query)
