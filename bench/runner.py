"""One benchmark run: for each scale, generate the data, start every system, check that they
answer alike, then measure them cell by cell. Every step has a time (and memory) bound; a step
that cannot finish records "not run" with its reason instead of hanging.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import generate, loadgen, workload
from bench.systems import (
    REPO,
    SYSTEMS,
    MemorySampler,
    NotRun,
    System,
    Treatygraph,
)


@dataclass
class Options:
    scales: list[int]
    clients: list[int]
    systems: list[str]
    duration: float = 5.0
    max_requests: int = 2000
    request_timeout: float = 30.0
    probe_timeout: float = 30.0
    load_timeout: float = 2700.0
    generate_timeout: float = 1800.0
    validate_timeout: float = 900.0
    memory_limit: int = 16 * 1024**3
    work: Path = REPO / "bench" / "work"
    seed: int = generate.SEED
    validate: bool = True
    reuse_stores: bool = False
    # Which mixes to measure: sparql (named questions and DESCRIBEs, all systems), web
    # (treatygraph's JSON API and pages), short (short queries), questions (named questions
    # sent as GET, evaluated, remembered and conditional); see bench/short.py.
    mixes: tuple[str, ...] = ("sparql", "web")
    # Datasets of the short mixes: treaty (the scaled graph), products (bench/products.py).
    datasets: tuple[str, ...] = ("treaty",)
    # Rounds of alternating cells in the short mixes (each round runs every system in turn).
    rounds: int = 2
    # Requests each system timed out on at a smaller scale (not sent again at larger ones).
    too_slow: dict[str, set[str]] = field(default_factory=dict)
    # N-Quads bytes of one copy, and each system's load seconds per quad, from smaller scales.
    bytes_per_copy: int = 0
    load_rates: dict[str, float] = field(default_factory=dict)
    # Each system's peak resident bytes per quad at a smaller scale (to skip what cannot fit).
    memory_rates: dict[str, float] = field(default_factory=dict)
    # Each system's on-disk store bytes per quad at a smaller scale (to skip what cannot fit).
    disk_rates: dict[str, float] = field(default_factory=dict)


# A system that times out this often in the one-by-one check is given up at that scale.
MAX_PROBE_TIMEOUTS = 3
# From this scale on the N-Quads are written gzip-compressed (COMPRESSION: about how much smaller).
COMPRESS_FROM_SCALE = 1000
COMPRESSION = 8
# Disk a scale needs per byte of its N-Quads text: the file and two on-disk stores with the
# catalogue (measured at 1000x: store 1.2, catalogue 0.45, Oxigraph about 0.6 times the text).
DISK_FACTOR = 4


def log(message: str) -> None:
    stamp = datetime.now(UTC).strftime("%H:%M:%S")
    print(f"[{stamp}] {message}", file=sys.stderr, flush=True)


def _bounded(
    command: list[str], timeout: float, memory_limit: int, env=None, ok_codes=(0,)
) -> tuple[float, int]:
    """Run a command to completion within time and memory bounds; returns (seconds, exit code)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    sampler = MemorySampler(process.pid, interval=0.5)
    sampler.start()
    try:
        while process.poll() is None:
            if time.perf_counter() - started > timeout:
                raise NotRun(f"took longer than {timeout:g} s")
            if sampler.peak > memory_limit:
                raise NotRun(f"needed more than {memory_limit / 1024**3:.0f} GiB of memory")
            time.sleep(0.2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        sampler.stop()
    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
    if process.returncode not in ok_codes:
        raise NotRun(f"failed (exit {process.returncode}): {output.strip()[-300:]}")
    return time.perf_counter() - started, process.returncode


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "src"), str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    return env


def data_key(scale: int, seed: int) -> str:
    """Changes whenever the sources, the rules or the generator change."""
    from treatygraph import build, sources

    digest = hashlib.sha256(build.fingerprint(sources.repo_sources()).encode())
    digest.update((REPO / "bench" / "generate.py").read_bytes())
    digest.update(f"{scale}/{seed}".encode())
    return digest.hexdigest()[:16]


