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

    mixes = _mixes(results)
    rows += short_targets(results)
    for scale in sorted(by_scale):
        search = tg(scale).get("search", {}).get("1")
        kind = (search or {}).get("by_kind", {}).get("search")
        if kind:
            rows.append(
                (
                    f"JSON search p50 < 50 ms at {scale}x (1 client; texts of words of 3 "
                    "characters or more)",
                    _fmt(kind["p50_ms"], 1, " ms"),
                    "met" if kind["p50_ms"] < 50 else "missed",
                )
            )
    if "sparql" not in mixes and "web" not in mixes:
        return rows
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


def _mixes(results: dict) -> tuple[str, ...]:
    return tuple(results["options"].get("mixes") or ("sparql", "web"))


def markdown(results: dict) -> str:
    clients = results["options"]["clients"]
    mixes = _mixes(results)
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
        f"Mixes measured: {', '.join(mixes)}"
        + (
            f" (short and questions: {results['options'].get('rounds', 1)} rounds of "
            "alternating cells, merged)"
            if {"short", "questions", "load"} & set(mixes)
            else ""
        )
        + ".",
        "",
    ]
    if "sparql" in mixes or "web" in mixes:
        lines += _main_mix_lines(results)
    if {"short", "questions"} & set(mixes):
        lines += SHORT_INTRO
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
        lines += _scale_section(scale, clients, mixes)
    return "\n".join(lines) + "\n"


def _main_mix_lines(results: dict) -> list[str]:
    return [
        f"SPARQL mix (sent to all three): {', '.join(results['sparql_mix'])}. "
        "The full mix is measured on every system that answered all of it in the one-by-one "
        "check; the common mix leaves out what some system could not answer within the timeout "
        "(listed per scale), and is what the ratio to that system uses.",
        f"Web mix (treatygraph only): {len(results['web_mix'])} requests — IRIs as Turtle and as "
        "HTML, paginated JSON lists, search.",
        "",
    ]


def _scale_section(scale: dict, clients: list[int], mixes=("sparql", "web")) -> list[str]:
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
    if "sparql" not in mixes and "web" not in mixes:
        return lines + _systems_table(scale.get("systems", {})) + _short_parts(scale, clients)
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
    return lines + _short_parts(scale, clients)


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
    if "sparql" in _mixes(results) and chart(results, png):
        written.append(png)
    return written


# -- the short, questions and load mixes (bench/short.py, bench/loadtime.py) -------------------

SHORT_INTRO = [
    "Short mix: DESCRIBE, a star join with FILTER/OPTIONAL, an ORDER BY/LIMIT page, CONSTRUCT of "
    "a neighbourhood and ASK, each about one resource (five of each type), on the grown treaty "
    "graph and on a generated product catalogue (bench/products.py); POSTed with "
    "`Cache-Control: no-cache`, so **every request is evaluated**. Questions mix: the named "
    "questions as `GET /sparql?query=`: *evaluated* (`Cache-Control: no-cache`: every request "
    "evaluated), *repeated* (plain GETs after one warm-up pass: treatygraph answers **from "
    "memory**), *conditional* (GETs sending back the last ETag: treatygraph answers **304**). The "
    "peers keep no answers and send no ETag: all three are the same work for them. The engine's "
    "own time is each query run in-process by pyoxigraph on treatygraph's store (median of "
    "repeated runs, answer serialized); 'over engine' is a system's p50 at one client minus it.",
    "",
]
MIX_NAMES = {
    "short": "short, evaluated (POST, no-cache)",
    "questions-evaluated": "questions, evaluated (GET, no-cache)",
    "questions-repeated": "questions, repeated GET (treatygraph: from memory)",
    "questions-conditional": "questions, conditional GET (treatygraph: 304)",
}
SYSTEM_ORDER = ("treatygraph", "oxigraph", "rdflib-endpoint")


def _mix_throughput(mix: dict, system: str, clients: int):
    cell = (mix.get("cells", {}).get(system) or {}).get(str(clients))
    return cell["throughput"] if cell else None


