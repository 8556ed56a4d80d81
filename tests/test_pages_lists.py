"""Browsing with facets: every filter in the address, lists that page and sort and say "N of M",
the coverage note under decisions, and the same list as CSV.

Each list is checked against the JSON API (or the named question) answering the same filters,
never against numbers written here.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from html.parser import HTMLParser

import pytest

from treatygraph import coverage, queries

ID = "https://w3id.org/treatygraph/id/"


class Tables(HTMLParser):
    """The tables of a page by id: each row a list of cells (text, and the links in it)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[dict]]] = {}
        self.heads: dict[str, list[str]] = {}
        self._table: str | None = None
        self._row: list[dict] | None = None
        self._cell: dict | None = None
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table" and attributes.get("id"):
            self._table = attributes["id"]
            self.tables[self._table] = []
            self.heads[self._table] = []
        elif self._table is None:
            return
        elif tag == "thead":
            self._in_head = True
        elif tag == "tbody":
            self._in_head = False
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"text": "", "links": []}
        elif tag == "a" and self._cell is not None:
            self._cell["links"].append(attributes.get("href"))

    def handle_endtag(self, tag):
        if self._table is None:
            return
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._cell["text"] = " ".join(self._cell["text"].split())
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._in_head:
                self.heads[self._table] = [c["text"] for c in self._row]
            else:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data


def tables(html: str) -> Tables:
    parser = Tables()
    parser.feed(html)
    return parser


def count_of(html: str) -> tuple[int, int]:
    """The "N of M" a list page states."""
    found = re.search(r'<span class="n">(\d+)</span> of <span class="m">(\d+)</span>', html)
    assert found, html[:3000]
    return int(found.group(1)), int(found.group(2))


def api_all(http, path: str, **params) -> list[dict]:
    items, offset = [], 0
    while True:
        page = http.get(path, params={**params, "limit": 500, "offset": offset}).json()
        items += page["items"]
        offset += 500
        if offset >= page["total"]:
            return items


def read_csv(answer) -> list[dict]:
    assert answer.status_code == 200, answer.text[:300]
    assert answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.text)))


# -- decisions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filters",
    [
        {"year": "2023"},
        {"topic": "topic/mercury-waste"},
        {"convention": "minamata", "year": "2023"},
        {"meeting": "basel/meeting/cop-16"},
        {"q": "cooperation"},
        {"convention": "stockholm", "topic": "topic/cooperation-and-coordination", "q": "basel"},
    ],
)
def test_every_decision_filter_is_applied_as_the_api_applies_it(http, filters):
    expected = api_all(http, "/api/decisions", **filters)
    page = http.get("/decisions", params={**filters, "per": 500})
    assert page.status_code == 200, page.text[:500]
    shown, overall = count_of(page.text)
    assert shown == len(expected)
    assert overall == http.get("/api/decisions", params={"limit": 1}).json()["total"]
    rows = tables(page.text).tables["list"]
    assert [row[0]["links"][0] for row in rows] == ["/id/" + d["id"] for d in expected]
    # The filters stay in the form (the list can be shared as its address).
    for name, value in filters.items():
        chosen = f'<option value="{value}" selected>' in page.text
        typed = re.search(rf'id="f-{name}" type="search" name="{name}" value="{value}"', page.text)
        assert chosen or typed, name


def test_year_and_topic_are_no_longer_ignored(http):
    every = count_of(http.get("/decisions").text)[0]
    of_2023 = count_of(http.get("/decisions", params={"year": "2023"}).text)[0]
    on_mercury = count_of(http.get("/decisions", params={"topic": "topic/mercury-waste"}).text)[0]
    assert 0 < of_2023 < every and 0 < on_mercury < every


def test_the_decisions_coverage_note_follows_the_filters(http):
    rows = http.get(
        "/sparql",
        params={"query": queries.get(coverage.QUERY).bind()},
        headers={"Accept": "application/sparql-results+json"},
    ).json()["results"]["bindings"]
    plain = [{k: v["value"] for k, v in row.items()} for row in rows]
    for filters in (
        {"year": "2023"},
        {"convention": "basel"},
        {"convention": "minamata", "year": "2023"},
    ):
        page = http.get("/decisions", params=filters)
        convention = ID + filters["convention"] if "convention" in filters else None
        if "year" in filters:
            expected = coverage.of_filters(plain, convention=convention, year=filters["year"])
        else:
            expected = coverage.of_convention(plain, convention)
        text = re.sub(r"\s+", " ", page.text)
        assert f"<strong>Coverage:</strong> {expected.sentence()}" in text.replace("&#39;", "'")


