"""The SPARQL 1.1 Protocol on a real server: methods, formats, negotiation, errors, CORS."""

from __future__ import annotations

import csv
import io
import json
import re

import pyoxigraph as ox
import pytest
import rdflib

SELECT = (
    "PREFIX tg: <https://w3id.org/treatygraph/ontology#> "
    "SELECT ?c WHERE { ?c a tg:Convention } ORDER BY ?c"
)
ASK = "ASK { <https://w3id.org/treatygraph/id/minamata> ?p ?o }"
CONSTRUCT = (
    "CONSTRUCT { <https://w3id.org/treatygraph/id/minamata> ?p ?o } "
    "WHERE { <https://w3id.org/treatygraph/id/minamata> ?p ?o }"
)
MINAMATA = "https://w3id.org/treatygraph/id/minamata"


def conventions(answer) -> list[str]:
    return [b["c"]["value"] for b in answer.json()["results"]["bindings"]]


def test_get_post_form_and_post_direct_give_the_same_answer(http):
    by_get = http.get("/sparql", params={"query": SELECT})
    by_form = http.post("/sparql", data={"query": SELECT})
    by_direct = http.post(
        "/sparql", content=SELECT, headers={"Content-Type": "application/sparql-query"}
    )
    for answer in (by_get, by_form, by_direct):
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/sparql-results+json")
    assert MINAMATA in conventions(by_get)
    assert conventions(by_get) == conventions(by_form) == conventions(by_direct)


@pytest.mark.parametrize(
    "accept",
    [
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
    ],
)
def test_select_in_each_result_format(http, accept):
    answer = http.get("/sparql", params={"query": SELECT}, headers={"Accept": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] == accept
    if accept == "text/csv":
        rows = list(csv.DictReader(io.StringIO(answer.text)))
        assert MINAMATA in [r["c"] for r in rows]
    else:
        fmt = {
            "application/sparql-results+json": ox.QueryResultsFormat.JSON,
            "application/sparql-results+xml": ox.QueryResultsFormat.XML,
            "text/tab-separated-values": ox.QueryResultsFormat.TSV,
        }[accept]
        parsed = ox.parse_query_results(answer.content, format=fmt)
        assert ox.NamedNode(MINAMATA) in [s["c"] for s in parsed]


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
        ("application/trig", "trig"),
        ("application/n-quads", "nquads"),
    ],
)
def test_construct_in_each_rdf_format(http, accept, rdflib_format):
    answer = http.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"].split(";")[0] == accept
    graph = rdflib.Dataset() if rdflib_format in ("trig", "nquads") else rdflib.Graph()
    graph.parse(data=answer.content, format=rdflib_format)
    subjects = (
        {str(s) for s, *_ in graph.quads()}
        if isinstance(graph, rdflib.Dataset)
        else {str(s) for s in graph.subjects()}
    )
    assert subjects == {MINAMATA}


def test_ask_in_json_and_xml(http):
    answer = http.get("/sparql", params={"query": ASK})
    assert answer.json()["boolean"] is True
    xml = http.get(
        "/sparql", params={"query": ASK}, headers={"Accept": "application/sparql-results+xml"}
    )
    assert "<boolean>true</boolean>" in xml.text


def test_accept_q_values_choose_the_preferred_type(http):
    accept = "application/sparql-results+json;q=0.5, text/csv;q=0.9, */*;q=0.1"
    answer = http.get("/sparql", params={"query": SELECT}, headers={"Accept": accept})
    assert answer.headers["content-type"].startswith("text/csv")
    refuse_json = "application/sparql-results+json;q=0, application/sparql-results+xml"
    answer = http.get("/sparql", params={"query": SELECT}, headers={"Accept": refuse_json})
    assert answer.headers["content-type"].startswith("application/sparql-results+xml")


