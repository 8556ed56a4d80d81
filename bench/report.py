"""Write a run's figures: raw JSON, a Markdown report with ratios and targets, and a PNG chart."""

from __future__ import annotations

import json
from pathlib import Path

PEERS = ("rdflib-endpoint", "oxigraph")
MiB = 2**20


def _cell(text) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "/")


def _fmt(value, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{suffix}"
    return f"{value:,}{suffix}"


def _mib(value) -> str:
    return "–" if not value else f"{value / MiB:,.0f}"


def _throughput(entry: dict, part: str, clients: int):
    cell = (entry.get(part) or {}).get(str(clients))
    return cell["throughput"] if cell else None


def _ratio(a, b) -> str:
    if not a or not b:
        return "–"
    return f"{a / b:,.2f}×"


def targets(results: dict) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) rows; measured, never asserted."""
    rows = []
    by_scale = {s["scale"]: s for s in results.get("scales", [])}

    def tg(scale):
        return by_scale.get(scale, {}).get("systems", {}).get("treatygraph", {})

    for scale in sorted(by_scale):
        systems = by_scale[scale].get("systems", {})
        ours = systems.get("treatygraph", {})
        for peer, goal in (("rdflib-endpoint", 30.0), ("oxigraph", 0.7)):
            theirs = systems.get(peer, {})
            part = "sparql" if theirs.get("sparql") else "sparql_common"
            mix_name = "full mix" if part == "sparql" else "common mix"
            for clients in results["options"]["clients"]:
                a = _throughput(ours, part, clients)
                b = _throughput(theirs, part, clients)
                if a and b:
                    ratio = a / b
                    rows.append(
                        (
                            f"SPARQL throughput ≥ {goal:g}× {peer} "
                            f"({scale}x, {mix_name}, {clients} client{'s' if clients > 1 else ''})",
                            f"{ratio:,.2f}×",
                            "met" if ratio >= goal else "missed",
                        )
                    )
            bound = theirs.get("full_mix_bound_1_client")
            a = _throughput(ours, "sparql", 1)
            if part == "sparql_common" and bound and a:
                rows.append(
                    (
                        f"SPARQL throughput ≥ {goal:g}× {peer} ({scale}x, full mix, 1 client; "
                        "peer bounded by its timeouts)",
                        f"≥ {a / bound:,.1f}×",
                        "met" if a / bound >= goal else "not shown",
                    )
                )
    for scale, limit in ((1, 5.0), (100, 50.0)):
        web = tg(scale).get("web", {}).get("1")
        if web:
            values = [
                web["by_kind"][k]["p50_ms"] for k in ("json-list", "search") if k in web["by_kind"]
            ]
            worst = max(v for v in values if v is not None) if values else None
            rows.append(
                (
                    f"JSON API p50 < {limit:g} ms at {scale}x (1 client; lists and search)",
                    _fmt(worst, 1, " ms"),
                    "–" if worst is None else ("met" if worst < limit else "missed"),
                )
            )
        else:
            rows.append((f"JSON API p50 < {limit:g} ms at {scale}x", "not run", "–"))
    validation = results.get("validation") or {}
    seconds = validation.get("seconds")
    cpu = validation.get("cpu_seconds")
    measured = (
        _fmt(seconds, 1, " s") if seconds is not None else validation.get("status", "not run")
    )
    if cpu is not None:
        measured += f" wall, {cpu:.1f} s CPU"
    verdict = "–" if seconds is None else ("met" if seconds < 5 else "missed")
    if cpu is not None and seconds is not None and seconds >= 5 > cpu:
        verdict = "met in CPU time; wall time missed on this loaded machine"
    rows.append(("shipped data validated < 5 s", measured, verdict))
    big = tg(1000)
    if str(big.get("status", "")).startswith("ok"):
        rss = big.get("peak_rss_bytes") or 0
        cold = big.get("cold_start_seconds")
        rows.append(
            ("1000x served in < 2 GB RSS", f"{rss / 1e9:.2f} GB", "met" if rss < 2e9 else "missed")
        )
        rows.append(
            (
                "1000x cold start < 10 s",
                _fmt(cold, 2, " s"),
                "met" if cold and cold < 10 else "missed",
            )
        )
    else:
        reason = by_scale.get(1000, {}).get("status") or big.get("status") or "not in this run"
        rows.append(("1000x served in < 2 GB RSS, cold start < 10 s", reason, "–"))
    return rows


def markdown(results: dict) -> str:
    clients = results["options"]["clients"]
    m = results["machine"]
    lines = [
        "# treatygraph benchmark",
        "",
        f"Run {results['started']} → {results.get('finished', '?')} on {m['cpus']} CPUs, "
        f"{(m.get('memory_bytes') or 0) / 1e9:.0f} GB RAM, Python {m['python']}; "
        f"load average {m['load_average_at_start']} at start, "
        f"{m.get('load_average_at_end')} at end (other work on the machine shows here).",
        f"Each cell: {results['options']['duration_seconds']:g} s or "
        f"{results['options']['max_requests']} requests, whichever comes first; "
        f"request timeout {results['options']['request_timeout_seconds']:g} s; "
        "closed-loop clients with keep-alive connections, all on 127.0.0.1.",
        f"Versions: {json.dumps(m.get('versions', {}))}.",
        "",
        f"SPARQL mix (sent to all three): {', '.join(results['sparql_mix'])}. "
        "The full mix is measured on every system that answered all of it in the one-by-one "
        "check; the common mix leaves out what some system could not answer within the timeout "
        "(listed per scale), and is what the ratio to that system uses.",
        f"Web mix (treatygraph only): {len(results['web_mix'])} requests — IRIs as Turtle and as "
        "HTML, paginated JSON lists, search.",
        "",
    ]
    validation = results.get("validation")
    if validation:
        cpu = validation.get("cpu_seconds")
        lines += [
            f"Validation of the shipped data (`treatygraph validate`): "
            f"{_fmt(validation.get('seconds'), 1, ' s')} wall"
            + (f", {cpu:.1f} s CPU" if cpu is not None else "")
            + f" ({validation.get('status')})"
            + (f"; {validation['note']}" if validation.get("note") else "")
            + ".",
            "",
        ]
    lines += ["## Targets (measured, not asserted)", "", "| target | measured | |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in targets(results)]
    lines.append("")
    for scale in results.get("scales", []):
        lines += _scale_section(scale, clients)
    return "\n".join(lines) + "\n"


def _scale_section(scale: dict, clients: list[int]) -> list[str]:
    s = scale["scale"]
    lines = [f"## {s}x", ""]
    if scale.get("from_run"):
        lines += [f"Measured in another run of the same command ({scale['from_run']}).", ""]
    if scale.get("status"):
        return lines + [scale["status"], ""]
    data = scale.get("data", {})
    lines.append(
        f"{data.get('quads', 0):,} quads, {data.get('bytes', 0) / 1e6:,.0f} MB of N-Quads, "
        f"generated in {_fmt(data.get('generate_seconds'), 1, ' s')}"
        + (" (cached)" if data.get("cached") else "")
        + "."
    )
    if scale.get("excluded_from_common_mix"):
        lines.append(
            "Left out of the common mix (some system timed out or failed on it): "
            + ", ".join(scale["excluded_from_common_mix"])
            + "."
        )
    lines.append("")
    head = ["system", "status", "load s", "cold start s", "peak RSS MiB"]
    head += [f"req/s ×{c}" for c in clients]
    head += [f"p50 ms ×{c}" for c in clients] + [f"p99 ms ×{c}" for c in clients]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    systems = scale.get("systems", {})
    for name, entry in systems.items():
        for part, mix_name in (("sparql", "full mix"), ("sparql_common", "common mix")):
            if part == "sparql_common" and not entry.get(part):
                continue
            cells = entry.get(part, {})
            row = [
                f"{name} ({mix_name})",
                _cell(entry.get("status", "–")),
                _fmt(entry.get("load_seconds"), 2),
                _fmt(entry.get("cold_start_seconds"), 2),
                _mib(entry.get("peak_rss_bytes")),
            ]
            row += [_fmt((cells.get(str(c)) or {}).get("throughput"), 1) for c in clients]
            row += [_fmt((cells.get(str(c)) or {}).get("p50_ms"), 1) for c in clients]
            row += [_fmt((cells.get(str(c)) or {}).get("p99_ms"), 1) for c in clients]
            lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    ours = systems.get("treatygraph", {})
    ratio_rows = []
    for peer in PEERS:
        theirs = systems.get(peer, {})
        for part, mix_name in (("sparql", "full mix"), ("sparql_common", "common mix")):
            if not theirs.get(part) or not ours.get(part):
                continue
            ratio_rows.append(
                f"| treatygraph / {peer} ({mix_name}) | "
                + " | ".join(
                    _ratio(_throughput(ours, part, c), _throughput(theirs, part, c))
                    for c in clients
                )
                + " |"
            )
        bound = theirs.get("full_mix_bound_1_client")
        a = _throughput(ours, "sparql", 1)
        if not theirs.get("sparql") and bound and a:
            ratio_rows.append(
                f"| treatygraph / {peer} (full mix, from the one-by-one check: {peer} "
                f"≤ {bound:.3f} req/s) | ≥ {a / bound:,.1f}× |" + " |" * (len(clients) - 1)
            )
    lines += [
        "| SPARQL throughput ratio | " + " | ".join(f"×{c}" for c in clients) + " |",
        "|---|" + "---|" * len(clients),
        *ratio_rows,
        "",
    ]
    lines += _per_kind(ours, systems, clients)
    lines += _answers(scale)
    return lines


def _per_kind(ours: dict, systems: dict, clients: list[int]) -> list[str]:
    lines = []
    web = ours.get("web")
    if web:
        kinds = sorted({k for cell in web.values() for k in cell["by_kind"]})
        head = ["treatygraph web request", *[f"p50/p99 ms ×{c}" for c in clients]]
        head += [f"req/s ×{c} (whole web mix)" for c in clients[:1]]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for kind in kinds:
            row = [kind]
            for c in clients:
                k = (web.get(str(c)) or {}).get("by_kind", {}).get(kind)
                row.append(f"{_fmt(k['p50_ms'])} / {_fmt(k['p99_ms'])}" if k else "–")
            row.append(_fmt((web.get(str(clients[0])) or {}).get("throughput"), 1))
            lines.append("| " + " | ".join(row) + " |")
        lines.append(
            "| whole web mix req/s | "
            + " | ".join(_fmt((web.get(str(c)) or {}).get("throughput"), 1) for c in clients)
            + " | |"
        )
        lines.append("")

    # SPARQL p50 per kind at one client, all systems.
    def cells_of(n):
        return systems[n].get("sparql") or systems[n].get("sparql_common") or {}

    names = [n for n in systems if cells_of(n)]
    if names:
        kinds = sorted({k for n in names for k in cells_of(n).get("1", {}).get("by_kind", {})})
        lines += [
            "| SPARQL p50 ms, 1 client (full mix, else common mix) | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for kind in kinds:
            row = [kind]
            for n in names:
                k = cells_of(n).get("1", {}).get("by_kind", {}).get(kind)
                row.append(_fmt(k["p50_ms"]) if k else "–")
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    return lines


def _answers(scale: dict) -> list[str]:
    rows = scale.get("answers") or []
    if not rows:
        return []
    names = sorted({n for r in rows for n in r["systems"]} - {"treatygraph"})
    lines = [
        "| answer check (1 client, once) | treatygraph ms | "
        + " | ".join(f"{n} ms, same answer?" for n in names)
        + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for row in rows:
        ours = row["systems"].get("treatygraph", {})
        cells = [
            row["label"],
            _fmt(ours.get("ms")) if ours.get("status") == "ok" else _cell(ours.get("status", "–")),
        ]
        for n in names:
            e = row["systems"].get(n)
            if not e:
                cells.append("–")
            elif e.get("status") != "ok":
                cells.append(_cell(e["status"])[:60])
            else:
                same = e.get("same_as_treatygraph")
                verdict = {True: "same", False: "DIFFERS", None: "no treatygraph answer to compare"}
                cells.append(f"{_fmt(e.get('ms'))}, {verdict[same]}")
        lines.append("| " + " | ".join(cells) + " |")
    differing = [
        f"- {row['label']} ({n}): {e['difference']}"
        for row in rows
        for n, e in row["systems"].items()
        if e.get("difference")
    ]
    lines.append("")
    if differing:
        lines += ["Differences:", "", *differing, ""]
    return lines


def chart(results: dict, target: Path) -> bool:
    """SPARQL throughput per scale and concurrency, one bar per system (log scale)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    clients = results["options"]["clients"]
    scales = [s for s in results.get("scales", []) if s.get("systems")]
    names = ["treatygraph", "oxigraph", "rdflib-endpoint"]
    colours = {"treatygraph": "#1f77b4", "oxigraph": "#2ca02c", "rdflib-endpoint": "#d62728"}
    groups = [(s["scale"], c) for s in scales for c in clients]
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(groups) + 2), 4), dpi=100)
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        values, hatches = [], []
        for scale, c in groups:
            entry = next(s for s in scales if s["scale"] == scale)["systems"].get(name, {})
            part = "sparql" if entry.get("sparql") else "sparql_common"
            values.append(_throughput(entry, part, c) or 0)
            hatches.append("" if part == "sparql" else "//")
        xs = [g + (i - 1) * width for g in range(len(groups))]
        bars = ax.bar(xs, values, width, label=name, color=colours[name])
        for bar, hatch in zip(bars, hatches, strict=True):
            bar.set_hatch(hatch)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{s}x\n×{c}" for s, c in groups], fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("SPARQL mix requests/s (log)")
    ax.set_title(
        "SPARQL throughput by scale and clients (hatched: common mix only; none: not run)",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(target)
    plt.close(fig)
    return True


def write(results: dict, directory: Path, name: str = "latest") -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    raw = directory / f"{name}.json"
    raw.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    written.append(raw)
    md = directory / f"{name}.md"
    md.write_text(markdown(results))
    written.append(md)
    png = directory / f"{name}.png"
    if chart(results, png):
        written.append(png)
    return written
