"""The JSON API: lists with pagination, one article with its links, filters, 422s, JSON-LD."""

from __future__ import annotations

import json

import pytest
import rdflib

ID = "https://w3id.org/treatygraph/id/"


def test_conventions_are_listed_with_iri_and_short_id(http):
    page = http.get("/api/conventions").json()
    assert page["total"] >= 4
    by_id = {item["id"]: item for item in page["items"]}
    assert {"basel", "rotterdam", "stockholm", "minamata"} <= set(by_id)
    assert by_id["minamata"]["iri"] == ID + "minamata"
    assert page["@context"].endswith("/api/context.jsonld")
    assert http.get("/api/conventions/minamata").json()["iri"] == ID + "minamata"
    assert http.get("/api/conventions/nowhere").status_code == 404


def test_pagination_limit_offset_total(http):
    first = http.get("/api/conventions/minamata/articles", params={"limit": 5}).json()
    second = http.get("/api/conventions/minamata/articles", params={"limit": 5, "offset": 5}).json()
    assert first["total"] == second["total"] >= 10
    assert len(first["items"]) == 5
    assert [i["number"] for i in first["items"]] == ["1", "2", "3", "4", "5"]
    assert not {i["iri"] for i in first["items"]} & {i["iri"] for i in second["items"]}


def test_annexes_of_a_convention(http):
    page = http.get("/api/conventions/minamata/annexes").json()
    assert page["total"] >= 1
    assert all(item["iri"].startswith(ID + "minamata/annex/") for item in page["items"])


def test_one_article_with_paragraphs_and_links_across_conventions(http):
    article = http.get("/api/articles/minamata/11").json()
    assert article["iri"] == ID + "minamata/article/11"
    assert article["instrument"]["id"] == "minamata"
    assert [p["number"] for p in article["paragraphs"]][:3] == ["1", "2", "3"]
    for link in article["linksOut"] + article["linksIn"]:
        assert link["type"]["iri"].startswith("https://w3id.org/treatygraph/ontology#")
    # The article's own text (or its paragraphs') refers to the Basel Convention, where the data
    # has such a link; every link out names its target's convention when it has one.
    conventions = {(link["targetConvention"] or {}).get("id") for link in article["linksOut"]}
    targets_in_basel = http.get(
        "/api/links", params={"from": "minamata", "to": "basel", "limit": 1000}
    ).json()
    from_this_article = [
        link
        for link in targets_in_basel["items"]
        if link["source"]["id"].startswith("minamata/article/11")
    ]
    assert bool(from_this_article) == ("basel" in conventions)
    assert http.get("/api/articles/minamata/999").status_code == 404


def test_decisions_filter_by_convention_year_and_text(http):
    everything = http.get("/api/decisions", params={"limit": 1}).json()
    minamata = http.get("/api/decisions", params={"convention": "minamata", "limit": 1000}).json()
    assert 0 < minamata["total"] < everything["total"]
    assert all(any(c["id"] == "minamata" for c in d["conventions"]) for d in minamata["items"])
    some = minamata["items"][0]
    by_text = http.get("/api/decisions", params={"q": some["symbol"].lower()}).json()
    assert some["iri"] in [d["iri"] for d in by_text["items"]]
    if some["meeting"]:
        at_meeting = http.get(
            "/api/decisions", params={"meeting": some["meeting"]["id"], "limit": 1000}
        ).json()
        assert some["iri"] in [d["iri"] for d in at_meeting["items"]]
    dated = [d for d in minamata["items"] if d["dateAdopted"]]
    if dated:
        year = dated[0]["dateAdopted"][:4]
        in_year = http.get(
            "/api/decisions", params={"convention": "minamata", "year": year, "limit": 1000}
        ).json()
        assert dated[0]["iri"] in [d["iri"] for d in in_year["items"]]
    if some["topics"]:
        on_topic = http.get(
            "/api/decisions", params={"topic": some["topics"][0]["id"], "limit": 1000}
        ).json()
        assert some["iri"] in [d["iri"] for d in on_topic["items"]]


def test_meetings_and_guidelines(http):
    meetings = http.get("/api/meetings", params={"convention": "basel", "limit": 1000}).json()
    assert meetings["total"] > 0
    assert all(m["convention"]["id"] == "basel" for m in meetings["items"] if m["convention"])
    guidelines = http.get("/api/guidelines", params={"limit": 1000}).json()
    assert guidelines["total"] > 0
    with_versions = [g for g in guidelines["items"] if g["versions"]]
    assert with_versions
    assert all(v["iri"].startswith(g["iri"]) for g in with_versions for v in g["versions"])
    adopting = [v["decision"] for g in with_versions for v in g["versions"] if v["decision"]]
    assert adopting
    assert all(decision["id"].startswith("decision/") for decision in adopting)


def test_links_filter_by_type(http):
    links = http.get("/api/links", params={"type": "cooperatesWith", "limit": 1000}).json()
    assert all(link["type"]["id"] == "tg:cooperatesWith" for link in links["items"])
    for link in links["items"]:
        assert link["sourceConvention"]["iri"] != link["targetConvention"]["iri"]


def test_search_across_labels_and_symbols(http):
    hits = http.get("/api/search", params={"q": "Minamata Convention"}).json()
    assert ID + "minamata" in [h["iri"] for h in hits["items"]]


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/api/decisions", {"year": "abc"}, "year"),
        ("/api/decisions", {"limit": "0"}, "limit"),
        ("/api/decisions", {"offset": "-1"}, "offset"),
        ("/api/decisions", {"convention": "a b>"}, "convention"),
        ("/api/meetings", {"year": "12345"}, "year"),
        ("/api/search", {}, "q"),
        ("/api/search", {"q": "x" * 500}, "q"),
        ("/api/links", {"type": "<bad>"}, "type"),
    ],
)
def test_bad_parameters_get_422_naming_the_parameter(http, path, params, parameter):
    answer = http.get(path, params=params)
    assert answer.status_code == 422
    assert parameter in json.dumps(answer.json())


def test_the_json_is_linked_data_through_its_context(http):
    page = http.get("/api/conventions").text
    context = http.get("/api/context.jsonld").json()
    document = json.loads(page)
    document["@context"] = context["@context"]
    graph = rdflib.Graph().parse(data=json.dumps(document), format="json-ld")
    label = graph.value(rdflib.URIRef(ID + "minamata"), rdflib.RDFS.label)
    assert label is not None and "Minamata" in str(label)


def test_openapi_documents_the_api_with_response_models(http):
    spec = http.get("/openapi.json").json()
    assert "/api/decisions" in spec["paths"]
    assert "Decision" in spec["components"]["schemas"]


def test_any_provision_with_its_parts(http):
    annexes = http.get("/api/conventions/stockholm/annexes").json()["items"]
    assert annexes
    annex = http.get(f"/api/provisions/{annexes[0]['id']}").json()
    assert annex["iri"] == annexes[0]["iri"]
    assert all(part["iri"].startswith(annex["iri"] + "/") for part in annex["parts"])
    paragraph = http.get("/api/provisions/minamata/article/11/paragraph/1").json()
    assert paragraph["partOf"]["id"] == "minamata/article/11"
    assert http.get("/api/provisions/minamata/article/999").status_code == 404
    assert http.get("/api/provisions/a%20b/c").status_code == 422
