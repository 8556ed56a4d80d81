"""One way to name a thing, everywhere: every parameter that takes a resource accepts its short id,
its prefixed name and its full IRI (and its code or name), ignoring case; an unknown value is an
error that names the parameter and the nearest valid values."""

from __future__ import annotations

import pytest

from treatygraph import build, parameters, queries
from treatygraph.store import Store

ID = "https://w3id.org/treatygraph/id/"
QUESTIONS = {name: q for name, q in queries.load_all().items() if not q.internal}


@pytest.fixture(scope="module")
def store() -> Store:
    store = Store()
    build.fill(store)
    return store


def run_on(store: Store):
    return lambda sparql: store.solutions(sparql)


def answer(store: Store, name: str, **given: str) -> list[dict[str, str]]:
    query = queries.get(name)
    text = query.bind(parameters.resolve_all(query, given, run_on(store)))
    return [{k: v.value for k, v in row.items()} for row in store.query(text).rows()]


def test_no_question_takes_a_bare_iri_where_it_means_a_kind_of_resource():
    """Each question declares its parameters' kinds once, in its header: none is left `iri`."""
    for name, query in QUESTIONS.items():
        for param in query.params.values():
            assert param.type in parameters.KINDS, (name, param.name)
            assert param.type != "iri", f"{name}: ?{param.name} should name its kind"


@pytest.mark.parametrize(
    ("kind", "forms", "iri"),
    [
        (
            "convention",
            ["minamata", "Minamata", "MINAMATA", "id:minamata", "ID:Minamata", f"{ID}minamata",
             f"<{ID}minamata>", f"{ID}Minamata", "Minamata Convention", " minamata "],
            f"{ID}minamata",
        ),
        (
            "party",
            ["JPN", "jpn", "JP", "Japan", "party/JPN", "id:party/JPN", f"{ID}party/JPN",
             f"{ID}party/jpn"],
            f"{ID}party/JPN",
        ),
        (
            "decision",
            ["BC-16/21", "bc-16/21", "decision/BC-16/21", "id:decision/BC-16/21",
             f"{ID}decision/BC-16/21"],
            f"{ID}decision/BC-16/21",
        ),
        (
            "meeting",
            ["basel/meeting/cop-16", "Basel/Meeting/COP-16", "id:basel/meeting/cop-16",
             f"{ID}basel/meeting/cop-16", "BC COP-16"],
            f"{ID}basel/meeting/cop-16",
        ),
        (
            "instrument",
            ["basel/amendment/ban", "id:basel/amendment/ban",
             "Ban Amendment to the Basel Convention"],
            f"{ID}basel/amendment/ban",
        ),
        ("instrument", ["minamata", "Minamata"], f"{ID}minamata"),
        ("topic", ["mercury-waste", "topic/mercury-waste", "mercury waste"],
         f"{ID}topic/mercury-waste"),
        (
            "guideline",
            ["basel-mercury-wastes", "guideline/basel-mercury-wastes"],
            f"{ID}guideline/basel-mercury-wastes",
        ),
        ("source", ["ieadb", "IEADB", "ieadb-2026-01", "source/ieadb-2026-01"],
         f"{ID}source/ieadb-2026-01"),
        ("source", ["ecolex", "id:source/ecolex-manyenviron-2024"],
         f"{ID}source/ecolex-manyenviron-2024"),
    ],
)  # fmt: skip
def test_every_form_of_a_name_resolves_to_the_same_iri(store, kind, forms, iri):
    for form in forms:
        assert parameters.resolve(kind, form, run_on(store), parameter="p") == iri, form


@pytest.mark.parametrize(
    ("kind", "value", "suggested"),
    [
        ("convention", "minamta", "minamata"),
        ("convention", "basle", "basel"),
        ("party", "Japn", "JPN"),
        ("decision", "BC-16/211", "BC-16/21"),
        ("meeting", "basel/meeting/cop16", "basel/meeting/cop-16"),
        ("source", "iedb", "ieadb-2026-01"),
    ],
)
def test_an_unknown_value_names_the_parameter_and_the_nearest_values(store, kind, value, suggested):
    with pytest.raises(parameters.UnknownValue) as raised:
        parameters.resolve(kind, value, run_on(store), parameter="from")
    error = raised.value
    assert error.parameter == "from"
    assert str(error).startswith("parameter 'from': no ")
    assert repr(value) in str(error)
    assert suggested in error.suggestions
    assert "did you mean" in str(error) and suggested in str(error)


