"""Reports a person reads: resource counts, and decision coverage per meeting."""

from __future__ import annotations

from collections import defaultdict

from treatygraph import queries
from treatygraph.store import Store


def counts(store: Store) -> dict:
    """Resources per class, plus graphs and quads."""
    result = store.query(queries.get("class-counts").bind())
    classes = {row["label"].value: int(row["count"].value) for row in result.rows()}
    return {"quads": store.count(), "graphs": len(store.graphs()), "classes": classes}


def coverage(store: Store) -> dict:
    """Per meeting: decisions in the graph and the official count; and the meetings missing.

    A meeting is reported missing when its series has a gap in its ordinals (COP-1, COP-3 but no
    COP-2): the graph knows a series' meetings only from the meetings it holds.
    """
    result = store.query(queries.get("decision-coverage").bind())
    meetings = []
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
        meetings.append(
            {
                "meeting": row["meeting"].value,
                "label": row["label"].value if "label" in row else row["meeting"].value,
                "convention": convention,
                "ordinal": ordinal,
                "extraordinary": extraordinary,
                "start": row["start"].value if "start" in row else None,
                "official": official,
                "in_graph": in_graph,
                "complete": official is not None and in_graph >= official,
            }
        )
    missing = [
        f"{convention} {'ExCOP' if extraordinary else 'COP'}-{n}"
        for (convention, extraordinary), seen in sorted(ordinals.items())
        for n in range(1, max(seen) + 1)
        if n not in seen
    ]
    totals = {
        "meetings": len(meetings),
        "decisions_in_graph": sum(m["in_graph"] for m in meetings),
        "decisions_official": sum(m["official"] or 0 for m in meetings),
        "meetings_complete": sum(1 for m in meetings if m["complete"]),
        "meetings_without_official_count": sum(1 for m in meetings if m["official"] is None),
    }
    return {"meetings": meetings, "missing_meetings": missing, "totals": totals}


def render_counts(report: dict) -> str:
    rows = [[label, str(count)] for label, count in report["classes"].items()]
    head = f"{report['quads']} quads in {report['graphs']} named graphs\n"
    return head + table(["class", "resources"], rows)


def render_coverage(report: dict) -> str:
    rows = []
    for m in report["meetings"]:
        series = "ExCOP" if m["extraordinary"] else "COP"
        official = "?" if m["official"] is None else str(m["official"])
        status = "complete" if m["complete"] else "partial"
        if m["official"] is None:
            status = "unknown"
        rows.append(
            [
                m["convention"],
                f"{series}-{m['ordinal']}",
                m["start"] or "",
                str(m["in_graph"]),
                official,
                status,
            ]
        )
    out = table(["convention", "meeting", "start", "in graph", "official", "status"], rows)
    t = report["totals"]
    out += (
        f"\n\n{t['meetings']} meetings; {t['decisions_in_graph']} decisions in the graph "
        f"against {t['decisions_official']} stated officially for the meetings with a count; "
        f"{t['meetings_complete']} meetings complete; "
        f"{t['meetings_without_official_count']} meetings without an official count recorded."
    )
    missing = report["missing_meetings"]
    out += "\nMeetings missing: " + (", ".join(missing) if missing else "none")
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