def short_targets(results: dict) -> list[tuple[str, str, str]]:
    rows = []
    clients = results["options"]["clients"]
    for scale in results.get("scales", []):
        s = scale["scale"]
        for dataset, short in (("treaty", scale.get("short")), ("products", None)):
            if dataset == "products":
                short = (scale.get("products") or {}).get("short")
            if not short:
                continue
            mixes = short.get("mixes", {})
            for c in clients:
                if "short" in mixes:
                    a = _mix_throughput(mixes["short"], "treatygraph", c)
                    b = _mix_throughput(mixes["short"], "oxigraph", c)
                    if a and b:
                        rows.append(
                            (
                                f"short queries, {dataset} {s}x, {c} client"
                                f"{'s' if c > 1 else ''}: treatygraph / Oxigraph server "
                                "(evaluated; near 1 is the engine's own cost)",
                                f"{a / b:,.2f}×",
                                "–",
                            )
                        )
                if "questions-repeated" in mixes:
                    a = _mix_throughput(mixes["questions-repeated"], "treatygraph", c)
                    b = _mix_throughput(mixes["questions-repeated"], "oxigraph", c)
                    if a and b:
                        rows.append(
                            (
                                f"repeated named questions ≥ 3× Oxigraph server ({dataset} "
                                f"{s}x, {c} client{'s' if c > 1 else ''}; treatygraph from "
                                "memory)",
                                f"{a / b:,.2f}×",
                                "met" if a / b >= 3 else "missed",
                            )
                        )
        load = scale.get("load")
        if load:
            for form, medians in load.get("median_seconds", {}).items():
                a, b = medians.get("treatygraph"), medians.get("oxigraph")
                if a and b:
                    rows.append(
                        (
                            f"`treatygraph load` ≤ 1.5× `oxigraph load` ({s}x, {form})",
                            f"{a:,.1f} s vs {b:,.1f} s: {a / b:,.2f}×",
                            "met" if a / b <= 1.5 else "missed",
                        )
                    )
    return rows


def _systems_table(systems: dict) -> list[str]:
    lines = [
        "| system | status | load s | cold start s | idle RSS MiB | peak RSS MiB |",
        "|---|---|---|---|---|---|",
    ]
    for name, entry in systems.items():
        lines.append(
            f"| {name} | {_cell(entry.get('status', '–'))} | {_fmt(entry.get('load_seconds'), 2)}"
            f" | {_fmt(entry.get('cold_start_seconds'), 2)} | {_mib(entry.get('idle_rss_bytes'))}"
            f" | {_mib(entry.get('peak_rss_bytes'))} |"
        )
    return lines + [""]


def _short_parts(scale: dict, clients: list[int]) -> list[str]:
    s = scale["scale"]
    lines: list[str] = []
    if scale.get("short"):
        lines += [f"### Short queries and repeated questions, treaty graph {s}x", ""]
        lines += _short_tables(scale["short"], clients)
    products = scale.get("products")
    if products:
        data = products.get("data", {})
        lines += [
            f"### Short queries, product catalogue {s}x",
            "",
            f"{data.get('quads', 0):,} quads, {data.get('bytes', 0) / 1e6:,.0f} MB of N-Quads"
            + (" (cached)" if data.get("cached") else "")
            + ".",
            "",
        ]
        lines += _systems_table(products.get("systems", {}))
        if products.get("short"):
            lines += _short_tables(products["short"], clients)
    if scale.get("load"):
        lines += _load_table(scale["load"], s)
    ours = scale.get("systems", {}).get("treatygraph") or {}
    if ours.get("search"):
        lines += _search_table(ours["search"], s, ours.get("search_short_words"))
    return lines


def _search_table(search: dict, scale: int, short_words: dict | None = None) -> list[str]:
    clients = sorted(search, key=int)
    lines = [
        f"### JSON search, {scale}x (treatygraph, `Cache-Control: no-cache`: evaluated)",
        "",
        "| request | " + " | ".join(f"n, p50 / p99 ms ×{c}" for c in clients) + " |",
        "|---|" + "---|" * len(clients),
    ]
    labels = list(search[clients[0]]["by_request"])
    for label in labels:
        row = [_cell(label)]
        for c in clients:
            cell = search[c]
            by = cell["by_request"].get(label) or {}
            p99 = (cell.get("p99_by_request_ms") or {}).get(label)
            row.append(f"{by.get('n', 0)}, {_fmt(by.get('p50_ms'), 1)} / {_fmt(p99, 1)}")
        lines.append("| " + " | ".join(row) + " |")
    for c in clients:
        for kind, k in search[c]["by_kind"].items():
            lines.append(
                f"| all of kind '{kind}' ×{c} | {k['n']}, {_fmt(k['p50_ms'], 1)} / "
                f"{_fmt(k['p99_ms'], 1)} |" + " |" * (len(clients) - 1)
            )
    if short_words:
        for label, by in short_words["by_request"].items():
            lines.append(
                f"| {_cell(label)}, timed apart (one client, one after the other) | "
                f"{by['n']}, {_fmt(by['p50_ms'], 1)} / – |" + " |" * (len(clients) - 1)
            )
    lines += [
        "",
        "A search counts its matches up to 10,000 and then says the total is a lower bound "
        "('waste', 'article' and 'basel convention' pass it at 100x). A text whose words are all "
        "under three characters cannot use the trigram index and reads every value.",
        "",
    ]
    return lines


