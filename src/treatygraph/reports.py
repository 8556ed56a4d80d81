"""Reports a person reads: resource counts, and decision coverage per meeting."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from treatygraph import queries
from treatygraph.sources import REPO_ROOT
from treatygraph.store import Store

ID = "https://w3id.org/treatygraph/id/"
TARGETS_PATH = REPO_ROOT / "data" / "coverage" / "targets.csv"
TARGET_COLUMNS = [
    "meeting",
    "pattern",
    "count",
    "count_kind",
    "count_source",
    "recorded",
    "searched_not_found",
    "note",
]
COUNT_KINDS = ("official", "floor")


def counts(store: Store) -> dict:
    """Resources per class, plus graphs and quads."""
    result = store.query(queries.get("class-counts").bind())
    classes = {row["label"].value: int(row["count"].value) for row in result.rows()}
    return {"quads": store.count(), "graphs": len(store.graphs()), "classes": classes}


def read_targets(path: Path = TARGETS_PATH) -> dict[str, dict]:
    """The target list: one row per meeting, keyed by the meeting's IRI.

    `data/coverage/targets.csv` (lines starting with # are comments) gives, for every meeting, the
    number of decisions it adopted where an official source states it (`count_kind` official, with
    `count_source`), otherwise the highest decision number seen (`count_kind` floor: a lower bound,
    not a confirmed count); the symbols recorded in the graph and those searched for and not found.
    Read once per version of the file (the pages and the JSON API ask on every list of decisions);
    the rows are shared: do not change them.
    """
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return {}
    return dict(_parsed_targets(path, stamp))


@lru_cache(maxsize=4)
def _parsed_targets(path: Path, stamp: int) -> dict[str, dict]:
    """The parsed target list of one version (`stamp`: its modification time) of the file."""
    text = "".join(
        line
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True)
        if not line.lstrip().startswith("#")
    )
    targets = {}
    for number, row in enumerate(csv.DictReader(io.StringIO(text)), start=1):
        missing = [c for c in TARGET_COLUMNS if c not in row]
        if missing:
            raise ValueError(f"{path}: row {number}: missing column(s) {', '.join(missing)}")
        kind = row["count_kind"].strip()
        if kind not in COUNT_KINDS:
            raise ValueError(f"{path}: row {number}: count_kind must be official or floor")
        meeting = ID + row["meeting"].strip()
        targets[meeting] = {
            "meeting": meeting,
            "pattern": row["pattern"].strip(),
            "count": int(row["count"]),
            "count_kind": kind,
            "count_source": row["count_source"].strip(),
            "recorded": row["recorded"].split(),
            "searched_not_found": row["searched_not_found"].split(),
            "note": (row.get("note") or "").strip(),
        }
    return targets


def _decisions(store: Store) -> list[dict]:
    """Every decision with its meeting, symbol, number, convention and whether it has a title."""
    text = """
        PREFIX tg: <https://w3id.org/treatygraph/ontology#>
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?decision ?meeting ?symbol ?number ?convention (SAMPLE(?t) AS ?title) WHERE {
          ?decision a tg:Decision ; tg:adoptedAt ?meeting .
          OPTIONAL { ?decision tg:symbol ?symbol }
          OPTIONAL { ?decision tg:decisionNumber ?number }
          OPTIONAL { ?meeting tg:meetingOf/tg:bodyOf ?convention }
          OPTIONAL { ?decision dcterms:title ?t }
        } GROUP BY ?decision ?meeting ?symbol ?number ?convention
    """
    rows = []
    for row in store.query(text).rows():
        rows.append(
            {
                "decision": row["decision"].value,
                "meeting": row["meeting"].value,
                "symbol": row["symbol"].value if "symbol" in row else "",
                "number": int(row["number"].value) if "number" in row else None,
                "convention": row["convention"].value if "convention" in row else "",
                "titled": "title" in row,
            }
        )
    return rows


def coverage(store: Store, targets_path: Path = TARGETS_PATH) -> dict:
    """Per meeting: decisions in the graph, against the target count (official, or a floor).

    The official count is the meeting's tg:decisionsAdopted in the graph; the target list
    (`data/coverage/targets.csv`) repeats it with its source, and gives a floor (the highest
    decision number seen) for meetings without one. Where the list and the graph disagree, the
    disagreement is reported under `problems`. A meeting is reported missing when its series has a
    gap in its ordinals (COP-1, COP-3 but no COP-2): the graph knows a series' meetings only from
    the meetings it holds.
    """
    result = store.query(queries.get("decision-coverage").bind())
    targets = read_targets(targets_path)
    decisions = _decisions(store)
    by_meeting: dict[str, list[dict]] = defaultdict(list)
    for d in decisions:
        by_meeting[d["meeting"]].append(d)
    meetings = []
    problems = []
    ordinals: dict[tuple[str, bool], set[int]] = defaultdict(set)
    for row in result.rows():
        official = int(row["official"].value) if "official" in row else None
        in_graph = int(row["inGraph"].value)
        extraordinary = row.get("extraordinary") is not None and row["extraordinary"].value in (
            "true",
            "1",
        )
        convention = row.get("conventionLabel", row["convention"]).value
        ordinal = int(row["ordinal"].value)
        ordinals[(convention, extraordinary)].add(ordinal)
        iri = row["meeting"].value
        here = by_meeting.get(iri, [])
        symbols = sorted(d["symbol"] for d in here)
        numbers = [n for n in (d["number"] for d in here) if n is not None]
        target = targets.get(iri)
        name = iri.removeprefix(ID)
        if target is None:
            problems.append(f"{name}: not in the target list")
        else:
            if sorted(target["recorded"]) != symbols:
                problems.append(
                    f"{name}: target list records {len(target['recorded'])} symbol(s), "
                    f"the graph {len(symbols)}"
                )
            if target["count_kind"] == "official" and target["count"] != official:
                problems.append(
                    f"{name}: target list says {target['count']} adopted, "
                    f"the graph's tg:decisionsAdopted {official}"
                )
            if target["count_kind"] == "floor" and official is not None:
                problems.append(f"{name}: graph has an official count, target list a floor")
            if numbers and target["count"] < max(numbers):
                problems.append(f"{name}: count {target['count']} below number {max(numbers)}")
            found = set(target["searched_not_found"]) & set(symbols)
            if found:
                problems.append(f"{name}: listed as not found but recorded: {sorted(found)}")
        count = target["count"] if target else official
        kind = target["count_kind"] if target else ("official" if official is not None else None)
        meetings.append(
            {
                "meeting": iri,
                "label": row["label"].value if "label" in row else iri,
                "convention": convention,
                "ordinal": ordinal,
                "extraordinary": extraordinary,
                "start": row["start"].value if "start" in row else None,
                "official": official,
                "in_graph": in_graph,
                "with_title": sum(1 for d in here if d["titled"]),
                "count": count,
                "count_kind": kind,
                "count_source": target["count_source"] if target else "",
                "searched_not_found": target["searched_not_found"] if target else [],
                "complete": official is not None and in_graph >= official,
            }
        )
    known = {m["meeting"] for m in meetings}
    problems += [
        f"{m.removeprefix(ID)}: in the target list but not a meeting in the graph"
        for m in sorted(set(targets) - known)
    ]
    missing = [
        f"{convention} {'ExCOP' if extraordinary else 'COP'}-{n}"
        for (convention, extraordinary), seen in sorted(ordinals.items())
        for n in range(1, max(seen) + 1)
        if n not in seen
    ]
    conventions: dict[str, dict] = {}
    for m in meetings:
        c = conventions.setdefault(
            m["convention"],
            {"meetings": 0, "decisions": 0, "with_title": 0, "confirmed_counts": 0},
        )
        c["meetings"] += 1
        c["decisions"] += m["in_graph"]
        c["with_title"] += m["with_title"]
        c["confirmed_counts"] += m["official"] is not None
    totals = {
        "meetings": len(meetings),
        "decisions_in_graph": sum(m["in_graph"] for m in meetings),
        "decisions_with_title": sum(m["with_title"] for m in meetings),
        "decisions_official": sum(m["official"] or 0 for m in meetings),
        "meetings_complete": sum(1 for m in meetings if m["complete"]),
        "meetings_without_official_count": sum(1 for m in meetings if m["official"] is None),
        "searched_not_found": sum(len(m["searched_not_found"]) for m in meetings),
    }
    return {
        "meetings": meetings,
        "conventions": conventions,
        "missing_meetings": missing,
        "problems": problems,
        "totals": totals,
    }


def render_counts(report: dict) -> str:
    rows = [[label, str(count)] for label, count in report["classes"].items()]
    head = f"{report['quads']} quads in {report['graphs']} named graphs\n"
    return head + table(["class", "resources"], rows)


def render_coverage(report: dict) -> str:
    rows = []
    for m in report["meetings"]:
        series = "ExCOP" if m["extraordinary"] else "COP"
        if m["count"] is None:
            adopted, status = "?", "unknown"
        elif m["count_kind"] == "official":
            adopted = str(m["count"])
            status = "complete" if m["complete"] else "partial"
        else:
            adopted, status = f"not confirmed: floor {m['count']}", "unconfirmed"
        rows.append(
            [
                m["convention"],
                f"{series}-{m['ordinal']}",
                m["start"] or "",
                str(m["in_graph"]),
                str(m["with_title"]),
                adopted,
                status,
                m["count_source"],
            ]
        )
    columns = ["convention", "meeting", "start", "recorded", "titled", "adopted", "status"]
    out = table([*columns, "source of the count"], rows)
    out += "\n\n" + table(
        ["convention", "meetings", "decisions recorded", "with official title", "counts confirmed"],
        [
            [name, str(c["meetings"]), str(c["decisions"]), str(c["with_title"]),
             str(c["confirmed_counts"])]
            for name, c in sorted(report["conventions"].items())
        ],
    )  # fmt: skip
    t = report["totals"]
    out += (
        f"\n\n{t['meetings']} meetings; {t['decisions_in_graph']} decisions in the graph "
        f"({t['decisions_with_title']} with official title) "
        f"against {t['decisions_official']} stated officially for the meetings with a count; "
        f"{t['meetings_complete']} meetings complete; "
        f"{t['meetings_without_official_count']} meetings without an official count recorded "
        f"(floor: highest decision number seen, not confirmed); "
        f"{t['searched_not_found']} symbols searched and not found."
    )
    missing = report["missing_meetings"]
    out += "\nMeetings missing: " + (", ".join(missing) if missing else "none")
    problems = report.get("problems", [])
    out += "\nTarget list against the graph: " + ("; ".join(problems) if problems else "agrees")
    return out


def table(columns: list[str], rows: list[list[str]]) -> str:
    """A plain text table, columns padded to their widest cell."""
    widths = [len(c) for c in columns]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
    rule = "  ".join("-" * w for w in widths)
    body = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    return "\n".join([line, rule, *body, f"({len(rows)} rows)"])


def disagreements(result) -> dict:
    """The rows of the source-disagreements query, with counts by kind of action."""
    rows = [
        {
            "party": row["partyLabel"].value if "partyLabel" in row else row["party"].value,
            "iso3": row["iso3"].value if "iso3" in row else "",
            "instrument": row["instrument"].value.rsplit("/id/", 1)[-1],
            "kind": row["kind"].value.rsplit("/", 1)[-1],
            "ieadb": row["ieadbDate"].value,
            "ecolex": row["ecolexDate"].value,
        }
        for row in result.rows()
    ]
    by_kind: dict[str, int] = defaultdict(int)
    for row in rows:
        by_kind[row["kind"]] += 1
    return {"rows": rows, "by_kind": dict(sorted(by_kind.items()))}


def render_disagreements(report: dict) -> str:
    columns = ["party", "iso3", "instrument", "kind", "ieadb", "ecolex"]
    out = table(columns, [[row[c] for c in columns] for row in report["rows"]])
    counts = ", ".join(f"{n} {kind}" for kind, n in report["by_kind"].items())
    return (
        f"{out}\n\n{len(report['rows'])} dates differ between IEADB (primary) and ECOLEX"
        f"{': ' + counts if counts else ''}. The UN Treaty Collection is the legal authority."
    )
