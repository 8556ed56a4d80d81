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
