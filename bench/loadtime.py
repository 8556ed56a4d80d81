"""`treatygraph load` beside `oxigraph load`: the same N-Quads file into a fresh store each time.

The file is the scale's generated graph with its graph names moved from `graph/` to
`graph/bench/` (the generated graph keeps the real graph's names for copy 0, which are curated
names that `treatygraph load` refuses; see write_policy), written once as N-Quads and once
gzip-compressed. Each round loads each form with each command, in alternating order; every run
gets a new store directory (removed afterwards), a time bound (--load-timeout) and the memory
bound; its wall time, CPU time, peak resident memory and the load average are recorded.
"""

from __future__ import annotations

import gzip
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.systems import REPO, MemorySampler, NotRun, find_executable

GRAPHS = b"<https://w3id.org/treatygraph/graph/"
MOVED = b"<https://w3id.org/treatygraph/graph/bench/"
COMMANDS = ("treatygraph", "oxigraph")


def loadable_copies(nquads: Path, work: Path) -> dict[str, Path]:
    """The scale's N-Quads with the graph names moved (see the module), plain and gzipped."""
    work.mkdir(parents=True, exist_ok=True)
    plain = work / f"load-{nquads.name.removesuffix('.gz')}"
    packed = plain.with_name(plain.name + ".gz")
    if not plain.exists():
        partial = plain.with_name(plain.name + ".partial")
        source = gzip.open(nquads, "rb") if nquads.name.endswith(".gz") else nquads.open("rb")
        with source, partial.open("wb") as out:
            rest = b""
            while block := source.read(1 << 24):
                text = rest + block
                cut = text.rfind(b"\n") + 1
                out.write(text[:cut].replace(GRAPHS, MOVED))
                rest = text[cut:]
            out.write(rest.replace(GRAPHS, MOVED))
        partial.rename(plain)
    if not packed.exists():
        partial = packed.with_name(packed.name + ".partial")
        with plain.open("rb") as source, gzip.open(partial, "wb", compresslevel=1) as out:
            shutil.copyfileobj(source, out, 1 << 24)
        partial.rename(packed)
    return {"nq": plain, "nq.gz": packed}


def command(name: str, data: Path, store: Path) -> list[str]:
    if name == "treatygraph":
        return [sys.executable, "-m", "treatygraph.cli", "load", str(data), "--store", str(store)]
    executable = find_executable("oxigraph", "TG_BENCH_OXIGRAPH")
    if executable is None:
        raise NotRun("the oxigraph server is not installed (pip install oxigraph)")
    return [executable, "load", "--location", str(store), "--file", str(data)]


def timed(argv: list[str], timeout: float, memory_limit: int, log_path: Path) -> dict:
    """Run one load to completion within the bounds: wall and CPU seconds, peak RSS."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "src"), str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    with log_path.open("ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        sampler = MemorySampler(process.pid, interval=0.2)
        sampler.start()
        try:
            while process.poll() is None:
                if time.perf_counter() - began > timeout:
                    raise NotRun(f"took longer than {timeout:g} s")
                if sampler.peak > memory_limit:
                    raise NotRun(f"needed more than {memory_limit / 2**30:.0f} GiB")
                time.sleep(0.05)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            sampler.stop()
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise NotRun(f"exit code {process.returncode} (see {log_path.name})")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_rss_bytes": sampler.peak,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def measure(scale: int, nquads: Path, quads: int, options, log) -> dict:
    work = options.work / f"load-{scale}"
    work.mkdir(parents=True, exist_ok=True)
    log(f"load {scale}x: preparing the file with graph names of its own ...")
    files = loadable_copies(nquads, options.work / "data")
    result: dict = {
        "quads": quads,
        "files": {form: {"name": p.name, "bytes": p.stat().st_size} for form, p in files.items()},
        "runs": [],
    }
    for round_number in range(options.rounds):
        order = COMMANDS if round_number % 2 == 0 else COMMANDS[::-1]
        for form, path in files.items():
            for name in order:
                store = work / f"{name}-store"
                shutil.rmtree(store, ignore_errors=True)
                run = {"command": name, "form": form, "round": round_number + 1}
                try:
                    run |= timed(
                        command(name, path, store),
                        options.load_timeout,
                        options.memory_limit,
                        work / f"{name}.log",
                    )
                    log(
                        f"  {name} load {form}: {run['seconds']:.1f} s "
                        f"(CPU {run['cpu_seconds']:.1f} s), load {run['load_average'][0]:.2f}"
                    )
                except NotRun as reason:
                    run["status"] = f"not run: {reason}"
                    log(f"  {name} load {form}: {run['status']}")
                finally:
                    shutil.rmtree(store, ignore_errors=True)
                result["runs"].append(run)
    result["median_seconds"] = {
        form: {
            name: _median([r["seconds"] for r in result["runs"] if _is(r, name, form)])
            for name in COMMANDS
        }
        for form in files
    }
    return result


def _is(run: dict, name: str, form: str) -> bool:
    return run["command"] == name and run["form"] == form and "seconds" in run


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None
