"""Cite and share: every decision, article and meeting page offers a citation (plain text, BibTeX
and CSL-JSON) with its stable IRI and its official source, and the pages print cleanly."""

from __future__ import annotations

import html
import json
import re

import pytest

ID = "https://w3id.org/treatygraph/id/"
OFFICIAL = re.compile(
    r"https?://(www\.)?(basel\.int|pic\.int|pops\.int|mercuryconvention\.org|brsmeas\.org|"
    r"treaties\.un\.org|[\w.]*un\.org|[\w.]*unep\.org)/"
)


def sources_of(http, path: str) -> set[str]:
    data = http.get(f"/id/{path}", headers={"Accept": "application/ld+json"}).json()
    graph = data.get("@graph", [data]) if isinstance(data, dict) else data
    found = set()
    for node in graph:
        if node.get("@id") != ID + path:
            continue
        for key, values in node.items():
            if (
                key.endswith(("source", "dcterms:source"))
                or key == "http://purl.org/dc/terms/source"
            ):
                for value in values if isinstance(values, list) else [values]:
                    found.add(value["@id"] if isinstance(value, dict) else value)
    return found


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("decision/BC-16/21", "legislation"),
        ("minamata/article/11", "legislation"),
        ("basel/meeting/cop-16", "event"),
    ],
)
def test_the_page_offers_a_citation_with_the_stable_iri_and_official_source(http, path, kind):
    page = http.get(f"/id/{path}", headers={"Accept": "text/html"}).text
    assert 'id="cite"' in page
    text = html.unescape(re.search(r'<p class="citation"[^>]*>(.*?)</p>', page, re.S).group(1))
    assert ID + path in text
    sources = sources_of(http, path)
    assert sources, "the resource names no source"
    named = re.search(r"Official source: (\S+)\.$", text.strip())
    assert named and named.group(1) in sources
    official = [s for s in sources if OFFICIAL.match(s)]
    if official:  # an official page is preferred to a copy hosted elsewhere
        assert named.group(1) in official
    # BibTeX and CSL-JSON: on the page and as downloads, with the same IRI and source.
    bibtex = http.get(f"/cite/{path}", params={"format": "bibtex"})
    assert bibtex.headers["content-type"].startswith("application/x-bibtex")
    assert re.match(r"@misc\{treatygraph-[\w-]+,\n", bibtex.text)
    assert f"url = {{{named.group(1)}}}" in bibtex.text
    assert ID + path in bibtex.text
    assert bibtex.text.count("{") == bibtex.text.count("}")
    assert html.escape(bibtex.text.strip(), quote=False) in page
    csl = http.get(f"/cite/{path}", params={"format": "csl"})
    assert csl.headers["content-type"].startswith("application/vnd.citationstyles.csl+json")
    item = csl.json()[0]
    assert item["id"] == ID + path and item["type"] == kind
    assert item["URL"] == named.group(1) and item["title"]
    on_page = re.search(r'<pre id="citation-csl">(.*?)</pre>', page, re.S).group(1)
    assert json.loads(html.unescape(on_page)) == [item]
    plain = http.get(f"/cite/{path}").text.strip()
    assert plain == text.strip()


def test_a_decision_is_cited_with_its_symbol_its_conference_and_a_date(http):
    item = http.get("/cite/decision/BC-16/21", params={"format": "csl"}).json()[0]
    assert item["number"] == "BC-16/21"
    assert item["author"] == [{"literal": "Conference of the Parties to the Basel Convention"}]
    meeting = http.get("/api/meetings", params={"convention": "basel", "year": 2023}).json()
    dates = {m["startDate"] for m in meeting["items"]} | {m["endDate"] for m in meeting["items"]}
    issued = "-".join(f"{p:02d}" for p in item["issued"]["date-parts"][0])
    assert issued[:4] == "2023" and (issued in dates or issued.startswith("2023-"))


def test_citations_of_unknown_resources_are_404(http):
    assert http.get("/cite/decision/XX-99/99").status_code == 404
    assert http.get("/cite/minamata", params={"format": "mla"}).status_code == 422


def test_pages_print_cleanly(http):
    css = http.get("/static/style.css").text
    block = css[css.index("@media print") :]
    for hidden in ("header", "footer", "form", ".linkmap-section", ".yasgui-host"):
        assert hidden in block.split("{", 2)[1]
    assert "display: none" in block
    assert 'content: " <" attr(href) ">"' in block  # the official source is printed in full
