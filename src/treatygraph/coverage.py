"""How complete a list of decisions is: decisions recorded in the graph against decisions adopted.

The graph does not hold every decision of every meeting. An answer that lists decisions therefore
says, for the meetings it draws on, how many decisions the graph records and how many the meetings
adopted: the official count where one is known (the meeting's tg:decisionsAdopted, or an official
count in `data/coverage/targets.csv`), else "not confirmed", with the lower bound the numbering
gives (the highest decision number seen, from the target list or the graph). A legal officer must
never mistake a partial list for a complete one.

Nothing here knows a web framework or a store: give it the rows of the `decision-coverage` question
(`QUERY`; cells may be plain strings or terms with a `.value`) and, optionally, the target list
(`reports.read_targets()` by default). The command line, the pages and the JSON API use it alike.

    rows = run(queries.get(coverage.QUERY).bind())
    coverage.of_year(rows, 2023).sentence()
    # '37 decisions recorded in the graph for the 4 meetings that began in 2023; adopted: ...'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from treatygraph import reports

if TYPE_CHECKING:
    from treatygraph.queries import NamedQuery

QUERY = "decision-coverage"
Rows = Iterable[Mapping[str, Any]]


@dataclass(frozen=True)
class MeetingCoverage:
    """One meeting: decisions recorded, and adopted (None when no official count is known)."""

    meeting: str
    label: str
    convention: str
    convention_label: str
    start: str | None
    recorded: int
    adopted: int | None  # the official count, when confirmed
    at_least: int  # when not confirmed: the lower bound the numbering gives
    source: str  # where the count (or the bound) comes from

    @property
    def confirmed(self) -> bool:
        return self.adopted is not None

    @property
    def complete(self) -> bool:
        return self.adopted is not None and self.recorded >= self.adopted

    def to_dict(self) -> dict:
        return {
            "meeting": self.meeting,
            "label": self.label,
            "recorded": self.recorded,
            "adopted": self.adopted,
            "confirmed": self.confirmed,
            "atLeast": None if self.confirmed else self.at_least,
            "source": self.source,
        }


@dataclass(frozen=True)
class Coverage:
    """Decisions recorded against decisions adopted, for the meetings an answer draws on."""

    scope: str  # the meetings, after "the N meetings ": "that began in 2023"
    meetings: tuple[MeetingCoverage, ...]

    @property
    def recorded(self) -> int:
        return sum(m.recorded for m in self.meetings)

    @property
    def confirmed(self) -> list[MeetingCoverage]:
        return [m for m in self.meetings if m.confirmed]

    @property
    def unconfirmed(self) -> list[MeetingCoverage]:
        return [m for m in self.meetings if not m.confirmed]

    @property
    def adopted(self) -> int | None:
        """Decisions adopted at the meetings with an official count (None when none has one)."""
        return sum(m.adopted or 0 for m in self.confirmed) if self.confirmed else None

    @property
    def at_least(self) -> int:
        """Decisions adopted at the other meetings, at least (by their numbering)."""
        return sum(m.at_least for m in self.unconfirmed)

    @property
    def missing(self) -> int:
        """Decisions adopted at meetings with an official count that the graph does not hold."""
        return sum(max(0, (m.adopted or 0) - m.recorded) for m in self.confirmed)

    @property
    def complete(self) -> bool:
        """Every meeting has an official count, and every decision it counts is recorded."""
        return all(m.complete for m in self.meetings)

    def sentence(self) -> str:
        """What a person reads under the list."""
        n = len(self.meetings)
        if n == 0:
            return f"No meeting {self.scope} is in the graph: no decisions are recorded for it."
        recorded = _count(self.recorded, "decision")
        if n == 1:
            where = f"the meeting {self.scope}" if self.scope else "this meeting"
        else:
            where = f"the {n} meetings {self.scope}"
        head = f"{recorded} recorded in the graph for {where}"
        if not self.unconfirmed:
            counts = "official count" if n == 1 else "official counts"
            adopted = f"adopted: {self.adopted} ({counts})"
            if self.complete:
                return f"{head}; {adopted}: complete."
            return f"{head}; {adopted}: {self.missing} not recorded, so the list is incomplete."
        bound = f"at least {self.at_least} by numbering"
        if n == 1:
            adopted = f"adopted: not confirmed ({bound})"
        elif not self.confirmed:
            adopted = f"adopted: not confirmed for {n} of {n} meetings ({bound})"
        else:
            c, u = len(self.confirmed), len(self.unconfirmed)
            there = sum(m.recorded for m in self.confirmed)
            adopted = (
                f"adopted: {self.adopted} at the {_count(c, 'meeting')} with an official count "
                f"({there} recorded there), not confirmed for {u} of {n} meetings ({bound})"
            )
        return f"{head}; {adopted}. The list may be incomplete."

    def to_dict(self) -> dict:
        """For JSON answers."""
        return {
            "scope": self.scope,
            "meetings": len(self.meetings),
            "recorded": self.recorded,
            "adopted": self.adopted,
            "meetingsWithOfficialCount": len(self.confirmed),
            "meetingsNotConfirmed": len(self.unconfirmed),
            "atLeast": self.at_least if self.unconfirmed else None,
            "complete": self.complete,
            "text": self.sentence(),
            "perMeeting": [m.to_dict() for m in self.meetings],
        }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _v(row: Mapping[str, Any], key: str) -> str | None:
    cell = row.get(key)
    if cell is None:
        return None
    return getattr(cell, "value", cell)


def meetings(rows: Rows, targets: Mapping[str, dict] | None = None) -> list[MeetingCoverage]:
    """Every meeting of the `decision-coverage` rows, with its count and how sure it is."""
    targets = reports.read_targets() if targets is None else targets
    found = []
    for row in rows:
        iri = _v(row, "meeting")
        if not iri:
            continue
        target = targets.get(iri)
        official = _v(row, "official")
        adopted = int(official) if official is not None else None
        source = "tg:decisionsAdopted in the graph" if adopted is not None else ""
        if target and target["count_kind"] == "official":
            if adopted is None:
                adopted = target["count"]
            source = target["count_source"] or source
        recorded = int(_v(row, "inGraph") or 0)
        highest = _v(row, "highestNumber")
        floor = target["count"] if target and target["count_kind"] == "floor" else 0
        if adopted is None and target:
            source = target["count_source"]
        convention = _v(row, "convention") or ""
        found.append(
            MeetingCoverage(
                meeting=iri,
                label=_v(row, "label") or iri,
                convention=convention,
                convention_label=_v(row, "conventionLabel") or convention,
                start=_v(row, "start"),
                recorded=recorded,
                adopted=adopted,
                at_least=max(recorded, int(highest) if highest else 0, floor),
                source=source,
            )
        )
    return found


def of_meetings(
    rows: Rows, iris: Iterable[str], scope: str, targets: Mapping[str, dict] | None = None
) -> Coverage:
    """The coverage of the given meetings (those the rows know; others are left out)."""
    wanted = set(iris)
    chosen = [m for m in meetings(rows, targets) if m.meeting in wanted]
    return Coverage(scope, tuple(sorted(chosen, key=_order)))


def of_meeting(rows: Rows, iri: str, targets: Mapping[str, dict] | None = None) -> Coverage:
    """The coverage of one meeting (for its page): no meeting when it is not a COP meeting."""
    return of_meetings(rows, [iri], "", targets) if iri else Coverage("", ())


def of_year(
    rows: Rows,
    year: int | str | None,
    *,
    since: bool = False,
    excluding: str | None = None,
    targets: Mapping[str, dict] | None = None,
) -> Coverage:
    """The meetings that began in `year` (or in or after it, `since`), leaving out the meetings
    of the convention `excluding`; every meeting when `year` is None."""
    every = meetings(rows, targets)
    labels = {m.convention: m.convention_label for m in every}
    if year is None:
        chosen, scope = every, "of the conferences of the Parties"
    else:
        y = str(year)
        if since:
            chosen = [m for m in every if m.start and m.start[:4] >= y]
            scope = f"that began in or after {y}"
        else:
            chosen = [m for m in every if m.start and m.start[:4] == y]
            scope = f"that began in {y}"
    if excluding:
        chosen = [m for m in chosen if m.convention != excluding]
        name = labels.get(excluding) or excluding.rsplit("/", 1)[-1]
        scope += f", other than those of the {name}"
    return Coverage(scope, tuple(sorted(chosen, key=_order)))


def of_convention(
    rows: Rows, convention: str | None = None, targets: Mapping[str, dict] | None = None
) -> Coverage:
    """The meetings of one convention's Conference of the Parties (of all four when None)."""
    every = meetings(rows, targets)
    if convention is None:
        return Coverage("of the conferences of the Parties", tuple(sorted(every, key=_order)))
    chosen = [m for m in every if m.convention == convention]
    name = chosen[0].convention_label if chosen else convention.rsplit("/", 1)[-1]
    return Coverage(
        f"of the Conference of the Parties to the {name}", tuple(sorted(chosen, key=_order))
    )