def test_format_parameter_overrides_accept(http):
    answer = http.get(
        "/sparql", params={"query": SELECT, "format": "tsv"}, headers={"Accept": "text/html"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/tab-separated-values")


def test_nothing_acceptable_is_406(http):
    answer = http.get("/sparql", params={"query": SELECT}, headers={"Accept": "image/png"})
    assert answer.status_code == 406
    answer = http.get("/sparql", params={"query": CONSTRUCT}, headers={"Accept": "text/csv"})
    assert answer.status_code == 406


def test_default_and_named_graph_parameters_are_honoured(http):
    graph = "https://w3id.org/treatygraph/graph/ontology/treatygraph.ttl"
    query = "ASK { <https://w3id.org/treatygraph/ontology#Article> ?p ?o }"
    inside = http.get("/sparql", params={"query": query, "default-graph-uri": graph})
    assert inside.json()["boolean"] is True
    elsewhere = http.get(
        "/sparql",
        params={"query": query, "default-graph-uri": "https://w3id.org/treatygraph/graph/x"},
    )
    assert elsewhere.json()["boolean"] is False
    named = http.get(
        "/sparql",
        params={
            "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
            "named-graph-uri": graph,
        },
    )
    assert [b["g"]["value"] for b in named.json()["results"]["bindings"]] == [graph]


def test_service_description_is_turtle_with_the_endpoint(http, server):
    answer = http.get("/sparql")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=answer.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    endpoints = {str(o) for o in graph.objects(None, sd.endpoint)}
    assert endpoints == {f"{server.url}/sparql"}
    # read-only: no update language advertised
    assert (None, sd.supportedLanguage, sd.SPARQL11Update) not in graph
    as_jsonld = http.get("/sparql", headers={"Accept": "application/ld+json"})
    assert as_jsonld.headers["content-type"].startswith("application/ld+json")
    assert len(rdflib.Graph().parse(data=as_jsonld.text, format="json-ld")) == len(graph)


def test_void_describes_the_dataset_and_is_linked(http):
    description = rdflib.Graph().parse(data=http.get("/sparql").text, format="turtle")
    void_url = next(
        str(o) for o in description.objects(None, rdflib.RDFS.seeAlso) if "void" in str(o)
    )
    answer = http.get(void_url)
    assert answer.status_code == 200
    graph = rdflib.Graph().parse(data=answer.text, format="turtle")
    void = rdflib.Namespace("http://rdfs.org/ns/void#")
    triples = [int(o) for s, o in graph.subject_objects(void.triples) if "#dataset" in str(s)]
    assert triples and triples[0] > 1000
    assert (None, void.uriSpace, rdflib.Literal("https://w3id.org/treatygraph/id/")) in graph


def test_cors_allows_cross_origin_reads(http):
    answer = http.get("/sparql", params={"query": ASK}, headers={"Origin": "https://example.org"})
    assert answer.headers["access-control-allow-origin"] == "*"
    preflight = http.options(
        "/sparql",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]


@pytest.mark.parametrize(
    ("method", "kwargs", "status"),
    [
        ("GET", {"params": [("query", "ASK {}"), ("query", "ASK {}")]}, 400),
        ("GET", {"params": {"update": "CLEAR ALL"}}, 400),
        ("PUT", {"params": {"query": "ASK {}"}}, 405),
        ("POST", {"content": "ASK {}", "headers": {"Content-Type": "text/plain"}}, 415),
        ("POST", {"content": "query=ASK%20%7B%7D"}, 415),
        (
            "POST",
            {
                "content": "ASK {}".encode("utf-16"),
                "headers": {"Content-Type": "application/sparql-query; charset=UTF-16"},
            },
            415,
        ),
        (
            "POST",
            {"content": b"ASK { \xff }", "headers": {"Content-Type": "application/sparql-query"}},
            400,
        ),
        ("POST", {"data": {"query": "ASK {}", "update": "CLEAR ALL"}}, 400),
        ("POST", {"data": {"nothing": "here"}}, 400),
        ("GET", {"params": {"query": "SELECT * WHERE { ?s ?p }"}}, 400),
        ("GET", {"params": {"query": "DROP ALL"}}, 400),
        ("GET", {"params": {"query": "SELECT * { ?s ?p ?o }", "format": "png"}}, 406),
        (
            "GET",
            {
                "params": {
                    "query": "SELECT * { ?s ?p ?o } LIMIT 1",
                    "default-graph-uri": "not an iri",
                }
            },
            400,
        ),
        ("GET", {"params": {"query": "\x00\x01"}}, 400),
    ],
)
def test_bad_requests_get_4xx_never_500(http, method, kwargs, status):
    answer = http.request(method, "/sparql", **kwargs)
    assert answer.status_code == status, answer.text
    assert answer.text.strip()


def test_syntax_error_names_the_position(http):
    answer = http.get("/sparql", params={"query": "SELECT * WHERE {\n  ?s ?p \n}"})
    assert answer.status_code == 400
    assert "not valid SPARQL" in answer.text
    assert any(ch.isdigit() for ch in answer.text)


def test_body_over_the_limit_is_413(http):
    big = "ASK {} #" + "x" * 200_000
    answer = http.post("/sparql", content=big, headers={"Content-Type": "application/sparql-query"})
    assert answer.status_code == 413


def test_updates_are_refused_without_a_configured_token(http):
    for answer in (
        http.post("/sparql", data={"update": "CLEAR ALL"}),
        http.post(
            "/sparql",
            content="CLEAR ALL",
            headers={"Content-Type": "application/sparql-update", "Authorization": "Bearer x"},
        ),
        http.post("/update", data={"update": "CLEAR ALL"}),
        http.put(
            "/rdf-graphs/service",
            params={"graph": "http://example.org/g"},
            content="<http://a> <http://b> <http://c> .",
            headers={"Content-Type": "text/turtle"},
        ),
    ):
        assert answer.status_code == 403
    # and nothing was cleared
    assert http.get("/sparql", params={"query": ASK}).json()["boolean"] is True


def test_json_results_are_well_formed_sparql_json(http):
    answer = http.get("/sparql", params={"query": "SELECT ?x WHERE { BIND(1 AS ?x) }"})
    body = json.loads(answer.content)
    assert body["head"]["vars"] == ["x"]
    assert body["results"]["bindings"][0]["x"]["value"] == "1"


def test_a_browser_gets_a_query_form_and_other_clients_the_description(http):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = http.get("/sparql", headers={"Accept": browser})
    assert page.headers["content-type"].startswith("text/html")
    # A form a person can send without the editor's script: a textarea named query.
    assert re.search(r'<textarea[^>]*\bname="query"', page.text)
    for accept in (None, "*/*"):
        headers = {"Accept": accept} if accept else {}
        assert (
            http.get("/sparql", headers=headers).headers["content-type"].startswith("text/turtle")
        )
