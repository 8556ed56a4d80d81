"""The starvation scenario: ordinary clients beside clients that loop a runaway query.

`python -m bench.attack [--url URL] [--seconds 60] [--ordinary 8] [--attackers 4]` measures the
ordinary clients' throughput and p99 latency twice, first alone, then with the attackers
looping `RUNAWAY`, and prints both with their ratio. Without --url it starts `treatygraph serve`
on a copy of the built store, on loopback. The fairness test runs `measure` at a small scale.

Every request goes to loopback; each phase stops by itself after its seconds, and each request
is bounded by a timeout.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from dataclasses import dataclass, field

import httpx

RUNAWAY = "SELECT ?a ?d WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f LIMIT 1"
ORDINARY = [
    ("GET", "/sparql", {"query": "ASK { ?s ?p ?o }"}),
    ("GET", "/sparql", {"query": "DESCRIBE <https://w3id.org/treatygraph/id/minamata/article/11>"}),
    (
        "GET",
        "/sparql",
        {
            "query": "SELECT ?p ?o WHERE { <https://w3id.org/treatygraph/id/basel> ?p ?o } "
            "ORDER BY ?p LIMIT 20"
        },
    ),
    ("GET", "/api/decisions", {"limit": "20"}),
    ("GET", "/id/minamata/article/11", {}),
]


@dataclass
class Phase:
    seconds: float = 0.0
    ok: int = 0
    server_errors: int = 0
    other: int = 0  # 4xx (busy answers are 503, counted as server errors)
    latencies: list[float] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def p99(self) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def _ordinary(url: str, stop: threading.Event, phase: Phase, lock: threading.Lock, start: int):
    # no-store: every request is answered anew (not from remembered answers), so the scenario
    # measures the workers' share, which is what an attacker competes for.
    headers = {"Accept": "application/json", "Cache-Control": "no-store"}
    with httpx.Client(base_url=url, timeout=30, headers=headers) as http:
        index = start
        while not stop.is_set():
            method, path, params = ORDINARY[index % len(ORDINARY)]
            index += 1
            began = time.perf_counter()
            try:
                status = http.request(method, path, params=params).status_code
            except httpx.HTTPError:
                status = 599
            took = time.perf_counter() - began
            with lock:
                if status < 400:
                    phase.ok += 1
                    phase.latencies.append(took)
                elif status >= 500:
                    phase.server_errors += 1
                else:
                    phase.other += 1


def _attacker(url: str, stop: threading.Event, counts: dict, lock: threading.Lock, n: int):
    with httpx.Client(base_url=url, timeout=60) as http:
        round_ = 0
        while not stop.is_set():
            round_ += 1
            # Each attacker varies the text a little, as an attacker would to dodge a cache.
            query = f"{RUNAWAY} # attacker {n} round {round_}"
            try:
                status = http.get("/sparql", params={"query": query}).status_code
            except httpx.HTTPError:
                status = 599
            with lock:
                counts[status] = counts.get(status, 0) + 1


def measure(url: str, *, seconds: float, ordinary: int, attackers: int) -> dict:
    """Both phases against the service at `url`; a dict of figures."""
    results = {}
    for name, n_attackers in (("alone", 0), ("attacked", attackers)):
        phase, lock, stop = Phase(), threading.Lock(), threading.Event()
        attack_counts: dict[int, int] = {}
        threads = [
            threading.Thread(target=_attacker, args=(url, stop, attack_counts, lock, i))
            for i in range(n_attackers)
        ]
        for thread in threads:
            thread.start()
        if n_attackers:
            time.sleep(1.0)  # the attack is under way before the ordinary clients start
        clients = [
            threading.Thread(target=_ordinary, args=(url, stop, phase, lock, i))
            for i in range(ordinary)
        ]
        began = time.perf_counter()
        for thread in clients:
            thread.start()
        time.sleep(seconds)
        stop.set()
        for thread in clients:
            thread.join(90)
        # Throughput over the time the ordinary clients ran (an attacker's last query may
        # still be running: it is waited for below, outside the measured time).
        phase.seconds = time.perf_counter() - began
        for thread in threads:
            thread.join(90)
        results[name] = {
            "throughput": round(phase.throughput, 1),
            "p99_s": round(phase.p99, 3),
            "ok": phase.ok,
            "server_errors": phase.server_errors,
            "client_errors": phase.other,
            "attacker_answers": {str(k): v for k, v in sorted(attack_counts.items())},
        }
    alone = results["alone"]["throughput"]
    results["ratio"] = round(results["attacked"]["throughput"] / alone, 3) if alone else 0.0
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.attack", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--url", help="a running service (default: start one on loopback)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--ordinary", type=int, default=8)
    parser.add_argument("--attackers", type=int, default=4)
    args = parser.parse_args(argv)
    if args.url:
        figures = measure(
            args.url, seconds=args.seconds, ordinary=args.ordinary, attackers=args.attackers
        )
    else:
        figures = _with_local_server(args)
    print(json.dumps(figures, indent=2))
    attacked = figures["attacked"]
    met = figures["ratio"] >= 0.7 and attacked["p99_s"] < 2.0 and attacked["server_errors"] == 0
    print(
        f"ordinary clients keep {figures['ratio']:.0%} of their throughput under attack "
        f"(target 70%), p99 {attacked['p99_s']:.2f} s (target < 2 s), "
        f"{attacked['server_errors']} server errors (target 0): {'met' if met else 'MISSED'}"
    )
    return 0


def _with_local_server(args) -> dict:
    import shutil
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from treatygraph import build as builder

    work = Path(tempfile.mkdtemp(prefix="tg-attack-"))
    store = work / "store"
    print("building the store ...", file=sys.stderr)
    builder.build(store, validate=False)
    port = _free_port()
    command = [sys.executable, "-m", "treatygraph.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--store", str(store)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/sparql", params={"query": "ASK {}"}, timeout=5).is_success:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        print(
            f"measuring {args.seconds:g} s alone, then {args.seconds:g} s attacked ...",
            file=sys.stderr,
        )
        return measure(url, seconds=args.seconds, ordinary=args.ordinary, attackers=args.attackers)
    finally:
        process.terminate()
        process.wait(30)
        shutil.rmtree(work, ignore_errors=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    raise SystemExit(main())