def dataset(scale: int, options: Options) -> dict:
    """The N-Quads file of a scale (cached under work/data while the sources do not change)."""
    key = data_key(scale, options.seed)
    # Large scales are written gzip-compressed (1000x is about 30 GB of N-Quads text).
    suffix = ".nq.gz" if scale >= COMPRESS_FROM_SCALE else ".nq"
    target = options.work / "data" / f"scale-{scale}-{key}{suffix}"
    meta_path = target.with_name(f"scale-{scale}-{key}.json")
    if target.exists() and meta_path.exists():
        return json.loads(meta_path.read_text()) | {"path": str(target), "cached": True}
    if options.bytes_per_copy:
        needed = options.bytes_per_copy * scale / (COMPRESSION if suffix == ".nq.gz" else 1)
        free = shutil.disk_usage(target.parent if target.parent.exists() else options.work).free
        if needed * DISK_FACTOR > free:
            raise NotRun(
                f"would need about {needed * DISK_FACTOR / 1e9:.0f} GB of disk for the data and "
                f"the stores, and {free / 1e9:.0f} GB are free"
            )
    for stale in (options.work / "data").glob(f"scale-{scale}-*"):
        stale.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-c",
        "import sys; from pathlib import Path; from bench.generate import write; "
        "write(int(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))",
        str(scale),
        str(target),
        str(options.seed),
    ]
    seconds, _ = _bounded(command, options.generate_timeout, options.memory_limit, _env())
    quads = _count_lines(target)
    meta = {
        "scale": scale,
        "seed": options.seed,
        "quads": quads,
        "bytes": target.stat().st_size,
        "generate_seconds": round(seconds, 2),
    }
    meta_path.write_text(json.dumps(meta, indent=2))
    return meta | {"path": str(target), "cached": False}


def _count_lines(path: Path) -> int:
    count = 0
    with gzip.open(path, "rb") if path.name.endswith(".gz") else path.open("rb") as data:
        while chunk := data.read(1 << 24):
            count += chunk.count(b"\n")
    return count


