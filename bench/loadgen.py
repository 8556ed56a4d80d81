"""A closed-loop load generator: N client threads, each with its own keep-alive connection.

Each client sends the mix's requests in turn (client i starts at request i, so the mix is spread
over the clients) and sends the next one as soon as the answer is in. A cell stops after a fixed
time or a fixed number of requests, whichever comes first (but not before the whole mix has been
sent once, so every kind of request is sampled); a request in flight when the time is up
finishes (bounded by the per-request timeout) and is counted. The generator spends well under a
millisecond of CPU per request, which the answers' latencies (one to hundreds of ms) dwarf.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import httpx

from bench.workload import Request


@dataclass
class Cell:
    """The outcome of one (system, mix, concurrency) run."""

    clients: int
    seconds: float = 0.0
    ok: int = 0
    errors: int = 0
    timeouts: int = 0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    error_samples: list[str] = field(default_factory=list)
    load_average: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def throughput(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def all_latencies(self) -> list[float]:
        return sorted(x for values in self.latencies.values() for x in values)

    def by_kind(self, kind_of: dict[str, str]) -> dict[str, list[float]]:
        grouped: dict[str, list[float]] = defaultdict(list)
        for label, values in self.latencies.items():
            grouped[kind_of[label]].extend(values)
        return {k: sorted(v) for k, v in grouped.items()}


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile of sorted values (None when empty)."""
    if not values:
        return None
    rank = max(1, min(len(values), math.ceil(share * len(values))))
    return values[rank - 1]


def send(client: httpx.Client, system, request: Request, timeout: float) -> httpx.Response:
    """Send one request of the mix to `system` (SPARQL via its endpoint, else a GET)."""
    if request.is_sparql:
        return system.query(client, request.sparql, request.accept, timeout=timeout)
    return client.get(
        system.base_url + request.path, headers={"Accept": request.accept}, timeout=timeout
    )


def run_cell(
    system,
    mix: list[Request],
    clients: int,
    duration: float,
    max_requests: int,
    timeout: float,
) -> Cell:
    """Drive `system` with `clients` concurrent clients over `mix`; see the module docstring."""
    cell = Cell(clients=clients)
    lock = threading.Lock()
    sent = 0
    start_gate = threading.Barrier(clients + 1)

    def client_loop(index: int, deadline_box: list[float]) -> None:
        nonlocal sent
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        with httpx.Client(limits=limits, timeout=timeout) as client:
            position = index
            start_gate.wait()
            while True:
                with lock:
                    # Stop at the deadline, but not before one full pass over the mix.
                    late = time.perf_counter() >= deadline_box[0] and sent >= len(mix)
                    if late or sent >= max_requests:
                        return
                    sent += 1
                request = mix[position % len(mix)]
                position += 1
                began = time.perf_counter()
                try:
                    response = send(client, system, request, timeout)
                    elapsed = time.perf_counter() - began
                    with lock:
                        if response.status_code == 200:
                            cell.ok += 1
                            cell.latencies[request.label].append(elapsed)
                        else:
                            cell.errors += 1
                            if len(cell.error_samples) < 5:
                                cell.error_samples.append(
                                    f"{request.label}: HTTP {response.status_code} "
                                    f"{response.text[:160]!r}"
                                )
                except httpx.TimeoutException:
                    with lock:
                        cell.timeouts += 1
                        if len(cell.error_samples) < 5:
                            cell.error_samples.append(f"{request.label}: timed out ({timeout:g} s)")
                except httpx.HTTPError as error:
                    with lock:
                        cell.errors += 1
                        if len(cell.error_samples) < 5:
                            cell.error_samples.append(f"{request.label}: {error!r}")

    deadline_box = [float("inf")]
    threads = [
        threading.Thread(target=client_loop, args=(i, deadline_box), daemon=True)
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    deadline_box[0] = began + duration
    for thread in threads:
        thread.join(duration + timeout * (len(mix) + 1) + 30)
    cell.seconds = time.perf_counter() - began
    cell.load_average = os.getloadavg()
    return cell
