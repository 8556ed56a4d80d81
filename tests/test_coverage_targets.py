"""The decision-count target list (data/coverage/targets.csv) and the coverage report built on it.

Expectations are computed from the graph and the target file, never written in here: the report
must list every meeting of the graph, and the target file must agree with the decisions and the
official counts the graph holds.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from treatygraph import build, reports
from treatygraph.store import Store

ID = reports.ID
TG = "https://w3id.org/treatygraph/ontology#"


@pytest.fixture(scope="module")
def store() -> Store:
    store = Store()
    build.fill(store)
    return store


@pytest.fixture(scope="module")
def targets() -> dict[str, dict]:
    return reports.read_targets()


@pytest.fixture(scope="module")
def report(store) -> dict:
    return reports.coverage(store)


def _meetings(store: Store) -> dict[str, dict]:
    """Every meeting of a conference of the Parties, with its official count where recorded."""
    text = f"""
        SELECT ?m ?ordinal ?ex ?official WHERE {{
          ?m a <{TG}Meeting> ; <{TG}ordinal> ?ordinal ; <{TG}meetingOf> ?body .
          ?body a <{TG}ConferenceOfTheParties> .
          OPTIONAL {{ ?m <{TG}extraordinary> ?ex }}
          OPTIONAL {{ ?m <{TG}decisionsAdopted> ?official }}
        }}"""
    return {
        row["m"].value: {
            "ordinal": int(row["ordinal"].value),
            "extraordinary": "ex" in row and row["ex"].value in ("true", "1"),
            "official": int(row["official"].value) if "official" in row else None,
        }
        for row in store.query(text).rows()
    }


def _decisions(store: Store) -> dict[str, list[tuple[str, int]]]:
    text = f"""
        SELECT ?m ?symbol ?number WHERE {{
          ?d a <{TG}Decision> ; <{TG}adoptedAt> ?m ; <{TG}symbol> ?symbol ;
             <{TG}decisionNumber> ?number .
        }}"""
    found: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for row in store.query(text).rows():
        found[row["m"].value].append((row["symbol"].value, int(row["number"].value)))
    return found


def test_the_target_list_has_one_row_for_every_meeting_and_no_other(store, targets):
    assert set(targets) == set(_meetings(store))


def test_recorded_symbols_are_those_of_the_graph(store, targets):
    decisions = _decisions(store)
    for meeting, target in targets.items():
        assert sorted(target["recorded"]) == sorted(s for s, _ in decisions.get(meeting, [])), (
            meeting
        )


def test_official_counts_are_the_graphs_and_floors_only_where_it_has_none(store, targets):
    meetings = _meetings(store)
    for meeting, target in targets.items():
        official = meetings[meeting]["official"]
        if target["count_kind"] == "official":
            assert target["count"] == official, meeting
            assert target["count_source"], f"{meeting}: an official count needs its source"
        else:
            assert official is None, f"{meeting}: the graph has an official count"


def test_counts_are_at_least_the_decisions_recorded(store, targets):
    decisions = _decisions(store)
    for meeting, target in targets.items():
        here = decisions.get(meeting, [])
        numbers = [n for _, n in here]
        assert target["count"] >= max(numbers, default=0), meeting
        if target["count_kind"] == "official":
            assert target["count"] >= len(here), meeting


def test_floor_source_names_the_highest_symbol_when_recorded(store, targets):
    decisions = _decisions(store)
    for meeting, target in targets.items():
        here = decisions.get(meeting, [])
        if target["count_kind"] != "floor" or not here:
            continue
        top_symbol, top = max(here, key=lambda item: item[1])
        if target["count"] == top:
            assert top_symbol in target["count_source"], meeting


def test_symbols_follow_the_meetings_pattern(targets):
    for meeting, target in targets.items():
        pattern = re.escape(target["pattern"]).replace("n", r"(\d+)")
        for symbol in target["recorded"] + target["searched_not_found"]:
            assert re.fullmatch(pattern, symbol), f"{meeting}: {symbol} is not {target['pattern']}"


def test_symbols_searched_and_not_found_are_not_recorded(store, targets):
    recorded = {s for here in _decisions(store).values() for s, _ in here}
    for meeting, target in targets.items():
        assert not set(target["searched_not_found"]) & recorded, meeting


def test_the_report_lists_every_meeting_with_its_counts(store, report, targets):
    meetings = _meetings(store)
    decisions = _decisions(store)
    rows = {m["meeting"]: m for m in report["meetings"]}
    assert set(rows) == set(meetings)
    for meeting, row in rows.items():
        assert row["in_graph"] == len(decisions.get(meeting, [])), meeting
        assert row["count"] == targets[meeting]["count"], meeting
        assert row["count_kind"] == targets[meeting]["count_kind"], meeting
        assert row["official"] == meetings[meeting]["official"], meeting
    assert report["problems"] == []
    assert report["totals"]["decisions_in_graph"] == sum(len(v) for v in decisions.values())


def test_the_rendered_report_shows_each_meeting_adopted_or_floor_and_source(report):
    text = reports.render_coverage(report)
    lines = text.splitlines()
    for m in report["meetings"]:
        series = f"{'ExCOP' if m['extraordinary'] else 'COP'}-{m['ordinal']}"
        matching = [
            line for line in lines if line.startswith(m["convention"]) and f" {series} " in line
        ]
        assert len(matching) == 1, (m["convention"], series)
        line = matching[0]
        if m["count_kind"] == "official":
            assert f" {m['count']} " in line
        else:
            assert f"not confirmed: floor {m['count']}" in line
        assert m["count_source"][:20] in line
    assert "Target list against the graph: agrees" in text


def test_per_convention_totals_add_up(report):
    by_convention = report["conventions"]
    assert (
        sum(c["decisions"] for c in by_convention.values())
        == (report["totals"]["decisions_in_graph"])
    )
    assert (
        sum(c["with_title"] for c in by_convention.values())
        == (report["totals"]["decisions_with_title"])
    )


def test_a_disagreeing_target_list_is_reported(store, tmp_path, targets):
    text = reports.TARGETS_PATH.read_text(encoding="utf-8")
    meeting = next(iter(targets)).removeprefix(ID)
    lines = [
        line for line in text.splitlines() if not line.startswith(meeting + ",")
    ]  # one meeting dropped
    broken = tmp_path / "targets.csv"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = reports.coverage(store, broken)["problems"]
    assert problems == [f"{meeting}: not in the target list"]
