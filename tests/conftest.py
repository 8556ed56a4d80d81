"""Fixtures for the service tests: real uvicorn servers on 127.0.0.1, started as `treatygraph serve`
subprocesses on stores built in temporary directories, and stopped at the end.

Servers are session-scoped (starting one takes a few seconds). All their traffic is on loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from treatygraph import build as builder
from treatygraph import sources

WRITE_TOKEN = "test-write-token"
START_TIMEOUT = 120.0
QUERY_TIMEOUT = 4.0
MAX_RESULT_BYTES = 2_000_000


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command() -> list[str]:
    script = Path(sys.executable).with_name("treatygraph")
    if script.exists():
        return [str(script), "serve"]
    return [sys.executable, "-m", "treatygraph.cli", "serve"]


def mark_fresh(store: Path) -> None:
    """Record the current sources' fingerprint in the store's build marker.

    data/ may change while a test session runs (other work in the same tree); the service tests
    care about the service, not about which version of the data they see, so the store built at
    the start of the session stays in use rather than being rebuilt by `serve`.
    """
    marker = store / builder.MARKER
    recorded = json.loads(marker.read_text())
    recorded["fingerprint"] = builder.fingerprint(sources.repo_sources())
    marker.write_text(json.dumps(recorded, indent=2))


class Server:
    """One `treatygraph serve` subprocess on a free loopback port."""

    def __init__(self, store: Path, log: Path, **settings):
        self.store = store
        self.log_path = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = settings
        self.process: subprocess.Popen | None = None

    def start(self) -> Server:
        if (self.store / builder.MARKER).exists():
            mark_fresh(self.store)
        env = dict(os.environ)
        for name, value in self.settings.items():
            env["TREATYGRAPH_" + name.upper()] = str(value)
        command = serve_command() + [
            "--host", "127.0.0.1", "--port", str(self.port), "--store", str(self.store)
        ]  # fmt: skip
        self.log = self.log_path.open("ab")
        self.process = subprocess.Popen(command, env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log_path.read_text()[-3000:]}")
            try:
                answer = httpx.get(f"{self.url}/sparql", params={"query": "ASK {}"}, timeout=5)
                if answer.status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the server did not start: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
        if getattr(self, "log", None):
            self.log.close()

    def client(self, **options) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=options.pop("timeout", 30), **options)


@pytest.fixture(scope="session")
def built_store(tmp_path_factory) -> Path:
    """The repository's data, built once per session (without the SHACL step: not under test)."""
    path = tmp_path_factory.mktemp("store") / "store"
    builder.build(path, validate=False)
    return path


def _copy(store: Path, target: Path) -> Path:
    shutil.copytree(store, target, ignore=shutil.ignore_patterns("LOCK"))
    return target


@pytest.fixture(scope="session")
def server(built_store, tmp_path_factory) -> Iterator[Server]:
    """A read-only server (no write token) with a short time bound and a small result bound."""
    store = _copy(built_store, tmp_path_factory.mktemp("ro") / "store")
    running = Server(
        store,
        store.parent / "server.log",
        query_timeout=QUERY_TIMEOUT,
        max_result_bytes=MAX_RESULT_BYTES,
        max_body_bytes=100_000,
    ).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def http(server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture()
def writable_server(built_store, tmp_path) -> Iterator[Server]:
    """A server with the write token, on its own copy of the store (fresh for each test)."""
    store = _copy(built_store, tmp_path / "store")
    running = Server(store, tmp_path / "server.log", write_token=WRITE_TOKEN).start()
    yield running
    running.stop()
