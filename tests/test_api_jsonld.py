"""The JSON API's answers are lossless JSON-LD: expanded through the static context document
(with pyld, the context loaded from the server itself), every field of the JSON becomes a
statement, and the statements about the graph's resources are the graph's (checked at /sparql).
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
import rdflib

pyld = pytest.importorskip("pyld")
from pyld import jsonld  # noqa: E402

ID = "https://w3id.org/treatygraph/id/"
TG = "https://w3id.org/treatygraph/ontology#"
TGAPI = "https://w3id.org/treatygraph/api#"
HYDRA = "http://www.w3.org/ns/hydra/core#"
DCTERMS = "http://purl.org/dc/terms/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"

# Every JSON answer of the API (a request for each route, with real ids).
ENDPOINTS = [
    "/api/conventions",
    "/api/conventions/minamata",
    "/api/conventions/minamata/articles?limit=40",
    "/api/conventions/stockholm/annexes",
    "/api/articles/minamata/11",
    "/api/articles/minamata/3",
    "/api/provisions/stockholm/annex/A",
    "/api/provisions/minamata/article/11/paragraph/1",
    "/api/meetings?limit=60",
    "/api/decisions?limit=60",
    "/api/guidelines?limit=40",
    "/api/links?limit=60",
    "/api/search?q=mercury&limit=40",
    "/api/queries",
    "/api/parties?limit=60",
    "/api/parties/JPN",
    "/api/parties/EUE",
    "/api/instruments",
    "/api/instruments/minamata/parties?at=2024-01-01&limit=60",
    "/api/gaps?party-to=basel&not-party-to=minamata&at=2024-06-01&limit=60",
    "/api/disagreements?limit=60",
]
# Statements the API itself makes (not the graph's): page structure, short ids, the API's own
# terms; and the graph's facts reached by another path than the JSON field's term.
MINTED = (TGAPI, HYDRA, DCTERMS + "identifier")
PATHS = {
    TG + "convention": "tg:convention|(tg:meetingOf/tg:bodyOf)",  # a meeting's, from its body
    DCTERMS + "description": "dcterms:description|rdfs:comment",  # provisions use rdfs:comment
    # A guideline version's date: its own, else its decision's, else its meeting's last day.
    TG + "dateAdopted": "tg:dateAdopted|(tg:adoptedBy/tg:dateAdopted)"
    "|((tg:adoptedAt|(tg:adoptedBy/tg:adoptedAt))/tg:endDate)",
}
NOT_IN_THE_GRAPH = {"/api/queries"}  # the named queries are files, not resources of the graph
PREFIXES = f"""PREFIX tg: <{TG}>
PREFIX rdfs: <{RDFS}>
PREFIX dcterms: <{DCTERMS}>
"""


@pytest.fixture(scope="module")
def expand(server, http):
    """Expand a JSON answer with pyld; contexts are loaded from this server only."""

    def loader(url, options=None):
        assert url.startswith(server.url + "/"), f"a context from elsewhere: {url}"
        answer = http.get(url[len(server.url) :])
        assert answer.status_code == 200, url
        return {
            "contentType": answer.headers["content-type"].split(";")[0],
            "contextUrl": None,
            "documentUrl": url,
            "document": answer.json(),
        }

    def run(document: dict) -> list:
        return jsonld.expand(document, {"documentLoader": loader})

    def to_graph(document: dict) -> rdflib.Graph:
        nquads = jsonld.to_rdf(
            document, {"format": "application/n-quads", "documentLoader": loader}
        )
        return rdflib.Graph().parse(data=nquads, format="nt")

    run.to_graph = to_graph
    return run


@pytest.fixture(scope="module")
def context(http) -> dict:
    return http.get("/api/context.jsonld").json()["@context"]


def json_literals(context: dict) -> set[str]:
    return {k for k, v in context.items() if isinstance(v, dict) and v.get("@type") == "@json"}


def terms(context: dict) -> set[str]:
    """Every term of the context, those of its scoped contexts included."""
    found = set()
    for key, value in context.items():
        found.add(key)
        if isinstance(value, dict) and isinstance(value.get("@context"), dict):
            found |= terms(value["@context"])
    return found


def json_fields(value, literal: set[str], keys: set[str] | None = None) -> int:
    """How many statements the JSON should make: one per field value (each list item counts;
    null and @-keywords do not; `iri` names the node), and those of the nested objects."""
    if not isinstance(value, dict):
        return 0
    count = 0
    for key, field in value.items():
        if key.startswith("@") or key == "iri" or field is None:
            continue
        if keys is not None:
            keys.add(key)
        for item in field if isinstance(field, list) else [field]:
            count += 1
            if isinstance(item, dict) and key not in literal:
                count += json_fields(item, literal, keys)
    return count


def expanded_values(node) -> int:
    """How many property values an expanded node has (reverse ones included), nested too."""
    if not isinstance(node, dict) or "@value" in node:
        return 0
    count = 0
    for key, values in node.items():
        if key == "@reverse":
            for reverse in values.values():
                count += sum(1 + expanded_values(item) for item in reverse)
        elif not key.startswith("@"):
            count += sum(1 + expanded_values(item) for item in values)
    return count


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_answer_names_the_context(http, server, path):
    answer = http.get(path)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json()["@context"] == f"{server.url}/api/context.jsonld"


def test_every_json_route_of_the_api_is_covered(http):
    """ENDPOINTS asks every GET route under /api that answers JSON (the context aside)."""
    spec = http.get("/openapi.json").json()
    routes = {path for path in spec["paths"] if path.startswith("/api/")} - {"/api/context.jsonld"}
    asked = {path.split("?")[0] for path in ENDPOINTS}

    def matches(route: str, path: str) -> bool:
        head, _, _ = route.partition("{")
        tail = route.rsplit("}", 1)[-1] if "{" in route else ""
        if "{" not in route:
            return route == path
        return path.startswith(head) and path.endswith(tail) and len(path) > len(head + tail)

    for route in routes:
        assert any(matches(route, path) for path in asked), route


@pytest.mark.parametrize("path", ENDPOINTS)
def test_every_field_becomes_a_statement(http, expand, context, path):
    """Nothing is dropped: each field is a term of the context, and expanding the answer gives
    exactly one property value per field value."""
    document = http.get(path).json()
    literal = json_literals(context)
    keys: set[str] = set()
    expected = json_fields(document, literal, keys)
    undefined = keys - terms(context)
    assert not undefined, f"fields the context does not map: {sorted(undefined)}"
    expanded = expand(document)
    assert len(expanded) == 1
    assert expanded_values(expanded[0]) == expected


def test_a_party_expands_to_its_codes_region_wikidata_and_status(http, expand):
    graph = expand.to_graph(http.get("/api/parties/JPN").json())
    japan = rdflib.URIRef(ID + "party/JPN")
    for term, value in [
        ("iso3", "JPN"),
        ("iso2", "JP"),
        ("m49", "392"),
        ("region", "Asia"),
        ("formalName", "Japan"),
    ]:
        assert str(graph.value(japan, rdflib.URIRef(TG + term))) == value, term
    assert (
        japan,
        rdflib.SKOS.exactMatch,
        rdflib.URIRef("http://www.wikidata.org/entity/Q17"),
    ) in graph
    statuses = list(graph.objects(japan, rdflib.URIRef(TGAPI + "status")))
    assert len(statuses) > 5
    minamata = [
        s
        for s in statuses
        if (s, rdflib.URIRef(TG + "onInstrument"), rdflib.URIRef(ID + "minamata")) in graph
    ]
    in_force = {str(graph.value(s, rdflib.URIRef(TGAPI + "inForce"))) for s in minamata}
    assert "2017-08-16" in in_force


def test_links_and_search_hits_are_valid_json_ld(http, expand):
    """A link's `type` is the predicate of an rdf:Statement; a hit's `type` is its rdf:type."""
    links = expand.to_graph(http.get("/api/links", params={"type": "cooperatesWith"}).json())
    statements = list(links.subjects(rdflib.RDF.type, rdflib.RDF.Statement))
    assert statements
    for statement in statements:
        assert links.value(statement, rdflib.RDF.predicate) == rdflib.URIRef(TG + "cooperatesWith")
        assert links.value(statement, rdflib.RDF.subject) is not None
        assert links.value(statement, rdflib.RDF.object) is not None
    hits = expand.to_graph(http.get("/api/search", params={"q": "Minamata Convention"}).json())
    assert (
        rdflib.URIRef(ID + "minamata"),
        rdflib.RDF.type,
        rdflib.URIRef(TG + "Convention"),
    ) in hits


def test_dates_and_codes_of_gaps_and_disagreements_are_kept(http, expand):
    gaps = http.get(
        "/api/gaps", params={"party-to": "basel", "not-party-to": "minamata", "at": "2024-06-01"}
    ).json()
    graph = expand.to_graph(gaps)
    first = gaps["items"][0]
    party = rdflib.URIRef(first["iri"])
    assert str(graph.value(party, rdflib.URIRef(TG + "iso3"))) == first["iso3"]
    since = graph.value(party, rdflib.URIRef(TGAPI + "inForceSince"))
    assert str(since) == first["inForceSince"] and since.datatype == rdflib.XSD.date
    answer = http.get("/api/disagreements", params={"instrument": "basel"}).json()
    graph = expand.to_graph(answer)
    dates = {
        (str(graph.value(node, rdflib.URIRef(TGAPI + "ieadbDate"))),
         str(graph.value(node, rdflib.URIRef(TGAPI + "ecolexDate"))))
        for node in graph.subjects(rdflib.RDF.type, rdflib.URIRef(TGAPI + "SourceDisagreement"))
    }  # fmt: skip
    assert ("2013-06-23", "2013-03-25") in dates  # Afghanistan's consent to Basel


def _missing(http, predicate: str, pairs: list[tuple]) -> list[tuple]:
    """The (subject, object) pairs the graph does not state with the predicate (literals
    compared by their text: the JSON does not carry language tags)."""
    path = PATHS.get(predicate, f"<{predicate}>")
    rows = " ".join(f"({s.n3()} {o.n3()})" for s, o in pairs)
    query = f"""{PREFIXES}SELECT ?s ?o WHERE {{
  VALUES (?s ?o) {{ {rows} }}
  FILTER NOT EXISTS {{ ?s {path} ?x . FILTER(sameTerm(?x, ?o) || (isLiteral(?x) && isLiteral(?o)
                       && STR(?x) = STR(?o))) }}
}}"""
    answer = http.post(
        "/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"}
    )
    assert answer.status_code == 200, answer.text[:300]
    return [(b["s"]["value"], b["o"]["value"]) for b in answer.json()["results"]["bindings"]]


@pytest.mark.parametrize("path", [p for p in ENDPOINTS if p not in NOT_IN_THE_GRAPH])
def test_the_statements_agree_with_the_graph(http, expand, path):
    """Every statement about a resource of the graph (labels, titles, dates, codes, links...)
    is one the graph makes; only the API's own statements (pages, short ids, tgapi: terms,
    blank nodes) are not looked up."""
    graph = expand.to_graph(http.get(path).json())
    by_predicate: dict[str, list[tuple]] = defaultdict(list)
    for s, p, o in graph:
        if isinstance(s, rdflib.BNode) or isinstance(o, rdflib.BNode):
            continue
        if str(p).startswith(MINTED):
            continue
        by_predicate[str(p)].append((s, o))
    assert by_predicate, "no statement about the graph's resources"
    missing = {}
    for predicate, pairs in by_predicate.items():
        for start in range(0, len(pairs), 200):
            absent = _missing(http, predicate, pairs[start : start + 200])
            if absent:
                missing[predicate] = absent[:5]
    assert not missing, json.dumps(missing, indent=1)


def test_descriptions_of_articles_paragraphs_and_decisions(http):
    article = http.get("/api/articles/minamata/3").json()
    described = [p for p in article["paragraphs"] if p["description"]]
    assert described, "a paragraph of Article 3 has an rdfs:comment"
    decisions = http.get("/api/decisions", params={"limit": 100}).json()["items"]
    assert any(d["description"] for d in decisions)
    convention = http.get("/api/conventions/minamata").json()
    assert "mercury" in convention["description"]
    for value, iri in [
        (described[0]["description"], described[0]["iri"]),
        (convention["description"], convention["iri"]),
    ]:
        query = (
            f"{PREFIXES}ASK {{ <{iri}> dcterms:description|rdfs:comment ?d . "
            f"FILTER(STR(?d) = {json.dumps(value)}) }}"
        )
        answer = http.get(
            "/sparql",
            params={"query": query},
            headers={"Accept": "application/sparql-results+json"},
        )
        assert answer.json()["boolean"] is True


def test_the_context_is_static_and_versioned(http):
    answer = http.get("/api/context.jsonld")
    assert answer.headers["content-type"].startswith("application/ld+json")
    document = answer.json()
    assert document["schema:version"] == "1"
    assert document["@context"]["@version"] == 1.1
    # Static: the same document whatever the request (no base, no host in it).
    assert "@base" not in document["@context"]
    assert "127.0.0.1" not in answer.text