def validation_time(options: Options) -> dict:
    """`treatygraph validate` on the shipped data, timed (bounded)."""
    command = [sys.executable, "-m", "treatygraph.cli", "validate"]
    log("validating the shipped data with the shapes ...")
    try:
        # Exit code 1 means "violations found": the time still counts.
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds, code = _bounded(
            command, options.validate_timeout, options.memory_limit, _env(), ok_codes=(0, 1)
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        status = "conforms" if code == 0 else "violations found"
        return {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "status": status}
    except NotRun as reason:
        return {"seconds": None, "status": f"not run: validate {reason}"}


# -- one scale -------------------------------------------------------------------------------------


def probe(
    systems: list[System],
    mix: list[workload.Request],
    timeout: float,
    skip: dict[str, set[str]] | None = None,
    max_restart_seconds: float = 60.0,
    max_timeouts: int | None = None,
) -> dict:
    """Ask every system each SPARQL request once; compare each answer with treatygraph's.

    A system that timed out on a request at a smaller scale is not sent it again (`skip`).
    Returns the rows and, per system, the requests it failed (timed out, error or skipped).
    """
    skip = skip or {}
    max_timeouts = max_timeouts or MAX_PROBE_TIMEOUTS
    rows = []
    gave_up: set[str] = set()
    timeouts: dict[str, int] = {s.name: 0 for s in systems}
    failed: dict[str, set[str]] = {s.name: set() for s in systems}
    timed_out: dict[str, set[str]] = {s.name: set() for s in systems}
    with httpx.Client(timeout=timeout) as client:
        for request in mix:
            answers = {}
            row = {"label": request.label, "kind": request.kind, "systems": {}}
            for system in systems:
                if system.name in gave_up:
                    failed[system.name].add(request.label)
                    row["systems"][system.name] = {
                        "status": f"not sent: gave up after {max_timeouts} timeouts",
                        "ms_at_least": timeout * 1000,
                    }
                    continue
                if request.label in skip.get(system.name, set()):
                    failed[system.name].add(request.label)
                    timed_out[system.name].add(request.label)
                    row["systems"][system.name] = {
                        "status": "not sent: timed out at a smaller scale",
                        "ms_at_least": timeout * 1000,
                    }
                    continue
                began = time.perf_counter()
                try:
                    response = system.query(client, request.sparql, request.accept, timeout)
                    elapsed = time.perf_counter() - began
                    if response.status_code != 200:
                        failed[system.name].add(request.label)
                        row["systems"][system.name] = {
                            "status": f"HTTP {response.status_code}: {response.text[:200]}",
                            "ms_at_least": round(elapsed * 1000, 1),
                        }
                        continue
                    answers[system.name] = workload.normalise(
                        request, response.content, response.headers.get("content-type", "")
                    )
                    row["systems"][system.name] = {
                        "status": "ok",
                        "ms": round(elapsed * 1000, 1),
                        "size": _size(answers[system.name]),
                    }
                except httpx.TimeoutException:
                    failed[system.name].add(request.label)
                    timed_out[system.name].add(request.label)
                    row["systems"][system.name] = {
                        "status": f"timed out after {timeout:g} s",
                        "ms_at_least": timeout * 1000,
                    }
                    timeouts[system.name] += 1
                    # A server that cannot cancel the query would answer the next ones late:
                    # restart it, unless that is slow or it keeps timing out.
                    system.stop()
                    cheap = (system.figures.cold_start_seconds or 0) <= max_restart_seconds
                    if timeouts[system.name] >= max_timeouts or not cheap:
                        log(f"  {system.name}: {request.label} timed out; not asking it more")
                        gave_up.add(system.name)
                        if cheap:
                            system.start()  # still measured, on what it did answer
                        continue
                    log(f"  {system.name}: {request.label} timed out; restarting it")
                    system.start()
                except Exception as error:  # noqa: BLE001 - recorded, the run goes on
                    failed[system.name].add(request.label)
                    row["systems"][system.name] = {"status": f"error: {error!r}"[:300]}
            reference = answers.get("treatygraph")
            for name, answer in answers.items():
                if name != "treatygraph" and reference is not None:
                    diff = workload.difference(reference, answer)
                    row["systems"][name]["same_as_treatygraph"] = not diff
                    if diff:
                        row["systems"][name]["difference"] = diff
            rows.append(row)
    return {
        "rows": rows,
        "gave_up": sorted(gave_up),
        "failed": {k: sorted(v) for k, v in failed.items()},
        "timed_out": {k: sorted(v) for k, v in timed_out.items()},
    }


def mix_bound(rows: list[dict], name: str) -> float | None:
    """Upper bound on a system's one-client throughput over the whole mix, from the probe:
    requests it could not answer count as taking at least the timeout."""
    total = 0.0
    for row in rows:
        entry = row["systems"].get(name)
        if not entry:
            return None
        total += (entry.get("ms") or entry.get("ms_at_least") or 0) / 1000
    return len(rows) / total if total else None


def _size(answer) -> int:
    return sum(answer.values()) if hasattr(answer, "values") else len(answer)


def cell_summary(cell: loadgen.Cell, kind_of: dict[str, str]) -> dict:
    everything = cell.all_latencies()
    kinds = {}
    for kind, values in cell.by_kind(kind_of).items():
        kinds[kind] = {
            "n": len(values),
            "p50_ms": _ms(loadgen.percentile(values, 0.5)),
            "p99_ms": _ms(loadgen.percentile(values, 0.99)),
        }
    return {
        "clients": cell.clients,
        "seconds": round(cell.seconds, 3),
        "ok": cell.ok,
        "not_modified": cell.not_modified,
        "errors": cell.errors,
        "timeouts": cell.timeouts,
        "throughput": round(cell.throughput, 2),
        "p50_ms": _ms(loadgen.percentile(everything, 0.5)),
        "p99_ms": _ms(loadgen.percentile(everything, 0.99)),
        "by_kind": kinds,
        "by_request": {
            label: {
                "n": len(values),
                "p50_ms": _ms(loadgen.percentile(sorted(values), 0.5)),
            }
            for label, values in sorted(cell.latencies.items())
        },
        "error_samples": cell.error_samples,
        "load_average": [round(x, 2) for x in cell.load_average],
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def start_systems(
    names: list[str], nquads: Path, quads: int, work: Path, options: Options, result: dict
) -> list[System]:
    """Prepare (load or build) and start each system on the N-Quads file, within the bounds
    (memory, disk and load time projected from a smaller scale); a system that cannot run is
    recorded in result["systems"] with the reason. Returns the running ones."""
    running: list[System] = []
    for name in names:
        system = SYSTEMS[name](work)
        system.reuse = options.reuse_stores
        system.memory_limit = options.memory_limit
        entry = result["systems"].setdefault(name, {})
        missing = system.available()
        if missing:
            entry["status"] = f"not run: {missing}"
            log(f"  {name}: {entry['status']}")
            continue
        try:
            memory = options.memory_rates.get(name, 0.0) * quads
            if memory > options.memory_limit:
                raise NotRun(
                    f"it would need about {memory / 2**30:.0f} GiB of memory at the rate "
                    f"measured at a smaller scale, over the bound of "
                    f"{options.memory_limit / 2**30:.0f} GiB"
                )
            disk = options.disk_rates.get(name, 0.0) * quads
            free = shutil.disk_usage(work.parent).free
            if disk > free and not (system.reuse and system.stored_bytes()):
                raise NotRun(
                    f"its store would take about {disk / 1e9:.0f} GB of disk at the rate "
                    f"measured at a smaller scale, and {free / 1e9:.0f} GB are free"
                )
            rate = options.load_rates.get(name)
            if rate and rate * quads > options.load_timeout:
                raise NotRun(
                    f"loading would take about {rate * quads:.0f} s at the rate "
                    f"measured at a smaller scale, over the bound of {options.load_timeout:g} s"
                )
            log(f"  {name}: loading ...")
            system.prepare(nquads, options.load_timeout)
            system.figures.cold_start_seconds = system.start()
            entry["status"] = "; ".join(["ok", *system.figures.notes])
            entry["idle_rss_bytes"] = system.rss_now()
            if system.figures.load_seconds:
                options.load_rates[name] = system.figures.load_seconds / quads
            if system.stored_bytes():
                options.disk_rates[name] = system.stored_bytes() / quads
            log(
                f"  {name}: load {system.figures.load_seconds:.1f} s, cold start "
                f"{system.figures.cold_start_seconds:.2f} s, "
                f"{entry['idle_rss_bytes'] / 2**20:.0f} MiB"
            )
            running.append(system)
        except NotRun as reason:
            entry["status"] = f"not run: {reason}"
            log(f"  {name}: {entry['status']}")
        entry["load_seconds"] = _round(system.figures.load_seconds)
        entry["cold_start_seconds"] = _round(system.figures.cold_start_seconds)
    return running


def stop_systems(running: list[System], result: dict, quads: int, options: Options) -> None:
    for system in running:
        system.stop()
        entry = result["systems"][system.name]
        entry["peak_rss_bytes"] = system.figures.peak_rss_bytes
        if system.figures.peak_rss_bytes and quads:
            options.memory_rates[system.name] = system.figures.peak_rss_bytes / quads


def run_scale(scale: int, options: Options) -> dict:
    result: dict = {"scale": scale, "systems": {}}
    log(f"scale {scale}x: generating the data ...")
    try:
        data = dataset(scale, options)
    except NotRun as reason:
        result["status"] = f"not run: generating the {scale}x graph {reason}"
        log(result["status"])
        return result
    result["data"] = {k: v for k, v in data.items() if k != "path"}
    options.bytes_per_copy = options.bytes_per_copy or data["bytes"] // scale
    nquads = Path(data["path"])
    log(f"scale {scale}x: {data['quads']} quads, {data['bytes'] / 1e6:.0f} MB of N-Quads")
    work = options.work / f"scale-{scale}"
    running: list[System] = []
    served = {"sparql", "web", "short", "questions", "search"} & set(options.mixes)
    try:
        systems = options.systems if served else []
        running = start_systems(systems, nquads, data["quads"], work, options, result)
        if "sparql" in options.mixes or "web" in options.mixes:
            _sparql_and_web(scale, running, result, options)
        if "search" in options.mixes:
            _search(scale, running, result, options)
        if running and {"short", "questions"} & set(options.mixes):
            from bench import short

            result["short"] = short.measure(running, "treaty", scale, options)
    finally:
        stop_systems(running, result, data["quads"], options)
    if "load" in options.mixes:
        from bench import loadtime

        result["load"] = loadtime.measure(scale, nquads, data["quads"], options, log)
    return result


def _sparql_and_web(scale: int, running: list[System], result: dict, options: Options) -> None:
    """The named questions and DESCRIBEs to every system; the web mix to treatygraph."""
    if not running:
        return
    if "sparql" not in options.mixes:
        _web_only(scale, running, result, options)
        return
    mix = workload.sparql_mix(scale)
    log(f"scale {scale}x: checking the answers ({len(mix)} SPARQL requests) ...")
    checked = probe(running, mix, options.probe_timeout, options.too_slow)
    result["answers"] = checked["rows"]
    for name, labels in checked["timed_out"].items():
        options.too_slow.setdefault(name, set()).update(labels)
    failed = checked["failed"]
    excluded = sorted({label for labels in failed.values() for label in labels})
    common = [r for r in mix if r.label not in excluded]
    result["common_mix"] = [r.label for r in common]
    result["excluded_from_common_mix"] = excluded
    kind_of = {r.label: r.kind for r in mix + workload.web_mix(scale)}
    for system in running:
        if system.name in checked["gave_up"]:
            result["systems"][system.name]["status"] = (
                f"ok; after timing out (> {options.probe_timeout:g} s) on some requests it "
                "was not sent the rest of the check"
                + ("" if system.process else ", nor measured further (restarting is slow)")
            )
        if system.process is None:
            continue
        entry = result["systems"][system.name]
        entry["failed_requests"] = failed[system.name]
        entry["full_mix_bound_1_client"] = _round(mix_bound(checked["rows"], system.name))
        mixes = []
        if "sparql" in options.mixes:
            if not failed[system.name]:
                mixes.append(("sparql", mix))
            if excluded and common and (isinstance(system, Treatygraph) or failed[system.name]):
                mixes.append(("sparql_common", common))
        for part, requests in mixes:
            entry[part] = {}
            for clients in options.clients:
                cell = loadgen.run_cell(
                    system,
                    requests,
                    clients,
                    options.duration,
                    options.max_requests,
                    options.request_timeout,
                )
                entry[part][str(clients)] = cell_summary(cell, kind_of)
                log(
                    f"  {system.name} {part} x{clients}: {cell.throughput:.1f} req/s "
                    f"({cell.ok} ok, {cell.errors} errors, {cell.timeouts} timeouts)"
                )
                if cell.timeouts and not isinstance(system, Treatygraph):
                    system.stop()
                    system.start()
        if isinstance(system, Treatygraph) and "web" in options.mixes:
            _cells(system, "web", workload.web_mix(scale), entry, options)
        entry["peak_rss_bytes"] = system.peak_rss()


def _cells(system: System, name: str, mix: list, entry: dict, options: Options) -> None:
    """One cell per client count of a mix that only treatygraph serves (web pages, search),
    each cell's summary with the p99 of every request kind, into entry[name]."""
    kind_of = {r.label: r.kind for r in mix}
    entry[name] = {}
    for clients in options.clients:
        cell = loadgen.run_cell(
            system, mix, clients, options.duration, options.max_requests, options.request_timeout
        )
        entry[name][str(clients)] = cell_summary(cell, kind_of) | {
            "p99_by_request_ms": {
                label: _ms(loadgen.percentile(sorted(values), 0.99))
                for label, values in cell.latencies.items()
            }
        }
        log(f"  treatygraph {name} x{clients}: {cell.throughput:.1f} req/s")


def _web_only(scale: int, running: list[System], result: dict, options: Options) -> None:
    """The web mix alone (no SPARQL mix, so no answer check): treatygraph's JSON API and pages."""
    for system in running:
        if isinstance(system, Treatygraph):
            entry = result["systems"][system.name]
            _cells(system, "web", workload.web_mix(scale), entry, options)
            entry["peak_rss_bytes"] = system.peak_rss()


def _search(scale: int, running: list[System], result: dict, options: Options) -> None:
    """The search mix (treatygraph's JSON search, evaluated), one cell per client count."""
    for system in running:
        if not isinstance(system, Treatygraph):
            continue
        entry = result["systems"][system.name]
        _cells(system, "search", workload.search_mix(scale), entry, options)
        # Words too short for the index: three requests one after the other, timed apart.
        short = workload.search_mix(scale, short_words=True)
        cell = loadgen.run_cell(system, short, 1, 0.0, 3 * len(short), options.request_timeout)
        entry["search_short_words"] = cell_summary(cell, {r.label: r.kind for r in short})


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def machine() -> dict:
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        memory = None
    versions = {}
    for module in ("pyoxigraph", "rdflib", "fastapi", "uvicorn", "httpx"):
        try:
            versions[module] = __import__(module).__version__
        except (ImportError, AttributeError):
            versions[module] = None
    for name, flag in (("oxigraph", "--version"),):
        from bench.systems import find_executable

        exe = find_executable(name, "TG_BENCH_OXIGRAPH")
        if exe:
            out = subprocess.run([exe, flag], capture_output=True, text=True, timeout=10)
            versions["oxigraph-server"] = out.stdout.strip()
    try:
        from importlib.metadata import version

        versions["rdflib-endpoint"] = version("rdflib-endpoint")
    except Exception:  # noqa: BLE001 - not installed in this interpreter
        versions["rdflib-endpoint"] = None
    return {
        "cpus": os.cpu_count(),
        "memory_bytes": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
    }


def run(options: Options, on_progress=None) -> dict:
    """The whole run; `on_progress(results)` is called after each scale (partial results)."""
    results = {
        "started": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "machine": machine(),
        "options": {
            "scales": options.scales,
            "clients": options.clients,
            "systems": options.systems,
            "duration_seconds": options.duration,
            "max_requests": options.max_requests,
            "request_timeout_seconds": options.request_timeout,
            "probe_timeout_seconds": options.probe_timeout,
            "seed": options.seed,
            "mixes": list(options.mixes),
            "datasets": list(options.datasets),
            "rounds": options.rounds,
        },
        "sparql_mix": [r.label for r in workload.sparql_mix(1)],
        "web_mix": [r.label for r in workload.web_mix(1)],
    }
    if options.validate and "sparql" in options.mixes:
        results["validation"] = validation_time(options)
        log(f"validation: {results['validation']}")
    results["scales"] = []
    for scale in options.scales:
        entry = run_scale(scale, options)
        results["scales"].append(entry)
        if on_progress:
            on_progress(results)
        if "products" in options.datasets and "short" in options.mixes:
            from bench import short

            entry["products"] = short.run_products(scale, options)
            if on_progress:
                on_progress(results)
    results["finished"] = datetime.now(UTC).replace(microsecond=0).isoformat()
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return results