def test_decisions_page_and_sort(http):
    first = http.get("/decisions", params={"per": 25}).text
    second = http.get("/decisions", params={"per": 25, "page": 2}).text
    one, two = (tables(p).tables["list"] for p in (first, second))
    assert len(one) == len(two) == 25
    assert {r[0]["text"] for r in one}.isdisjoint({r[0]["text"] for r in two})
    assert "showing 26–50" in second
    assert 'rel="next"' in first and 'rel="prev"' in second
    # Newest first: the dates shown never increase.
    newest = tables(http.get("/decisions", params={"sort": "-date", "per": 100}).text)
    dates = [row[3]["text"] for row in newest.tables["list"] if row[3]["text"]]
    assert dates and dates == sorted(dates, reverse=True)
    assert 'aria-sort="descending"' in http.get("/decisions", params={"sort": "-date"}).text
    # Oldest first, by the column's link.
    oldest = tables(http.get("/decisions", params={"sort": "date", "per": 100}).text)
    dates = [row[3]["text"] for row in oldest.tables["list"] if row[3]["text"]]
    assert dates == sorted(dates)
    assert http.get("/decisions", params={"sort": "colour"}).status_code == 422
    assert http.get("/decisions", params={"per": "7"}).status_code == 422
    assert http.get("/decisions", params={"year": "twenty"}).status_code == 422


def test_decisions_as_csv_with_the_same_filters(http):
    filters = {"convention": "basel", "year": "2023"}
    expected = api_all(http, "/api/decisions", **filters)
    rows = read_csv(http.get("/decisions", params={**filters, "format": "csv"}))
    assert [r["Symbol"] for r in rows] == [d["symbol"] for d in expected]
    assert [r["Symbol IRI"] for r in rows] == [d["iri"] for d in expected]
    assert {"Title", "Meeting", "Meeting IRI", "Date", "Topics"} <= set(rows[0])
    page = http.get("/decisions", params=filters).text
    assert 'href="/decisions?convention=basel&amp;year=2023&amp;format=csv"' in page


# -- meetings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filters",
    [{"convention": "minamata"}, {"year": "2023"}, {"convention": "basel", "year": "2019"}],
)
def test_meetings_by_convention_and_year(http, filters):
    expected = api_all(http, "/api/meetings", **filters)
    page = http.get("/meetings", params=filters)
    assert page.status_code == 200
    shown, overall = count_of(page.text)
    assert shown == len(expected) > 0
    assert overall == http.get("/api/meetings", params={"limit": 1}).json()["total"]
    rows = tables(page.text).tables["list"]
    assert [r[0]["links"][0] for r in rows] == ["/id/" + m["id"] for m in expected]
    # Each meeting's decisions: the number recorded, linking to the list of them.
    for row, meeting in zip(rows, expected, strict=True):
        if meeting.get("coverage"):
            assert row[4]["text"] == str(meeting["coverage"]["recorded"])
            assert row[4]["links"] == [f"/decisions?meeting={meeting['id'].replace('/', '%2F')}"]
    csv_rows = read_csv(http.get("/meetings", params={**filters, "format": "csv"}))
    assert [r["Meeting IRI"] for r in csv_rows] == [m["iri"] for m in expected]


def test_meetings_sort_newest_first(http):
    rows = tables(http.get("/meetings", params={"sort": "-date", "per": 200}).text).tables["list"]
    starts = [r[1]["text"] for r in rows if r[1]["text"]]
    assert starts == sorted(starts, reverse=True)


# -- guidelines --------------------------------------------------------------------------------


def test_guidelines_with_their_versions(http):
    expected = api_all(http, "/api/guidelines")
    page = http.get("/guidelines", params={"per": 500})
    assert page.status_code == 200
    shown, overall = count_of(page.text)
    assert shown == overall == len(expected)
    rows = {r[0]["links"][0]: r for r in tables(page.text).tables["list"]}
    for guideline in expected:
        row = rows["/id/" + guideline["id"]]
        assert sorted(row[2]["links"]) == sorted("/id/" + v["id"] for v in guideline["versions"])
    by_convention = api_all(http, "/api/guidelines", convention="stockholm")
    page = http.get("/guidelines", params={"convention": "stockholm"})
    assert count_of(page.text) == (len(by_convention), len(expected))
    csv_rows = read_csv(http.get("/guidelines", params={"format": "csv"}))
    assert len(csv_rows) == len(expected) and "Versions IRI" in csv_rows[0]