def of_filters(
    rows: Rows,
    *,
    convention: str | None = None,
    meeting: str | None = None,
    year: int | str | None = None,
    targets: Mapping[str, dict] | None = None,
) -> Coverage:
    """The meetings a list's filters select (a convention, a meeting, the year they began)."""
    chosen = meetings(rows, targets)
    scope = []
    if meeting:
        chosen = [m for m in chosen if m.meeting == meeting]
    if convention:
        chosen = [m for m in chosen if m.convention == convention]
        name = chosen[0].convention_label if chosen else convention.rsplit("/", 1)[-1]
        scope.append(f"of the {name}")
    if year is not None:
        chosen = [m for m in chosen if m.start and m.start[:4] == str(year)]
        scope.append(f"that began in {year}")
    if not (meeting or scope):
        scope.append("of the conferences of the Parties")
    return Coverage(" ".join(scope), tuple(sorted(chosen, key=_order)))


def _order(m: MeetingCoverage) -> tuple:
    return (m.start or "", m.convention_label, m.meeting)


def for_question(
    query: NamedQuery,
    values: Mapping[str, str | None],
    rows: Rows,
    targets: Mapping[str, dict] | None = None,
) -> Coverage | None:
    """The coverage of a question's answer, from its `# coverage:` header line and the values it
    ran with (resolved: years, IRIs; the question's defaults for the others); None when the
    question lists no decisions."""
    spec = query.coverage
    if not spec:
        return None
    effective = {**query.defaults(), **{k: v for k, v in values.items() if v}}
    words = spec.split()
    excluding = None
    if "except" in words:
        at = words.index("except")
        excluding = effective.get(words[at + 1].lstrip("?"))
        words = words[:at]
    if words[0] == "all":
        return of_year(rows, None, excluding=excluding, targets=targets)
    year = effective.get(words[1].lstrip("?"))
    return of_year(rows, year, since=words[0] == "since", excluding=excluding, targets=targets)
