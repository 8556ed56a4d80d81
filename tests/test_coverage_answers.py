"""Coverage is part of every answer that lists decisions: how many decisions the graph records for
the meetings concerned, against how many they adopted (or that the total is not confirmed), in the
command line's output, on the question pages and on the meeting pages."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from treatygraph import build, coverage, queries, reports
from treatygraph.store import Store

ID = "https://w3id.org/treatygraph/id/"
QUESTIONS = {name: q for name, q in queries.load_all().items() if not q.internal}
# Questions whose answer lists decisions but is not a list of a year's (or all) decisions: the
# versions of a guideline (with the decision where known), and the coverage report itself.
NOT_DECISION_LISTS = {"guideline-versions", "decision-coverage"}


@pytest.fixture(scope="module")
def store() -> Store:
    store = Store()
    build.fill(store)
    return store


@pytest.fixture(scope="module")
def rows(store) -> list:
    return list(store.solutions(queries.get(coverage.QUERY).bind()))


# -- the sentence, on made-up meetings -----------------------------------------------------------


def meeting(name: str, recorded: int, official: int | None = None, highest: int | None = None):
    row = {"meeting": ID + name, "label": name, "convention": ID + name.split("/")[0],
           "conventionLabel": name.split("/")[0].capitalize() + " Convention",
           "start": "2023-05-01", "inGraph": str(recorded)}  # fmt: skip
    if official is not None:
        row["official"] = str(official)
    if highest is not None:
        row["highestNumber"] = str(highest)
    return row


def test_all_counts_official_and_all_recorded_is_complete():
    rows = [meeting("a/meeting/cop-1", 5, official=5), meeting("b/meeting/cop-1", 3, official=3)]
    found = coverage.of_year(rows, 2023, targets={})
    assert found.complete and found.recorded == 8 and found.adopted == 8
    assert found.sentence() == (
        "8 decisions recorded in the graph for the 2 meetings that began in 2023; "
        "adopted: 8 (official counts): complete."
    )


def test_an_official_count_above_the_recorded_says_how_many_are_missing():
    rows = [meeting("a/meeting/cop-1", 11, official=27)]
    found = coverage.of_year(rows, "2023", targets={})
    assert not found.complete and found.missing == 16
    assert "adopted: 27 (official count): 16 not recorded, so the list is incomplete" in (
        found.sentence()
    )


def test_without_official_counts_the_total_is_not_confirmed_with_a_bound():
    rows = [meeting("a/meeting/cop-1", 9, highest=22), meeting("b/meeting/cop-1", 6, highest=9)]
    targets = {ID + "b/meeting/cop-1": {"count": 12, "count_kind": "floor", "count_source": "x"}}
    found = coverage.of_year(rows, 2023, targets=targets)
    assert found.adopted is None and found.at_least == 22 + 12
    assert found.sentence() == (
        "15 decisions recorded in the graph for the 2 meetings that began in 2023; adopted: "
        "not confirmed for 2 of 2 meetings (at least 34 by numbering). The list may be incomplete."
    )


def test_mixed_counts_say_both():
    rows = [meeting("a/meeting/cop-1", 11, official=27), meeting("b/meeting/cop-1", 9, highest=22)]
    text = coverage.of_year(rows, 2023, targets={}).sentence()
    assert "adopted: 27 at the 1 meeting with an official count (11 recorded there)" in text
    assert "not confirmed for 1 of 2 meetings (at least 22 by numbering)" in text
    assert text.endswith("The list may be incomplete.")


def test_a_target_lists_official_count_counts_as_confirmed():
    rows = [meeting("a/meeting/cop-1", 4)]
    targets = {ID + "a/meeting/cop-1": {"count": 4, "count_kind": "official", "count_source": "u"}}
    found = coverage.of_meeting(rows, ID + "a/meeting/cop-1", targets=targets)
    assert found.complete and found.meetings[0].source == "u"
    assert found.sentence() == (
        "4 decisions recorded in the graph for this meeting; adopted: 4 (official count): complete."
    )


def test_no_meetings_in_the_year_says_so():
    found = coverage.of_year([meeting("a/meeting/cop-1", 4)], 2016, targets={})
    assert found.meetings == ()
    assert found.sentence().startswith("No meeting that began in 2016 is in the graph")


def test_the_json_form_carries_the_numbers_and_the_sentence():
    rows = [meeting("a/meeting/cop-1", 9, highest=22)]
    found = coverage.of_year(rows, 2023, targets={}).to_dict()
    assert found["recorded"] == 9 and found["adopted"] is None and found["atLeast"] == 22
    assert found["meetingsNotConfirmed"] == 1 and found["complete"] is False
    assert found["perMeeting"][0]["meeting"] == ID + "a/meeting/cop-1"
    assert "not confirmed" in found["text"]


# -- the questions -------------------------------------------------------------------------------


def test_every_question_that_lists_decisions_declares_its_coverage():
    listing = {
        name for name, q in QUESTIONS.items()
        if re.search(r"SELECT[^{]*\?decision\b", q.text, re.S) and name not in NOT_DECISION_LISTS
    }  # fmt: skip
    assert {"decisions-of-year", "cooperation-decisions-since", "mercury-waste-decisions",
            "cooperation-decisions-in-year"} <= listing  # fmt: skip
    for name in listing:
        assert QUESTIONS[name].coverage, f"{name} lists decisions but declares no # coverage:"


def test_decisions_of_a_year_count_exactly_the_decisions_listed(store, rows):
    """The answer lists every decision of the year's meetings: the coverage counts the same."""
    query = queries.get("decisions-of-year")
    answer = list(store.query(query.bind()).rows())
    found = coverage.for_question(query, {}, rows)
    assert found.recorded == len(answer) > 0
    assert {m.meeting for m in found.meetings} == {row["meeting"].value for row in answer}
    targets = reports.read_targets()
    for m in found.meetings:
        target = targets[m.meeting]
        assert m.confirmed == (target["count_kind"] == "official"), m.meeting
        if not m.confirmed:
            assert m.at_least >= target["count"]
    text = found.sentence()
    assert text.startswith(f"{len(answer)} decisions recorded in the graph for the ")
    assert "that began in 2023" in text and "adopted:" in text


