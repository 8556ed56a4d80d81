"""Profile `treatygraph serve` on the short mix with py-spy, and summarise where the time goes.

    python -m bench.profile --scale 1 --clients 1 --seconds 20 [--out bench/results]

Serves the treatygraph store a bench run built for the scale (bench/work/scale-N/
treatygraph-store; run `python -m bench --scales N --mixes short` first), attaches py-spy to the
server and its worker processes (`--subprocesses`, 200 samples a second, idle threads left out:
the samples are where CPU time goes), drives it with the short mix for the time given, and writes
the collapsed stacks (bench/work/profile-short-*.txt) and a summary: the share of samples per
process, the top frames by own time (leaf) and by time under them (inclusive), and the share per
layer (HTTP server, framework, service code, pipe to the worker, engine).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from bench import loadgen, short
from bench.systems import REPO, Treatygraph, find_executable

# Layers, by the file a frame is in (first match wins), from the leaf up.
LAYERS = (
    ("engine (pyoxigraph query, serialization)", r"treatygraph/store\.py|pyoxigraph"),
    ("worker loop and pipe (multiprocessing, pickle)", r"multiprocessing/|treatygraph/api/worker"),
    ("executor (dispatch to workers)", r"treatygraph/api/executor"),
    ("query guard (parse before running)", r"treatygraph/guard|rdflib/plugins/sparql"),
    ("service code (routes, answers, negotiation)", r"treatygraph/"),
    ("framework (FastAPI, Starlette, pydantic)", r"fastapi/|starlette/|pydantic"),
    ("HTTP server (uvicorn, h11, httptools)", r"uvicorn/|h11/|httptools"),
    ("event loop (asyncio, selectors)", r"asyncio/|selectors|uvloop"),
)


def _frame_file(frame: str) -> str:
    match = re.search(r"\(([^)]*)\)$", frame)
    return match.group(1) if match else frame


def parse(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        head, _, count = line.rpartition(" ")
        if head and count.isdigit():
            stacks.append((head.split(";"), int(count)))
    return stacks


def summary(stacks: list[tuple[list[str], int]], top: int = 40) -> dict:
    total = sum(n for _, n in stacks)
    processes: Counter = Counter()
    leaves: Counter = Counter()
    inclusive: Counter = Counter()
    per_kind: Counter = Counter()
    layers: Counter = Counter()
    for frames, n in stacks:
        # py-spy names the process chain first: the server, then (for a worker) the forkserver
        # and the worker it forked.
        chain = [f for f in frames if f.startswith("process ")]
        body = frames[len(chain) :]
        process = chain[-1] if chain else "?"
        if len(chain) <= 1:
            kind = "server"
        elif "resource_tracker" in process:
            kind = "resource tracker"
        else:
            kind = "worker"
        processes[f"{kind} ({len(chain)} deep)"] += n
        # py-spy puts the thread as the next frame ("thread (0x...)"): skip it.
        body = [f for f in body if not f.startswith("thread ")]
        if body:
            leaves[body[-1]] += n
        for frame in set(body):
            inclusive[(kind, frame)] += n
        per_kind[kind] += n
        layer = "other"
        for frame in reversed(body):
            found = next((name for name, rx in LAYERS if re.search(rx, _frame_file(frame))), None)
            if found:
                layer = found
                break
        layers[f"{kind}: {layer}"] += n
    # The frames under which (nearly) all of a process's samples are, its start-up chain
    # (runpy, the CLI, uvicorn's run, the event loop's run_forever, the forkserver), say nothing.
    telling = Counter(
        {
            f"{kind}: {frame}": n
            for (kind, frame), n in inclusive.items()
            if n < 0.9 * per_kind[kind]
        }
    )
    return {
        "samples": total,
        "processes": processes.most_common(),
        "leaves": leaves.most_common(top),
        "inclusive": telling.most_common(top),
        "layers": layers.most_common(),
    }


def tree_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) of a process and its descendants: pid -> (role, seconds)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[str, float]] = {}
    pending = [(pid, 0)]
    while pending:
        current, depth = pending.pop()
        try:
            with open(f"/proc/{current}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{current}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
            children = []
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as listed:
                    children += [int(c) for c in listed.read().split()]
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        role = "server" if depth == 0 else "forkserver" if depth == 1 else "worker"
        if "resource_tracker" in command:
            role = "resource tracker"
        found[current] = (role, (int(fields[11]) + int(fields[12])) / ticks)
        pending += [(child, depth + 1) for child in children]
    return found


def cpu_per_role(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds spent between two `tree_cpu` readings, per role (processes that started in
    between count from zero)."""
    spent: Counter = Counter()
    for pid, (role, seconds) in after.items():
        spent[role] += seconds - (before.get(pid, (role, 0.0))[1])
    return dict(spent)


def _share(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}%" if total else "–"


