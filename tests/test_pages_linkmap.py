"""The link map: on every article, paragraph, decision, guideline and convention page, a picture
of its typed links in and out with a legend, drawn by Cytoscape.js (from npm, served by the
service) from a JSON route of the service; and the whole-graph view of the cooperation links
among the four conventions.

The map's data is checked against the JSON API's links, not against links written here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ID = "https://w3id.org/treatygraph/id/"
TG = "https://w3id.org/treatygraph/ontology#"
NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
needs_npm = pytest.mark.skipif(
    not (NODE_MODULES / "cytoscape").is_dir(), reason="node_modules missing (run make setup)"
)


def edges(data: dict) -> set[tuple[str, str, str]]:
    return {
        (e["data"]["source"], e["data"]["kind"], e["data"]["target"])
        for e in data["elements"]
        if "source" in e["data"]
    }


def nodes(data: dict) -> dict[str, dict]:
    return {e["data"]["id"]: e["data"] for e in data["elements"] if "source" not in e["data"]}


@pytest.mark.parametrize(
    "path",
    [
        "minamata/article/11",
        "minamata/article/11/paragraph/3",
        "decision/BC-16/21",
        "guideline/basel-mercury-wastes",
        "minamata",
    ],
)
def test_the_pages_that_show_a_map(http, path):
    page = http.get(f"/id/{path}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert f'data-src="/linkmap/{path}"' in page.text
    assert '<script src="/vendor/cytoscape/dist/cytoscape.min.js"></script>' in page.text
    assert '<script src="/static/linkmap.js"></script>' in page.text
    legend = re.findall(r'class="swatch line link-(\w+)"></span> ([^<]+)</li>', page.text)
    words = dict(legend)
    for kind, label in (
        ("refersTo", "refers to"),
        ("cooperatesWith", "cooperates with"),
        ("implements", "implements"),
        ("recalls", "recalls"),
        ("supersedes", "supersedes"),
        ("adoptedBy", "adopted by"),
        ("versionOf", "version of"),
    ):
        assert words.get(kind, "").strip() == label
    data = http.get(f"/linkmap/{path}")
    assert data.status_code == 200
    assert data.headers["content-type"].startswith("application/json")
    found = data.json()
    assert found["center"] == ID + path
    assert nodes(found)[ID + path]["center"] is True
    for kind in {k for _, k, _ in edges(found)}:
        assert f"link-{kind}" in page.text, kind  # every line drawn is in the legend


def test_a_meeting_or_party_page_has_no_map(http):
    for path in ("basel/meeting/cop-16", "party/JPN"):
        page = http.get(f"/id/{path}", headers={"Accept": "text/html"}).text
        assert "data-src=" not in page and "cytoscape" not in page


def test_the_article_map_holds_the_links_the_api_gives(http):
    article = http.get("/api/articles/minamata/11").json()
    found = http.get("/linkmap/minamata/article/11").json()
    drawn = edges(found)
    for link in article["linksOut"] + article["linksIn"]:
        kind = link["type"]["iri"].removeprefix(TG)
        assert (link["source"]["iri"], kind, link["target"]["iri"]) in drawn, link
    # Its paragraphs hang from it; every node links to its page, every node has a colour group.
    paragraphs = {p["iri"] for p in article["paragraphs"]}
    hanging = {s for s, k, t in drawn if k == "partOf" and t == ID + "minamata/article/11"}
    assert hanging and hanging <= paragraphs
    for node in nodes(found).values():
        assert node["href"].startswith("/id/")
        assert node["group"] in {
            "instrument",
            "provision",
            "decision",
            "guideline",
            "body",
            "other",
        }


def test_the_guideline_map_shows_its_versions_and_what_adopted_them(http):
    guideline = next(
        g
        for g in http.get("/api/guidelines", params={"limit": 500}).json()["items"]
        if g["id"] == "guideline/basel-mercury-wastes"
    )
    drawn = edges(http.get("/linkmap/guideline/basel-mercury-wastes").json())
    for version in guideline["versions"]:
        assert (version["iri"], "versionOf", guideline["iri"]) in drawn
        if version.get("decision"):
            assert (version["iri"], "adoptedBy", version["decision"]["iri"]) in drawn


def test_unknown_resources_have_no_map(http):
    assert http.get("/linkmap/minamata/article/999").status_code == 404
    assert http.get("/linkmap/").status_code == 404


def test_the_whole_graph_of_cooperation_among_the_conventions(http):
    page = http.get("/graph")
    assert page.status_code == 200
    assert 'data-src="/graph/data?type=cooperatesWith"' in page.text
    data = http.get("/graph/data", params={"type": "cooperatesWith"}).json()
    conventions = {n for n, d in nodes(data).items() if d["kind"] == "Convention"}
    assert conventions == {ID + c for c in ("basel", "rotterdam", "stockholm", "minamata")}
    links = []
    offset = 0
    while True:
        answer = http.get(
            "/api/links", params={"type": "cooperatesWith", "limit": 500, "offset": offset}
        ).json()
        links += answer["items"]
        offset += 500
        if offset >= answer["total"]:
            break
    counted: dict[tuple[str, str], int] = {}
    for link in links:
        a, b = (
            (link.get("sourceConvention") or {}).get("iri"),
            (link.get("targetConvention") or {}).get("iri"),
        )
        if a in conventions and b in conventions and a != b:
            counted[(a, b)] = counted.get((a, b), 0) + 1
    drawn = {
        (e["data"]["source"], e["data"]["target"]): int(e["data"]["label"])
        for e in data["elements"]
        if "source" in e["data"]
    }
    assert drawn == counted and drawn
    # Each arrow opens the list of its links, with the same number of rows.
    (a, b), n = next(iter(drawn.items()))
    edge = next(
        e for e in data["elements"] if e["data"].get("source") == a and e["data"]["target"] == b
    )
    listed = http.get(edge["data"]["href"]).text
    assert re.search(rf'<span class="n">{n}</span>', listed)
    assert http.get("/graph", params={"type": "nonsense"}).status_code == 422


@needs_npm
def test_the_libraries_come_from_node_modules_and_nothing_else_does(http):
    script = http.get("/vendor/cytoscape/dist/cytoscape.min.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert http.get("/vendor/@zazuko/yasgui/build/yasgui.min.js").status_code == 200
    assert http.get("/vendor/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200
    for path in (
        "/vendor/cytoscape/package.json",
        "/vendor/axe-core/axe.min.js",
        "/vendor/.gitignore",
        "/vendor/cytoscape/dist/../package.json",
        "/vendor/%2e%2e/package.json",
    ):
        assert http.get(path).status_code == 404, path
    assert http.post("/vendor/cytoscape/dist/cytoscape.min.js").status_code == 405