def test_a_value_far_from_any_lists_the_valid_values_when_they_are_few(store):
    with pytest.raises(parameters.UnknownValue) as raised:
        parameters.resolve("convention", "frobnicate", run_on(store), parameter="to")
    assert "valid values: basel, minamata, rotterdam, stockholm" in str(raised.value)


def test_a_resource_of_another_kind_is_not_accepted(store):
    """The Ban Amendment is an instrument, not a convention."""
    with pytest.raises(parameters.UnknownValue, match="no convention"):
        parameters.resolve("convention", "basel/amendment/ban", run_on(store), parameter="from")
    with pytest.raises(parameters.UnknownValue):
        parameters.resolve("party", "minamata", run_on(store), parameter="party")


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("year", "soon", "must be a year"),
        ("year", "20234", "must be a year"),
        ("date", "2024-13-01", "must be a date"),
        ("integer", "1.5", "whole number"),
    ],
)
def test_values_are_checked_against_their_kind(kind, value, message):
    with pytest.raises(parameters.BadParameter, match=message) as raised:
        parameters.resolve(kind, value, lambda sparql: [], parameter="p")
    assert raised.value.parameter == "p"


def test_a_question_reports_every_wrong_value_at_once(store):
    query = queries.get("cooperation-decisions-in-year")
    with pytest.raises(parameters.BadParameters) as raised:
        parameters.resolve_all(query, {"year": "soon", "partner": "minamta"}, run_on(store))
    assert [e.parameter for e in raised.value.errors] == ["year", "partner"]
    assert "must be a year" in str(raised.value) and "minamata" in str(raised.value)


def test_an_unknown_parameter_name_is_refused(store):
    query = queries.get("cooperation-decisions-in-year")
    with pytest.raises(parameters.BadParameter, match="parameters: partner, year"):
        parameters.resolve_all(query, {"yaer": "2019"}, run_on(store))


@pytest.mark.parametrize(
    ("question", "parameter", "forms"),
    [
        ("articles-referring-to-convention", "from", ["minamata", "id:minamata", f"{ID}minamata",
                                                      "Minamata"]),
        ("party-status", "party", ["JPN", "id:party/JPN", f"{ID}party/JPN", "japan"]),
        ("parties-at-date", "instrument", ["minamata", "id:minamata", f"{ID}minamata"]),
    ],
)  # fmt: skip
def test_every_form_gives_the_same_answer_and_not_an_empty_one(store, question, parameter, forms):
    """`id:minamata`, the form the command line prints, once gave no rows at all."""
    answers = [answer(store, question, **{parameter: form}) for form in forms]
    assert answers[0], f"{question} with {parameter}={forms[0]} answers nothing"
    for form, rows in zip(forms, answers, strict=True):
        assert rows == answers[0], form


def test_binding_a_prefixed_name_writes_its_iri():
    """Whatever calls bind (the JSON API too), `id:` and `tg:` names are our namespaces."""
    text = queries.get("articles-referring-to-convention").bind({"from": "id:stockholm"})
    assert f"VALUES ?from {{ <{ID}stockholm> }}" in text
    text = queries.get("api-provisions").bind({"class": "tg:Annex"})
    assert "<https://w3id.org/treatygraph/ontology#Annex>" in text


def test_a_resource_kind_is_never_pasted_as_text():
    query = queries.get("party-status")
    for value in ("JPN } ?s ?p ?o {", "x> } DROP ALL #", 'a"b'):
        with pytest.raises(parameters.BadParameter, match="party"):
            query.bind({"party": value})


def test_defaults_are_read_from_the_values_lines_and_shown_as_people_type_them():
    params = queries.get("party-gaps").params
    assert params["instrument"].default == f"{ID}basel"
    assert params["other"].shown_default == "minamata"
    assert params["source"].shown_default == "ieadb-2026-01"
    assert queries.get("party-status").params["party"].shown_default == "JPN"
    assert queries.get("decisions-of-year").params["year"].shown_default == "2023"
    assert queries.get("party-counts").params["date"].shown_default == ""


def test_the_lookup_rows_may_be_terms_or_plain_strings():
    kind = parameters.kind_of("convention")
    rows = [{"resource": f"{ID}basel", "name": "Basel Convention"}]
    assert parameters.candidates(kind, rows).match("basel convention", "p") == f"{ID}basel"