def markdown(figures: dict, context: dict) -> str:
    lines = [
        f"## {context['title']}",
        "",
        f"Measured {context['started']} ({context['seconds']:g} s of the short mix, "
        f"{context['clients']} client{'s' if context['clients'] > 1 else ''}, "
        f"{context['requests']} requests answered, {context['throughput']:.0f} req/s under the "
        f"profiler; load average {context['load_before']} before, {context['load_after']} "
        f"after). {figures['samples']} samples (py-spy {context['rate']} Hz; "
        + (
            "only threads holding the GIL: shares of Python's own CPU time, waits excluded)."
            if context.get("gil")
            else "idle threads left out by py-spy's filter, which here still counts some waits)."
        ),
        "",
        f"Command: `{context['command']}`",
        "",
        f"Without the profiler, just before: {figures['plain']['requests']} requests in "
        f"{context['seconds']:g} s, {figures['plain']['throughput']:g} req/s, p50 "
        f"{figures['plain']['p50_ms']:g} ms. CPU per request (from /proc, user + system), by "
        "process:",
        "",
        "| process | CPU ms per request |",
        "|---|---|",
    ]
    lines += [f"| {role} | {ms:.3f} |" for role, ms in figures["cpu_ms_per_request"].items()]
    lines += [
        "",
        "py-spy samples (a thread is sampled while the OS says it runs; the waits in "
        "`EpollSelector.select`, a worker's `Connection._recv` at the top of its loop and the "
        "idle thread pool's `_worker` are waiting, not work):",
        "",
        "| process | samples | share |",
        "|---|---|---|",
    ]
    total = figures["samples"]
    lines += [f"| {p} | {n} | {_share(n, total)} |" for p, n in figures["processes"]]
    lines += ["", "| layer of the leaf frame (first match from the leaf up) | share |", "|---|---|"]
    lines += [f"| {layer} | {_share(n, total)} |" for layer, n in figures["layers"]]
    lines += ["", "| top frames by own time (leaf) | share |", "|---|---|"]
    lines += [f"| `{f}` | {_share(n, total)} |" for f, n in figures["leaves"]]
    lines += [
        "",
        "| top frames by time under them (inclusive; the start-up chain left out) | share |",
        "|---|---|",
    ]
    lines += [f"| `{f}` | {_share(n, total)} |" for f, n in figures["inclusive"]]
    return "\n".join(lines) + "\n"


def profile(
    scale: int,
    clients: int,
    seconds: float,
    rate: int,
    work: Path,
    dataset: str = "treaty",
    gil: bool = False,
) -> tuple[dict, dict]:
    spy = find_executable("py-spy", "TG_BENCH_PY_SPY")
    if spy is None:
        raise SystemExit("py-spy is not installed (pip install py-spy)")
    folder = work / (f"scale-{scale}" if dataset == "treaty" else f"products-{scale}")
    system = Treatygraph(folder)
    if not (system.store / "build.json").is_file():
        raise SystemExit(
            f"no store at {system.store}: run `python -m bench --scales {scale} --mixes short`"
        )
    mix = short.short_mix(dataset, scale)
    out = work / f"profile-short-{dataset}-{scale}x-{clients}c{'-gil' if gil else ''}.txt"
    system.start()
    try:
        load_before = [round(x, 2) for x in os.getloadavg()]
        argv = [
            spy, "record", "--pid", str(system.process.pid), "--subprocesses", "--rate",
            str(rate), "--duration", str(int(seconds) + 1), "--format", "raw", "-o", str(out),
        ] + (["--gil"] if gil else [])  # fmt: skip
        # First without the profiler: the CPU each process spends per request.
        loadgen.run_cell(system, mix, clients, 2.0, 10**9, 30.0)  # warm up
        cpu_before = tree_cpu(system.process.pid)
        own_before = os.times()
        plain = loadgen.run_cell(system, mix, clients, seconds, 10**9, 30.0)
        own_after = os.times()
        spent = cpu_per_role(cpu_before, tree_cpu(system.process.pid))
        spent["load generator (this process)"] = (own_after.user - own_before.user) + (
            own_after.system - own_before.system
        )
        recorder = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)  # let py-spy attach to every process
        cell = loadgen.run_cell(system, mix, clients, seconds, 10**9, 30.0)
        _, err = recorder.communicate(timeout=seconds + 60)
        if recorder.returncode != 0 or not out.exists():
            raise SystemExit(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
        load_after = [round(x, 2) for x in os.getloadavg()]
    finally:
        system.stop()
    figures = summary(parse(out))
    figures["cpu_ms_per_request"] = {
        role: round(1000 * seconds / max(plain.ok, 1), 3) for role, seconds in spent.items()
    }
    figures["plain"] = {
        "requests": plain.ok,
        "throughput": round(plain.throughput, 1),
        "p50_ms": round(1000 * (loadgen.percentile(plain.all_latencies(), 0.5) or 0), 2),
    }
    context = {
        "title": f"{dataset} {scale}x, {clients} client{'s' if clients > 1 else ''}"
        + (", threads holding the GIL" if gil else ""),
        "started": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "seconds": seconds,
        "clients": clients,
        "requests": cell.ok,
        "throughput": cell.throughput,
        "load_before": load_before,
        "load_after": load_after,
        "rate": rate,
        "gil": gil,
        "command": " ".join(Path(a).name if a == spy else a for a in argv),
        "stacks": str(out.relative_to(REPO)) if out.is_relative_to(REPO) else str(out),
    }
    return figures, context


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--dataset", choices=["treaty", "products"], default="treaty")
    parser.add_argument("--clients", default="1,4")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument(
        "--gil",
        action="store_true",
        help="sample only threads holding the GIL (Python's own CPU time, no waits)",
    )
    parser.add_argument("--work", type=Path, default=REPO / "bench" / "work")
    parser.add_argument("--out", type=Path, help="write the Markdown summary here")
    args = parser.parse_args(argv)
    parts = []
    for clients in [int(c) for c in args.clients.split(",") if c.strip()]:
        figures, context = profile(
            args.scale, clients, args.seconds, args.rate, args.work, args.dataset, args.gil
        )
        parts.append(markdown(figures, context) + f"\nCollapsed stacks: `{context['stacks']}`.\n")
    text = "\n".join(parts)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
