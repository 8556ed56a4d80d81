"""kill -9 during a stream of writes loses nothing that was acknowledged.

Three clients stream INSERT DATA requests, each numbered; the service and all its processes are
killed with SIGKILL while they write; after a restart on the same store, every write that was
answered 204 is there.
"""

from __future__ import annotations

import threading
import time

import httpx
import psutil

from tests.conftest import WRITE_TOKEN

AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
GRAPH = "http://example.org/stream"
WRITERS = 3
MAX_WRITES = 200  # per writer: the stream is bounded even if the kill came late


def _insert(n: int) -> str:
    triple = f"<http://example.org/w/{n}> <http://example.org/n> {n}"
    return f"INSERT DATA {{ GRAPH <{GRAPH}> {{ {triple} }} }}"


def test_kill_9_during_writes_loses_nothing_acknowledged(writable_server):
    acknowledged: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(k: int) -> None:
        with httpx.Client(base_url=writable_server.url, timeout=30) as http:
            for i in range(MAX_WRITES):
                if stop.is_set():
                    return
                n = k * MAX_WRITES + i
                try:
                    status = http.post("/update", data={"update": _insert(n)}, headers=AUTH)
                except httpx.HTTPError:
                    return  # the service is gone: this write was never acknowledged
                if status.status_code == 204:
                    with lock:
                        acknowledged.append(n)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    # The service and every process it started, at once, mid-stream.
    parent = psutil.Process(writable_server.process.pid)
    for process in [parent, *parent.children(recursive=True)]:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    stop.set()
    for thread in threads:
        thread.join(60)
    writable_server.process.wait(10)
    writable_server.process = None
    assert len(acknowledged) >= 10

    writable_server.start()
    with writable_server.client() as http:
        query = f"SELECT ?n WHERE {{ GRAPH <{GRAPH}> {{ ?s <http://example.org/n> ?n }} }}"
        rows = http.get("/sparql", params={"query": query}).json()["results"]["bindings"]
    stored = {int(row["n"]["value"]) for row in rows}
    missing = sorted(set(acknowledged) - stored)
    assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:10]}"
