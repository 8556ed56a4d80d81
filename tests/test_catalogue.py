"""The catalogue answers exactly what the named queries answer, and follows writes."""

from __future__ import annotations

import time

import pytest
from conftest import WRITE_TOKEN

from treatygraph import build, catalogue, queries
from treatygraph.api.api import split_prologue
from treatygraph.store import Store


@pytest.fixture(scope="module")
def graph() -> Store:
    store = Store()
    build.fill(store)
    return store


@pytest.fixture(scope="module")
def kept(graph, tmp_path_factory) -> catalogue.Catalogue:
    target = tmp_path_factory.mktemp("catalogue") / catalogue.FILE_NAME
    return catalogue.Catalogue(catalogue.make(graph, target))


NAMED = queries.load_all()


def _iris(rows, key):
    return [row[key].value for row in rows]


@pytest.mark.parametrize("name", catalogue.LISTS)
def test_every_kept_list_pages_as_the_query_does(graph, kept, name):
    text = NAMED[name].bind({})
    everything = list(graph.solutions(text))
    key = next(iter(everything[0]))  # the first variable names the listed resource
    for limit, offset in ((5, 0), (7, 3), (1000, 0), (10, len(everything) - 2)):
        page = kept.page(text, limit, offset)
        assert page.total == len(everything)
        sliced = list(graph.solutions(f"{text}\nLIMIT {limit} OFFSET {offset}"))
        assert page.rows == sliced, (name, limit, offset)
    prologue, body = split_prologue(text)
    count = next(graph.solutions(f"{prologue}\nSELECT (COUNT(*) AS ?n) WHERE {{ {body} }}"))
    assert int(count["n"].value) == kept.page(text, 1, 0).total
    assert _iris(kept.page(text, 1, 0).rows, key) == _iris(everything[:1], key)


def test_a_filtered_list_is_not_answered_from_the_catalogue(kept):
    filtered = NAMED["api-decisions"].bind({"convention": "https://w3id.org/treatygraph/id/basel"})
    assert kept.page(filtered, 10, 0) is None


SEARCHES = [
    "mercury", "BC-16/21", "ARTICLE 11", "ba", "co", "Côte", 'a"b', "%", "zzzzqq",
    "mercury waste guidelines", "guidelines MERCURY", "  Basel   COP ", "waste waste",
    "cooperation minamata BC-16/21", "minamata convention article 11 paragraph 3", "x",
    "one two three four five six seven eight nine", "bc waste", "waste waste guidelines",
    "convention basel", "wastes\tof",
]  # fmt: skip


def _plain(rows) -> list[dict[str, str]]:
    return [{k: v.value for k, v in row.items()} for row in rows]


@pytest.mark.parametrize("text", SEARCHES)
def test_search_finds_what_the_search_query_finds(graph, kept, text):
    """The catalogue's index and the store (the fallback) give the same answer: the same hits,
    in the same order, each with the same matched value, field and rank."""
    expected = list(graph.solutions(NAMED["api-search"].bind({"text": text})))
    found = kept.search(text, None)
    assert found.total == len(expected)
    assert _plain(found.rows) == _plain(expected)
    # Best hits first, then shorter labels first: the order api-search.rq asks for.
    keys = [
        (-int(row["rank"].value), len(row["label"].value) if "label" in row else -1)
        for row in found.rows
    ]
    assert keys == sorted(keys)
    first = kept.search(text, 3, 0)
    assert first.rows == found.rows[:3]
    assert (first.total, first.exact) == (len(expected), True)  # counted, not read
    assert kept.search(text, 5, 2).rows == found.rows[2:7]


