"""A closed-loop load generator: N client threads, each with its own keep-alive connection.

Each client sends the mix's requests in turn (client i starts at request i, so the mix is spread
over the clients) and sends the next one as soon as the answer is in. A cell stops after a fixed
time or a fixed number of requests, whichever comes first (but not before the whole mix has been
sent once, so every kind of request is sampled); a request in flight when the time is up
finishes (bounded by the per-request timeout) and is counted.

The clients are light: `http.client` on one keep-alive connection each (`LightClient`), about
0.1 ms of CPU and 0.3 ms of wall time per request against a server that answers at once. httpx,
used before, cost about 0.6 ms of CPU and 1.2 ms of wall time per request (measured against the
Oxigraph server on this machine), which hid most of the difference between two servers on short
queries, and took CPU from them on a small machine.
"""

from __future__ import annotations

import http.client
import math
import os
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import httpx

from bench.workload import Request


@dataclass
class Cell:
    """The outcome of one (system, mix, concurrency) run."""

    clients: int
    seconds: float = 0.0
    ok: int = 0
    not_modified: int = 0  # of the ok: answered 304 to a conditional request
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


class LightResponse:
    """The parts of an httpx.Response the benchmark reads."""

    def __init__(self, status: int, headers: dict[str, str], content: bytes):
        self.status_code = status
        self.headers = headers  # names in lower case
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class LightClient:
    """A keep-alive HTTP/1.1 client on http.client, with httpx's `get`/`post` call shape (what
    System.query and send use); errors are raised as httpx's, so callers catch one kind."""

    def __init__(self, timeout: float = 30.0):
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._where: tuple[str, int] | None = None

    def __enter__(self) -> LightClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def get(self, url: str, params=None, headers=None, timeout=None) -> LightResponse:
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        return self._send("GET", url, None, headers or {}, timeout)

    def post(self, url: str, content: bytes = b"", headers=None, timeout=None) -> LightResponse:
        return self._send("POST", url, content, headers or {}, timeout)

    def _send(self, method, url, body, headers, timeout) -> LightResponse:
        parts = urlsplit(url)
        where = (parts.hostname or "127.0.0.1", parts.port or 80)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        for attempt in (1, 2):
            if self._connection is None or self._where != where:
                self.close()
                self._connection = http.client.HTTPConnection(*where, timeout=self.timeout)
                self._where = where
            connection = self._connection
            connection.timeout = timeout if timeout is not None else self.timeout
            if connection.sock is not None:
                connection.sock.settimeout(connection.timeout)
            try:
                connection.request(method, target, body=body, headers=headers)
                response = connection.getresponse()
                content = response.read()
                answer = {k.lower(): v for k, v in response.getheaders()}
                if response.will_close:
                    self.close()
                return LightResponse(response.status, answer, content)
            except TimeoutError as error:
                self.close()
                raise httpx.ReadTimeout(f"timed out: {error}") from None
            except (http.client.HTTPException, OSError) as error:
                self.close()
                # A kept-alive connection the server closed meanwhile: try once on a new one.
                if attempt == 2 or not isinstance(
                    error, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
                ):
                    raise httpx.TransportError(f"{type(error).__name__}: {error}") from None
        raise AssertionError("unreachable")


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile of sorted values (None when empty)."""
    if not values:
        return None
    rank = max(1, min(len(values), math.ceil(share * len(values))))
    return values[rank - 1]


def send(
    client: httpx.Client,
    system,
    request: Request,
    timeout: float,
    etags: dict[str, str] | None = None,
) -> httpx.Response:
    """Send one request of the mix to `system` (SPARQL via its endpoint, else a GET). A
    conditional request names the ETag of its last answer (kept in `etags`, per client)."""
    headers = dict(request.headers)
    if request.conditional and etags is not None and request.label in etags:
        headers["If-None-Match"] = etags[request.label]
    if request.is_sparql:
        ask = system.query_get if request.method == "GET" else system.query
        response = ask(client, request.sparql, request.accept, timeout=timeout, headers=headers)
    else:
        response = client.get(
            system.base_url + request.path,
            headers={"Accept": request.accept} | headers,
            timeout=timeout,
        )
    if etags is not None and response.status_code == 200 and "etag" in response.headers:
        etags[request.label] = response.headers["etag"]
    return response


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
        etags: dict[str, str] = {}
        with LightClient(timeout=timeout) as client:
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
                    response = send(client, system, request, timeout, etags)
                    elapsed = time.perf_counter() - began
                    with lock:
                        if response.status_code in (200, 304):
                            cell.ok += 1
                            cell.not_modified += response.status_code == 304
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
