"""Content negotiation with q-values, wildcards and aliases (pure functions, no server)."""

from __future__ import annotations

import pytest

from treatygraph.api import negotiation as n

SOLUTIONS = n.SOLUTION_TYPES
GRAPHS = n.GRAPH_TYPES


@pytest.mark.parametrize(
    ("accept", "offered", "aliases", "expected"),
    [
        (None, SOLUTIONS, None, "application/sparql-results+json"),
        ("*/*", GRAPHS, None, "text/turtle"),
        ("text/*", SOLUTIONS, None, "text/csv"),
        ("text/csv;q=0.4, text/tab-separated-values;q=0.6", SOLUTIONS, None,
         "text/tab-separated-values"),
        ("application/json", SOLUTIONS, n.SOLUTION_ALIASES, "application/sparql-results+json"),
        ("application/sparql-results+xml", GRAPHS, n.GRAPH_ALIASES, "application/rdf+xml"),
        ("text/turtle;q=0, */*;q=0.1", GRAPHS, None, "application/n-triples"),
        ("image/png", SOLUTIONS, None, None),
        ("text/turtle;q=abc", GRAPHS, None, None),
        ("garbage", GRAPHS, None, "text/turtle"),
    ],
)  # fmt: skip
def test_choose(accept, offered, aliases, expected):
    assert n.choose(accept, offered, aliases) == expected


def test_format_names_depend_on_the_result_kind():
    assert n.from_format("xml", SOLUTIONS) == "application/sparql-results+xml"
    assert n.from_format("xml", GRAPHS) == "application/rdf+xml"
    assert n.from_format("ttl", GRAPHS) == "text/turtle"
    assert n.from_format("text/csv", SOLUTIONS) == "text/csv"
    assert n.from_format("png", SOLUTIONS) is None
