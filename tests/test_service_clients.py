"""Real SPARQL clients against the real server: SPARQLWrapper, rdflib's SPARQLStore, roqet."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import (
    CSV,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)

MINAMATA = "https://w3id.org/treatygraph/id/minamata"
SELECT = (
    "PREFIX tg: <https://w3id.org/treatygraph/ontology#> "
    "SELECT ?c WHERE { ?c a tg:Convention } ORDER BY ?c"
)
ASK = f"ASK {{ <{MINAMATA}> ?p ?o }}"
CONSTRUCT = f"CONSTRUCT {{ <{MINAMATA}> ?p ?o }} WHERE {{ <{MINAMATA}> ?p ?o }}"


def wrapper(server, method: str | None) -> SPARQLWrapper:
    client = SPARQLWrapper(f"{server.url}/sparql")
    client.setTimeout(30)
    if method == "form":
        client.setMethod(POST)
        client.setRequestMethod(URLENCODED)
    elif method == "direct":
        client.setMethod(POST)
        client.setRequestMethod(POSTDIRECTLY)
    return client


@pytest.mark.parametrize("method", [None, "form", "direct"])
@pytest.mark.parametrize("fmt", [JSON, XML, CSV])
def test_sparqlwrapper_select(server, method, fmt):
    client = wrapper(server, method)
    client.setQuery(SELECT)
    client.setReturnFormat(fmt)
    result = client.query().convert()
    if fmt == JSON:
        values = [b["c"]["value"] for b in result["results"]["bindings"]]
    elif fmt == XML:
        values = [u.firstChild.data for u in result.getElementsByTagName("uri")]
    else:
        values = result.decode().splitlines()[1:]
    assert MINAMATA in values


@pytest.mark.parametrize("method", [None, "form", "direct"])
def test_sparqlwrapper_ask_and_construct(server, method):
    client = wrapper(server, method)
    client.setQuery(ASK)
    client.setReturnFormat(JSON)
    assert client.query().convert()["boolean"] is True
    client = wrapper(server, method)
    client.setQuery(CONSTRUCT)
    client.setReturnFormat(TURTLE)
    graph = rdflib.Graph().parse(data=client.query().convert(), format="turtle")
    assert (rdflib.URIRef(MINAMATA), rdflib.RDFS.label, None) in graph
    client = wrapper(server, method)
    client.setQuery(CONSTRUCT)
    client.setReturnFormat(XML)
    graph = client.query().convert()
    assert (rdflib.URIRef(MINAMATA), rdflib.RDFS.label, None) in graph


@pytest.mark.parametrize("method", [None, "form", "direct"])
@pytest.mark.parametrize("fmt", [RDFXML, N3, TURTLE, XML, JSONLD, JSON])
def test_sparqlwrapper_every_graph_format(server, method, fmt):
    """SPARQLWrapper sends format=rdf+xml, n3, xml... beside its Accept header: each is served."""
    client = wrapper(server, method)
    client.setQuery(CONSTRUCT)
    client.setReturnFormat(fmt)
    result = client.query()
    body = result.response.read()
    media_type = result.info()["content-type"].split(";")[0]
    syntax = {
        "application/rdf+xml": "xml",
        "text/turtle": "turtle",
        "application/ld+json": "json-ld",
    }[media_type]
    graph = rdflib.Graph().parse(data=body, format=syntax)
    assert (rdflib.URIRef(MINAMATA), rdflib.RDFS.label, None) in graph


@pytest.mark.parametrize("method", [None, "form", "direct"])
@pytest.mark.parametrize("fmt", [TSV, CSV, JSON, XML])
def test_sparqlwrapper_every_results_format(server, method, fmt):
    client = wrapper(server, method)
    client.setQuery(SELECT)
    client.setReturnFormat(fmt)
    result = client.query()
    assert MINAMATA in result.response.read().decode()


@pytest.mark.parametrize("returnFormat", ["xml", "json"])
def test_rdflib_sparqlstore(server, returnFormat):
    store = SPARQLStore(f"{server.url}/sparql", returnFormat=returnFormat)
    graph = rdflib.Graph(store=store)
    rows = list(graph.query(SELECT))
    assert rdflib.URIRef(MINAMATA) in [row.c for row in rows]
    assert graph.query(ASK).askAnswer is True
    constructed = graph.query(CONSTRUCT).graph
    assert (rdflib.URIRef(MINAMATA), rdflib.RDFS.label, None) in constructed
    # SPARQLStore's own triple pattern access goes through the endpoint too
    labels = list(graph.objects(rdflib.URIRef(MINAMATA), rdflib.RDFS.label))
    assert labels
    store.close()


roqet = shutil.which("roqet")


@pytest.mark.skipif(roqet is None, reason="roqet not installed (scripts/system-deps.sh)")
@pytest.mark.parametrize(
    ("query", "results", "expect"),
    [
        (SELECT, "xml", f"<uri>{MINAMATA}</uri>"),
        (SELECT, "simple", MINAMATA),
        (SELECT, "csv", MINAMATA),
        (SELECT.replace("?c WHERE", "?c (STRLEN(STR(?c)) AS ?n) WHERE"), "tsv", MINAMATA),
    ],
)
def test_roqet(server, query, results, expect):
    """roqet asks for SPARQL XML and percent-encodes every letter of the query.

    rasqal 0.9.33 reads only variable-binding results from a protocol service (it reports an ASK
    answer or an RDF graph as an empty binding set even from a conforming response), so roqet
    round-trips SELECT here; ASK and CONSTRUCT go through the other clients.
    """
    completed = subprocess.run(
        [roqet, "-i", "sparql", "-p", f"{server.url}/sparql", "-r", results, "-e", query],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert expect in completed.stdout