def test_a_year_parameter_changes_the_meetings_counted(store, rows):
    query = queries.get("decisions-of-year")
    found = coverage.for_question(query, {"year": "2017"}, rows)
    assert found.meetings and all(m.start.startswith("2017") for m in found.meetings)


def test_cooperation_with_a_partner_leaves_out_the_partners_own_meetings(rows):
    query = queries.get("cooperation-decisions-in-year")
    found = coverage.for_question(query, {}, rows)
    assert found.meetings
    assert all(m.convention != ID + "minamata" for m in found.meetings)
    assert "other than those of the Minamata Convention" in found.sentence()
    basel = coverage.for_question(query, {"partner": ID + "basel"}, rows)
    assert ID + "minamata/meeting/cop-5" in {m.meeting for m in basel.meetings}


def test_since_a_year_counts_every_meeting_from_that_year(rows):
    query = queries.get("cooperation-decisions-since")
    found = coverage.for_question(query, {"from": "2019"}, rows)
    assert found.meetings and all(m.start >= "2019" for m in found.meetings)
    assert "that began in or after 2019" in found.sentence()


def test_mercury_waste_decisions_draw_on_every_meeting(rows):
    found = coverage.for_question(queries.get("mercury-waste-decisions"), {}, rows)
    assert len(found.meetings) == len(rows)


# -- the command line ----------------------------------------------------------------------------

SCRIPT = Path(sys.executable).parent / "treatygraph"


def run(*args: str) -> subprocess.CompletedProcess:
    command = [str(SCRIPT), *args] if SCRIPT.exists() else [shutil.which("treatygraph"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_the_command_line_prints_the_coverage_under_a_list_of_decisions(store, rows):
    result = run("query", "decisions-of-year")
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    expected = coverage.for_question(queries.get("decisions-of-year"), {}, rows).sentence()
    assert last == "Coverage: " + expected


def test_csv_stays_csv_and_the_coverage_goes_to_stderr():
    result = run("query", "cooperation-decisions-since", "-p", "from=2019", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert "Coverage" not in result.stdout
    assert "treatygraph: note: Coverage:" in result.stderr and "that began in or after 2019" in (
        result.stderr
    )


def test_a_question_that_lists_no_decisions_prints_no_coverage():
    result = run("query", "party-status")
    assert result.returncode == 0, result.stderr
    assert "Coverage" not in result.stdout + result.stderr


# -- the pages -----------------------------------------------------------------------------------


def test_a_question_page_shows_recorded_against_adopted(http):
    page = http.get("/questions/decisions-of-year", params={"year": "2023"})
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert "Coverage:" in text
    assert re.search(r"\d+ decisions recorded in the graph for the \d+ meetings that began in 2023",
                     text)  # fmt: skip
    assert "adopted:" in text


def test_a_meeting_page_shows_its_recorded_and_adopted_decisions(http, rows):
    page = http.get("/id/basel/meeting/cop-16", headers={"Accept": "text/html"})
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    expected = coverage.of_meeting(rows, ID + "basel/meeting/cop-16").sentence()
    assert "Decisions:" in text
    assert re.search(r"\d+ decisions? recorded in the graph for this meeting; adopted:", text)
    assert expected.split(";")[1].split("(")[0].strip() in text  # adopted: not confirmed / N


def test_the_list_of_decisions_says_how_complete_it_is(http, rows):
    page = http.get("/decisions", params={"convention": "basel"})
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    expected = coverage.of_convention(rows, ID + "basel")
    assert f"{expected.recorded} decisions recorded in the graph for the " in text
    assert "of the Conference of the Parties to the Basel Convention" in text
    assert len(expected.meetings) == sum(1 for r in rows if r["convention"].value == ID + "basel")


def test_a_page_that_is_not_a_meeting_has_no_decision_count(http):
    page = http.get("/id/minamata", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "recorded in the graph for this meeting" not in page.text
