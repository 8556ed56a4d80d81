"""The cross-convention questions legal officers ask, answered from the repository's graph.

Each asserts facts confirmed in official sources (see the data files' dcterms:source).
"""

import pytest

from treatygraph import build, queries
from treatygraph.store import Store

ID = "https://w3id.org/treatygraph/id/"


@pytest.fixture(scope="module")
def store() -> Store:
    store = Store()
    build.fill(store)
    return store


def answer(store: Store, name: str, **params: str) -> list[dict[str, str]]:
    text = queries.get(name).bind(params)
    return [{k: v.value for k, v in row.items()} for row in store.query(text).rows()]


def test_minamata_articles_that_refer_to_the_basel_convention(store):
    rows = answer(store, "articles-referring-to-convention")
    articles = {row["number"] for row in rows}
    assert "11" in articles  # Article 11, mercury wastes
    paragraphs = {row["provision"] for row in rows}
    assert ID + "minamata/article/11/paragraph/3" in paragraphs
    targets = {row["target"] for row in rows if row["provision"].endswith("article/11/paragraph/3")}
    assert {ID + "basel", ID + "guideline/basel-mercury-wastes"} <= targets
    assert all(row["article"].startswith(ID + "minamata/article/") for row in rows)


def test_stockholm_article_6_refers_to_the_bodies_of_the_basel_convention(store):
    rows = answer(store, "articles-referring-to-convention", **{"from": ID + "stockholm"})
    assert any(
        row["provision"] == ID + "stockholm/article/6/paragraph/2"
        and row["target"] == ID + "basel/cop"
        for row in rows
    )


def test_2023_decisions_on_cooperation_with_the_minamata_convention(store):
    rows = answer(store, "cooperation-decisions-in-year")
    symbols = {row["symbol"] for row in rows}
    assert {"BC-16/21", "RC-11/8", "SC-11/20"} <= symbols
    assert all(row["convention"] != ID + "minamata" for row in rows)


def test_no_cooperation_decisions_are_invented_for_a_year_without_meetings(store):
    assert answer(store, "cooperation-decisions-in-year", year="2016") == []


def test_basel_decisions_that_adopted_or_updated_the_mercury_waste_guidelines(store):
    rows = answer(store, "guideline-versions")
    symbols = [row["symbol"] for row in rows]
    assert symbols[:2] == ["BC-10/7", "BC-12/4"]  # oldest first
    assert all(row["symbol"].startswith("BC-") for row in rows)


def test_coverage_counts_decisions_only(store):
    """Guideline versions are adopted at meetings too; the coverage report counts decisions."""
    rows = answer(store, "decision-coverage")
    decisions_per_meeting = {
        row["meeting"]: int(row["inGraph"]) for row in rows if "meeting" in row
    }
    tg = "https://w3id.org/treatygraph/ontology#"
    count = (
        f"SELECT ?m (COUNT(?d) AS ?n) WHERE {{ ?d a <{tg}Decision> ; <{tg}adoptedAt> ?m }} "
        "GROUP BY ?m"
    )
    expected = {row["m"].value: int(row["n"].value) for row in store.query(count).rows()}
    assert decisions_per_meeting == {m: expected.get(m, 0) for m in decisions_per_meeting}


def _meeting_starts(store: Store) -> dict[str, str]:
    tg = "https://w3id.org/treatygraph/ontology#"
    query = (
        f"SELECT ?d ?start WHERE {{ ?d a <{tg}Decision> ; <{tg}adoptedAt>/<{tg}startDate> ?start }}"
    )
    return {row["d"].value: row["start"].value for row in store.query(query).rows()}


def test_every_decision_of_the_2023_meetings_grouped_by_convention(store):
    rows = answer(store, "decisions-of-year")
    starts = _meeting_starts(store)
    expected = {d for d, start in starts.items() if start.startswith("2023-")}
    assert {row["decision"] for row in rows} == expected  # all of them, and only them
    labels = [row["conventionLabel"] for row in rows]
    assert labels == sorted(labels)  # grouped: one run per convention
    assert set(labels) == {
        "Basel Convention",
        "Rotterdam Convention",
        "Stockholm Convention",
        "Minamata Convention",
    }
    joint = {row["symbol"]: set(row.get("jointWith", "").split()) for row in rows}
    assert joint["BC-16/21"] == {"RC-11/8", "SC-11/20"}


def test_decisions_on_cooperation_among_the_conventions_since_2013(store):
    rows = answer(store, "cooperation-decisions-since")
    symbols = {row["symbol"] for row in rows}
    chain = {"BC.Ex-2/1", "BC-13/16", "SC-8/20", "MC-2/7", "BC-16/21", "RC-11/8", "SC-11/20"}
    assert chain <= symbols
    assert all(row["meetingStart"] >= "2013" for row in rows)
    reasons = ("onTopic", "providesForCooperation", "jointWith")
    assert all(any(r in row for r in reasons) for row in rows)  # each says why it is listed
    by_symbol = {row["symbol"]: row for row in rows}
    assert by_symbol["BC-16/21"]["withMinamata"] == "true"
    assert by_symbol["BC-16/21"]["jointWith"] == "RC-11/8 SC-11/20"
    earlier = answer(store, "cooperation-decisions-since", **{"from": "2004"})
    assert {"RC-4/11", "SC-4/34"} <= {row["symbol"] for row in earlier} - symbols


def test_decisions_that_concern_mercury_waste(store):
    rows = {row["symbol"]: row for row in answer(store, "mercury-waste-decisions")}
    # The Basel guidelines on mercury wastes (adopted 2011, updated 2015), and the 2023 joint
    # decision on cooperation with the Minamata Convention, which covers mercury wastes.
    assert {"BC-10/7", "BC-12/4", "BC-16/21"} <= set(rows)
    assert rows["BC-12/4"]["adoptedGuidelines"] == "true"
    assert not any(symbol.startswith("RC-4/") for symbol in rows)