@pytest.mark.parametrize("text", ["basel convention", "mercury", "bc waste", "waste waste"])
def test_every_page_is_the_slice_of_the_whole_answer(kept, text):
    """Pages are read rank by rank: across the ranks' borders they are still the answer's."""
    whole = kept.search(text, None).rows
    assert len(whole) > 20
    for offset in range(0, len(whole) + 10, max(1, len(whole) // 40)):
        assert kept.search(text, 10, offset).rows == whole[offset : offset + 10], offset


def test_the_first_page_reads_a_page_of_matches_not_all_of_them(kept, monkeypatch):
    """ "basel convention" matches thousands of resources; showing twenty checks about twenty
    (read in the answer's order from the index), never all of them."""
    judged: list[int] = []
    original = catalogue._Search._judged

    def counting(self, positions):
        judged.append(len(positions))
        return original(self, positions)

    monkeypatch.setattr(catalogue._Search, "_judged", counting)
    page = kept.search("basel convention", 20)
    assert page.total > 2000 and len(page.rows) == 20
    assert sum(judged) <= 3 * 20, judged


def test_past_the_bound_the_total_says_more_than(kept, monkeypatch):
    whole = kept.search("basel convention", None)
    monkeypatch.setattr(catalogue, "MAX_TOTAL", 100)
    page = kept.search("basel convention", 10, 40)
    assert (page.total, page.exact) == (100, False)  # "more than 100"
    assert page.rows == whole.rows[40:50]
    few = kept.search("mercury", 10)
    assert few.exact and few.total == len(kept.search("mercury", None).rows) < 100
    # A page past the bound is still the answer's (only the count stops).
    assert kept.search("basel convention", 5, 150).rows == whole.rows[150:155]
    # Reading every hit counts them all.
    assert (whole.total, whole.exact) == (len(whole.rows), True)


def _hits(kept, text: str) -> dict[str, dict[str, str]]:
    return {row["resource"]: row for row in _plain(kept.search(text, None).rows)}


def test_search_needs_every_word_not_the_exact_phrase(kept):
    """The words of "mercury waste guidelines" are in the guidelines' title, not the phrase."""
    guideline = "https://w3id.org/treatygraph/id/guideline/basel-mercury-wastes"
    hits = _hits(kept, "mercury waste guidelines")
    assert guideline in hits
    assert hits[guideline]["field"] in ("label", "title", "alternative label")
    folded = hits[guideline]["matched"].lower()
    assert all(word in folded for word in ("mercury", "waste", "guidelines"))
    assert guideline in _hits(kept, "guidelines mercury")  # in any order
    assert all(
        all(w in " ".join(_plain_values(kept, r)) for w in ("mercury", "waste", "guidelines"))
        for r in list(hits)[:5]
    )


def _plain_values(kept, resource: str) -> list[str]:
    import sqlite3

    db = sqlite3.connect(kept.path)
    try:
        rows = db.execute(
            "SELECT folded FROM entries JOIN resources USING (position) WHERE resource = ?",
            (resource,),
        )
        return [row[0] for row in rows]
    finally:
        db.close()


def test_a_word_missing_from_every_field_excludes_the_resource(kept):
    assert _hits(kept, "mercury zzzzqq") == {}


def test_descriptions_are_searched_and_the_hit_says_so(graph, kept):
    """A text found only in a description is found, and the hit names the field."""
    query = """SELECT ?r ?d WHERE {
      <https://w3id.org/treatygraph/id/guideline/basel-mercury-wastes>
        <http://purl.org/dc/terms/description> ?d
      BIND(<https://w3id.org/treatygraph/id/guideline/basel-mercury-wastes> AS ?r) }"""
    row = next(graph.solutions(query))
    description = row["d"].value
    hits = _hits(kept, description)
    hit = hits[row["r"].value]
    assert (hit["field"], hit["matched"]) == ("description", description)
    assert list(hits)[0] == row["r"].value  # the whole description: the best hit


def test_every_hit_says_which_field_matched(kept):
    fields = {"symbol", "document symbol", "label", "short name", "title", "preferred label",
              "alternative label", "description", "comment"}  # fmt: skip
    for text in ("mercury", "BC-16/21", "Japan"):
        for hit in _plain(kept.search(text, None).rows):
            assert hit["field"] in fields
            assert (
                all(w in hit["matched"].lower() for w in text.lower().split()) or hit["rank"] == "0"
            )


def test_a_name_outranks_a_description(kept):
    rows = _plain(kept.search("mercury", None).rows)
    ranks = [(int(r["rank"]), r["field"]) for r in rows]
    first_description = next(i for i, (_, f) in enumerate(ranks) if f == "description")
    assert all(f != "description" for _, f in ranks[:first_description])
    assert all(rank < 4 for rank, f in ranks if f in ("description", "comment"))


def test_a_catalogue_of_an_older_version_leaves_search_to_the_store(tmp_path):
    import sqlite3

    old = tmp_path / catalogue.FILE_NAME
    db = sqlite3.connect(old)
    db.executescript(catalogue.SCHEMA)
    db.execute(
        "CREATE VIRTUAL TABLE search USING fts5(folded, resource UNINDEXED, matched UNINDEXED)"
    )
    db.commit()
    db.close()
    kept = catalogue.Catalogue(old)
    assert kept.search("mercury", 5) is None
    # Nor does it count as a catalogue: the service answers from the store and makes it anew.
    assert not kept.exists()


def test_a_catalogue_remade_in_place_is_seen_at_once(graph, tmp_path):
    target = tmp_path / catalogue.FILE_NAME
    kept = catalogue.Catalogue(target)
    assert not kept.exists()
    target.write_bytes(b"not a database")
    assert not kept.exists()
    catalogue.make(graph, target)
    assert kept.exists() and kept.search("mercury", 1).total > 0


def test_search_ranks_the_exact_symbol_first(kept):
    hits = kept.search("BC-16/21", 5).rows
    assert hits[0]["resource"].value.endswith("/decision/BC-16/21")
    assert hits[0]["matched"].value == "BC-16/21"


def test_the_build_writes_the_catalogue_with_the_store(server):
    assert catalogue.path_for(server.store).is_file()


def test_after_a_write_lists_and_search_show_it_then_the_catalogue_is_remade(writable_server):
    decision = "https://w3id.org/treatygraph/id/decision/ZZ-1/1"
    insert = f"""PREFIX tg: <https://w3id.org/treatygraph/ontology#>
    PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    INSERT DATA {{ GRAPH <http://example.org/g> {{
      <{decision}> a tg:Decision ; tg:symbol "ZZ-1/1" ; rdfs:label "ZZ-1/1: Quokkas"@en }} }}"""
    kept_file = catalogue.path_for(writable_server.store)
    with writable_server.client() as client:
        before = client.get("/api/decisions", params={"limit": 1}).json()["total"]
        auth = {"Authorization": f"Bearer {WRITE_TOKEN}"}
        assert client.post("/sparql", data={"update": insert}, headers=auth).status_code == 204
        # At once (from the store, or from a catalogue already remade): the new decision is seen.
        assert client.get("/api/decisions", params={"limit": 1}).json()["total"] == before + 1
        hits = client.get("/api/search", params={"q": "quokka"}).json()["items"]
        assert [hit["iri"] for hit in hits] == [decision]
        deadline = time.monotonic() + 60
        while not kept_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert kept_file.is_file(), "the catalogue was not remade after the write"
        remade = catalogue.Catalogue(kept_file)
        assert [row["resource"].value for row in remade.search("quokka", 5).rows] == [decision]
        text = NAMED["api-decisions"].bind({})
        assert remade.page(text, 1, 0).total == before + 1
        again = client.get("/api/search", params={"q": "quokka"}).json()["items"]
        assert [hit["iri"] for hit in again] == [decision]


def test_without_a_trigram_index_the_lists_are_kept_and_search_asks_the_store(
    graph, tmp_path, monkeypatch
):
    monkeypatch.setattr(catalogue, "_has_trigram_index", lambda db: False)
    lists_only = catalogue.Catalogue(catalogue.make(graph, tmp_path / catalogue.FILE_NAME))
    assert lists_only.search("mercury", 5) is None
    text = NAMED["api-conventions"].bind({})
    assert lists_only.page(text, 10, 0).total == 4


def test_a_search_with_a_control_character_is_refused_clearly(server):
    with server.client() as client:
        answer = client.get("/api/search", params={"q": "\x00abc"})
        assert answer.status_code == 422
        # The API names the characters ("control characters", or "characters ... this parameter
        # does not take" where the query parameter's pattern refuses them first).
        assert "characters" in answer.text
        assert client.get("/search", params={"q": "ab\x01c"}).status_code == 422


def test_the_search_page_says_which_field_matched(http):
    page = http.get("/search", params={"q": "mercury waste guidelines"})
    assert page.status_code == 200
    assert "<th>Matched in</th>" in page.text
    assert "/id/guideline/basel-mercury-wastes" in page.text