def _short_tables(short: dict, clients: list[int]) -> list[str]:
    mixes = short.get("mixes", {})
    lines = []
    head = ["mix", "system"] + [f"req/s ×{c}" for c in clients]
    head += [f"÷ Oxigraph ×{c}" for c in clients]
    head += [f"p50 / p99 ms ×{c}" for c in clients] + ["304s", "load avg"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, mix in mixes.items():
        systems = [n for n in SYSTEM_ORDER if n in mix.get("cells", {})]
        for system in systems:
            cells = mix["cells"][system]
            row = [MIX_NAMES.get(name, name), system]
            row += [_fmt(_mix_throughput(mix, system, c), 1) for c in clients]
            row += [
                _ratio(_mix_throughput(mix, system, c), _mix_throughput(mix, "oxigraph", c))
                for c in clients
            ]
            for c in clients:
                cell = cells.get(str(c)) or {}
                row.append(f"{_fmt(cell.get('p50_ms'), 2)} / {_fmt(cell.get('p99_ms'), 2)}")
            row.append(_fmt(sum((cells.get(str(c)) or {}).get("not_modified", 0) for c in clients)))
            last = cells.get(str(clients[-1])) or {}
            row.append(" ".join(f"{x:.2f}" for x in last.get("load_average", [])[:1]) or "–")
            lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    excluded = {name: mix.get("excluded") for name, mix in mixes.items() if mix.get("excluded")}
    for name, labels in excluded.items():
        lines += [f"Left out of {name} (a system failed or timed out on it): {', '.join(labels)}."]
    for name, mix in mixes.items():
        for note in mix.get("not_measured", []):
            lines += [f"Not measured on {name}: {note}."]
            excluded.setdefault(name, [])
    if excluded:
        lines.append("")
    if "short" in mixes:
        cells = mixes["short"].get("cells", {})
        systems = [n for n in SYSTEM_ORDER if n in cells]
        kinds = sorted({k for n in systems for cell in cells[n].values() for k in cell["by_kind"]})
        head = ["short query type"] + [f"{n} p50 / p99 ms ×{c}" for c in clients for n in systems]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for kind in kinds:
            row = [kind]
            for c in clients:
                for n in systems:
                    k = (cells[n].get(str(c)) or {}).get("by_kind", {}).get(kind)
                    row.append(f"{_fmt(k['p50_ms'], 2)} / {_fmt(k['p99_ms'], 2)}" if k else "–")
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    for name, over in (short.get("overhead") or {}).items():
        systems = [n for n in SYSTEM_ORDER if n in over]
        kinds = sorted({k for n in systems for k in over[n]})
        if not kinds:
            continue
        head = [f"{name}: cost over the engine, 1 client", "engine in-process ms"]
        head += [f"{n} p50 ms; over engine" for n in systems]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for kind in kinds:
            engine = next((over[n][kind]["engine_ms"] for n in systems if kind in over[n]), None)
            row = [kind, _fmt(engine, 3)]
            for n in systems:
                k = over[n].get(kind)
                row.append(f"{_fmt(k['p50_ms'], 2)}; {k['over_engine_ms']:+,.2f}" if k else "–")
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    return lines


def _load_table(load: dict, scale: int) -> list[str]:
    lines = [
        f"### Bulk load, {scale}x ({load.get('quads', 0):,} quads)",
        "",
        "The scale's N-Quads with the graph names moved under `graph/bench/` (copy 0 keeps "
        "curated names, which `treatygraph load` refuses); each run into a new store directory.",
        "",
        "| file | command | runs: wall s (CPU s, peak RSS MiB, load avg) | median s | ÷ oxigraph |",
        "|---|---|---|---|---|",
    ]
    for form, info in load.get("files", {}).items():
        medians = load.get("median_seconds", {}).get(form, {})
        for name in ("treatygraph", "oxigraph"):
            runs = [r for r in load.get("runs", []) if r["command"] == name and r["form"] == form]
            shown = "; ".join(
                f"{r['seconds']:.1f} ({r['cpu_seconds']:.1f}, {_mib(r['peak_rss_bytes'])}, "
                f"{r['load_average'][0]:.2f})"
                if "seconds" in r
                else _cell(r.get("status", "–"))
                for r in runs
            )
            lines.append(
                f"| {info['name']} ({info['bytes'] / 1e6:,.0f} MB) | {name} | {shown} | "
                f"{_fmt(medians.get(name), 2)} | "
                f"{_ratio(medians.get(name), medians.get('oxigraph'))} |"
            )
    return lines + [""]
