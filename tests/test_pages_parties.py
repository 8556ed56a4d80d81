"""The Parties: an index, and a Party page with its dated events per instrument, whether it is
bound today and at a chosen date, a link to its status question, where the sources disagree, and
a chart of the number of Parties bound over time.

Every figure is checked against the JSON API (which answers with the named questions), never
against numbers written here.
"""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser

import pytest

CONVENTIONS = ("basel", "rotterdam", "stockholm", "minamata")


class Rows(HTMLParser):
    """Rows of the tables with an id: cells as text, with each row's data-instrument."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[dict]] = {}
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table] = []
        elif self._table and tag == "tr":
            self._row = {"instrument": a.get("data-instrument"), "cells": []}
        elif self._row is not None and tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row["cells"].append(" ".join(self._cell.split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def rows_of(html: str) -> dict[str, list[dict]]:
    parser = Rows()
    parser.feed(html)
    return parser.tables


def bound(http, instrument: str, at: str) -> set[str]:
    found, offset = set(), 0
    while True:
        page = http.get(
            f"/api/instruments/{instrument}/parties",
            params={"at": at, "limit": 500, "offset": offset},
        ).json()
        found |= {p["iso3"] for p in page["items"]}
        offset += 500
        if offset >= page["total"]:
            return found


def test_the_parties_index_exists_and_links_to_each_party(http):
    page = http.get("/parties")
    assert page.status_code == 200
    assert 'href="/parties/JPN"' in page.text
    assert http.get("/parties/JPN").status_code == 200
    assert http.get("/parties/ZZZ").status_code == 404
    assert http.get("/parties/12").status_code == 404


@pytest.mark.parametrize("code", ["JPN", "USA", "EUE"])
def test_a_party_page_says_whether_it_is_bound_today_and_at_a_date(http, code):
    today = date.today().isoformat()
    at = "2005-06-01"
    page = http.get(f"/parties/{code}", params={"at": at})
    assert page.status_code == 200
    detail = http.get(f"/api/parties/{code}").json()
    status = {r["instrument"]: r for r in rows_of(page.text)["status"] if r["instrument"]}
    # One row per instrument the sources record an action on.
    assert set(status) == {s["instrument"]["iri"] for s in detail["status"]}
    for convention in CONVENTIONS:
        iri = f"https://w3id.org/treatygraph/id/{convention}"
        if iri not in status:
            continue
        cells = status[iri]["cells"]
        assert cells[1] == ("bound" if code in bound(http, convention, today) else "not bound")
        assert cells[2] == ("bound" if code in bound(http, convention, at) else "not bound")
    # The dated events, as the status API gives them (signature, consent, entry into force...).
    for record in detail["status"]:
        events = status[record["instrument"]["iri"]]["cells"][3]
        for when in ("signed", "consented", "inForce", "withdrawn"):
            if record.get(when):
                assert record[when] in events, (record["instrument"]["id"], when)
    assert f'href="/questions/party-status?party={code}"' in page.text
    assert f'value="{at}"' in page.text


def test_a_party_page_lists_where_the_sources_disagree(http):
    every, offset = [], 0
    while True:
        page = http.get("/api/disagreements", params={"limit": 500, "offset": offset}).json()
        every += page["items"]
        offset += 500
        if offset >= page["total"]:
            break
    assert every, "the data records no disagreement"
    code = every[0]["party"]["id"].rsplit("/", 1)[-1]
    mine = [d for d in every if d["party"]["id"] == f"party/{code}"]
    table = rows_of(http.get(f"/parties/{code}").text)["disagreements-table"]
    shown = [r["cells"] for r in table[1:]]
    assert len(shown) == len(mine)
    assert sorted((c[2], c[3]) for c in shown) == sorted(
        (d["ieadbDate"] or "", d["ecolexDate"] or "") for d in mine
    )


def test_the_chart_counts_the_parties_bound_over_time(http):
    today = date.today().isoformat()
    page = http.get("/parties").text
    assert "<svg" in page and "<polyline" in page
    table = rows_of(page)["chart-table"]
    head, *rows = table
    labels = head["cells"][1:]
    assert len(labels) == len(CONVENTIONS)
    by_day = {r["cells"][0]: [int(n) for n in r["cells"][1:]] for r in rows}
    assert by_day[today] == [len(bound(http, c, today)) for c in CONVENTIONS]
    assert by_day["2010-01-01"] == [len(bound(http, c, "2010-01-01")) for c in CONVENTIONS]
    # The figures never include a style attribute or a script: an SVG drawn on the server.
    chart = page[page.index('<figure class="chart">') :]
    assert " style=" not in chart and "<script" not in chart
    # A Party's page shows the same chart, with the dates it became bound.
    party = http.get("/parties/JPN").text
    assert re.search(r"<circle [^>]*>\s*<title>[^<]*in force for this Party from \d{4}", party)
