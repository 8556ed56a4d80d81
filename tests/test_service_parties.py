"""The Parties API through a real server: who is bound by what, and since when."""

from __future__ import annotations

import pytest

ID = "https://w3id.org/treatygraph/id/"


def everything(http, path: str, **params) -> list[dict]:
    """Every item of a paginated list."""
    items, offset = [], 0
    while True:
        page = http.get(path, params={**params, "limit": 1000, "offset": offset}).json()
        items += page["items"]
        offset += 1000
        if offset >= page["total"]:
            return items


def test_parties_are_listed_and_searchable(http):
    page = http.get("/api/parties", params={"q": "japan"}).json()
    assert [item["iri"] for item in page["items"]] == [ID + "party/JPN"]
    assert page["items"][0]["iso2"] == "JP" and page["items"][0]["region"] == "Asia"
    assert http.get("/api/parties").json()["total"] >= 195  # States and the European Union


def test_one_party_with_its_status_under_each_instrument(http):
    japan = http.get("/api/parties/jpn").json()
    assert japan["iri"] == ID + "party/JPN"
    minamata = [
        s for s in japan["status"]
        if s["instrument"]["id"] == "minamata" and s["source"]["id"].startswith("source/ieadb")
    ]  # fmt: skip
    assert len(minamata) == 1
    assert minamata[0]["consentKind"]["id"] == "participation-kind/acceptance"
    assert (minamata[0]["consented"], minamata[0]["inForce"]) == ("2016-02-02", "2017-08-16")
    assert minamata[0]["signed"] == "2013-10-10"


@pytest.mark.parametrize(
    ("instrument", "at", "bound"),
    [
        # The Ban Amendment entered into force on 5 December 2019 for its first 97 Parties.
        ("basel/amendment/ban", "2019-12-05", 97),
        ("basel/amendment/ban", "2019-12-04", 0),
        # Before the Minamata Convention entered into force (16 August 2017), nobody was bound.
        ("minamata", "2017-08-15", 0),
    ],
)
def test_who_is_bound_at_a_date(http, instrument, at, bound):
    page = http.get(f"/api/instruments/{instrument}/parties", params={"at": at}).json()
    assert page["total"] == bound


def test_kenya_is_bound_by_minamata_from_its_entry_into_force(http):
    def bound(at: str) -> bool:
        items = everything(http, "/api/instruments/minamata/parties", at=at)
        return ID + "party/KEN" in {item["iri"] for item in items}

    assert not bound("2023-12-20") and bound("2023-12-21")


def test_gaps_are_the_difference_of_the_two_sets_of_parties(http):
    at = "2024-06-01"
    basel = {i["iri"] for i in everything(http, "/api/instruments/basel/parties", at=at)}
    minamata = {i["iri"] for i in everything(http, "/api/instruments/minamata/parties", at=at)}
    gaps = everything(
        http, "/api/gaps", **{"party-to": "basel", "not-party-to": "minamata", "at": at}
    )
    assert {i["iri"] for i in gaps} == basel - minamata
    assert 0 < len(gaps) < len(basel)


def test_disagreements_between_the_sources_are_listed(http):
    items = everything(http, "/api/disagreements", instrument="basel")
    afghanistan = [i for i in items if i["party"]["id"] == "party/AFG"]
    assert any(
        (i["ieadbDate"], i["ecolexDate"]) == ("2013-06-23", "2013-03-25") for i in afghanistan
    )


def test_instruments_include_amendments_with_what_they_amend(http):
    items = everything(http, "/api/instruments", amends="basel")
    ban = [i for i in items if i["id"] == "basel/amendment/ban"]
    assert (
        ban and ban[0]["amends"]["id"] == "basel" and ban[0]["dateEntryIntoForce"] == "2019-12-05"
    )


@pytest.mark.parametrize(
    ("path", "params", "status", "names"),
    [
        ("/api/parties/XXX", {}, 404, "XXX"),
        ("/api/parties/JP", {}, 422, "code"),
        ("/api/instruments/nothing/parties", {}, 404, "nothing"),
        ("/api/instruments/basel/parties", {"at": "2024-13-01"}, 422, "at"),
        ("/api/instruments/basel/parties", {"source": "wiki"}, 422, "source"),
        ("/api/gaps", {"party-to": "basel"}, 422, "not-party-to"),
    ],
)
def test_bad_input_gets_a_clear_4xx(http, path, params, status, names):
    response = http.get(path, params=params)
    assert response.status_code == status
    assert names in response.text


def test_a_search_text_with_a_unicode_line_separator_is_answered(http):
    """U+0085 and U+2028 are not line ends in SPARQL: a bound text holding one stays whole."""
    for text in ("È\x85ą", "a\u2028b"):
        answer = http.get("/api/parties", params={"q": text, "region": "Asia"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["total"] == 0