# -- Parties -----------------------------------------------------------------------------------


def test_parties_is_a_page_with_status_per_convention_at_a_date(http):
    at = "2010-01-01"
    page = http.get("/parties", params={"at": at, "per": 500})
    assert page.status_code == 200
    shown, overall = count_of(page.text)
    assert shown == overall == http.get("/api/parties", params={"limit": 1}).json()["total"]
    found = tables(page.text)
    head = found.heads["list"]
    rows = {r[1]["text"]: r for r in found.tables["list"]}
    for convention in ("basel", "minamata"):
        bound = {p["iso3"] for p in api_all(http, f"/api/instruments/{convention}/parties", at=at)}
        column = head.index(f"{convention.capitalize()} (at the date)")
        marked = {code for code, row in rows.items() if row[column]["text"].startswith("Party")}
        assert marked == bound
    assert f'value="{at}"' in page.text  # the date stays in the form


def test_parties_bound_by_one_and_not_the_other(http):
    today = date.today().isoformat()
    expected = api_all(http, "/api/gaps", **{"party-to": "basel", "not-party-to": "minamata"})
    page = http.get("/parties", params={"party-to": "basel", "not-party-to": "minamata"})
    rows = tables(page.text).tables["list"]
    assert sorted(r[1]["text"] for r in rows) == sorted(p["iso3"] for p in expected)
    assert count_of(page.text)[0] == len(expected)
    assert f'value="{today}"' in page.text
    csv_rows = read_csv(
        http.get(
            "/parties", params={"party-to": "basel", "not-party-to": "minamata", "format": "csv"}
        )
    )
    assert sorted(r["ISO code"] for r in csv_rows) == sorted(p["iso3"] for p in expected)


def test_parties_filter_by_name_and_region(http):
    page = http.get("/parties", params={"q": "guinea"})
    expected = api_all(http, "/api/parties", q="guinea")
    assert count_of(page.text)[0] == len(expected) > 1
    region = expected[0]["region"]
    in_region = api_all(http, "/api/parties", region=region)
    assert count_of(http.get("/parties", params={"region": region}).text)[0] == len(in_region)
    names = [
        r[0]["text"]
        for r in tables(http.get("/parties", params={"sort": "-name"}).text).tables["list"]
    ]
    assert names == sorted(names, key=str.lower, reverse=True)
    assert http.get("/parties", params={"at": "last week"}).status_code == 422


# -- links between conventions ------------------------------------------------------------------


def test_links_between_conventions(http):
    filters = {"from": "minamata", "to": "basel", "type": "cooperatesWith"}
    expected = api_all(http, "/api/links", **filters)
    page = http.get("/links", params=filters)
    assert count_of(page.text)[0] == len(expected) > 0
    rows = read_csv(http.get("/links", params={**filters, "format": "csv"}))
    assert sorted(r["From IRI"] for r in rows) == sorted(link["source"]["iri"] for link in expected)


def test_every_list_page_passes_the_page_policy(http):
    for path in ("/decisions", "/meetings", "/guidelines", "/parties", "/links", "/questions"):
        answer = http.get(path)
        assert answer.status_code == 200, path
        assert "'unsafe-inline'" not in answer.headers["content-security-policy"]
        assert " style=" not in answer.text and "<style" not in answer.text, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", answer.text), path


def test_conventions_sort_and_csv(http):
    expected = api_all(http, "/api/conventions")
    page = http.get("/conventions", params={"sort": "force"})
    assert count_of(page.text) == (len(expected), len(expected))
    rows = tables(page.text).tables["list"]
    in_force = sorted(expected, key=lambda c: c.get("dateEntryIntoForce") or "")
    assert [r[0]["links"][0] for r in rows] == ["/id/" + c["id"] for c in in_force]
    csv_rows = read_csv(http.get("/conventions", params={"format": "csv"}))
    assert sorted(r["Convention IRI"] for r in csv_rows) == sorted(c["iri"] for c in expected)
