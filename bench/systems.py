"""The three systems under test, each started as its own server process on 127.0.0.1.

Every system gets the same N-Quads file and is asked the same SPARQL over HTTP:
- treatygraph: a store directory built from the file with the project's Store (Oxigraph on disk),
  served by the project's app (`treatygraph serve --no-build`: the store as built here);
- rdflib-endpoint: `rdflib-endpoint serve FILE`, which parses the file into an rdflib Dataset with
  `default_union=True`, so the default graph is the union of the named graphs, as in the others;
- the Oxigraph server: `oxigraph load` into a directory, then
  `oxigraph serve-read-only --union-default-graph`.
Each step (load, start) has a time bound; the server's resident memory is sampled for the whole
process tree (the treatygraph app runs its queries in worker processes).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent
REPO = ROOT.parent
PEERS_VENV = ROOT / "work" / "venv-peers"
PROBE = "ASK { ?s ?p ?o }"


class NotRun(RuntimeError):
    """A system could not be run at this scale (missing, too slow or too big); says why."""


def find_executable(name: str, env: str) -> str | None:
    """The peer's executable: $env, else beside this Python (the project's virtualenv, where
    `.[bench]` installs it), else on PATH, else in the bench's own peers virtualenv."""
    if os.environ.get(env):
        return os.environ[env]
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found:
        return found
    local = PEERS_VENV / "bin" / name
    return str(local) if local.exists() else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    pending.extend(int(c) for c in children.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


class MemorySampler(threading.Thread):
    """Polls the tree RSS of a process until stopped; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.1):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._halt.wait(self.interval)

    def stop(self) -> int:
        self._halt.set()
        self.join(2)
        return self.peak


@dataclass
class Figures:
    """What a system's preparation and start cost."""

    load_seconds: float | None = None
    cold_start_seconds: float | None = None
    peak_rss_bytes: int = 0
    notes: list[str] = field(default_factory=list)


class System:
    """A server process: prepare (load or build) once, start, answer, stop."""

    name = ""
    reuse = False  # see Treatygraph.reuse
    # Where SPARQL queries are POSTed (application/sparql-query).
    sparql_path = "/sparql"
    memory_limit = 16 * 1024**3

    def __init__(self, work: Path, start_timeout: float = 120.0):
        self.work = work
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None
        self.sampler: MemorySampler | None = None
        self.port = 0
        self.figures = Figures()
        self.log_path = work / f"{self.name}.log"

    # -- to override ---------------------------------------------------------------------------

    def available(self) -> str | None:
        """None when the system can run here, else why not."""
        return None

    def prepare(self, nquads: Path, timeout: float) -> None:
        """Load or build from the N-Quads file (timed into figures.load_seconds)."""

    def command(self) -> list[str]:
        raise NotImplementedError

    # -- common --------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """Start the server; returns seconds from process start to the first answered query."""
        self.port = free_port()
        self.work.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=self.work, env=self.env()
        )
        log.close()
        self.sampler = MemorySampler(self.process.pid)
        self.sampler.start()
        deadline = started + self.start_timeout
        with httpx.Client(timeout=10.0) as client:
            while time.perf_counter() < deadline:
                if self.process.poll() is not None:
                    self.stop()
                    raise NotRun(f"{self.name} exited while starting (see {self.log_path.name})")
                if self.sampler.peak > self.memory_limit:
                    self.stop()
                    raise NotRun(f"{self.name} passed {self.memory_limit >> 30} GiB while starting")
                try:
                    response = self.query(client, PROBE, "application/sparql-results+json")
                    if response.status_code == 200:
                        return time.perf_counter() - started
                except httpx.HTTPError:
                    pass
                time.sleep(0.05)
        self.stop()
        raise NotRun(f"{self.name} did not answer within {self.start_timeout:g} s of starting")

    def env(self) -> dict[str, str]:
        return dict(os.environ)

    def query(
        self,
        client: httpx.Client,
        sparql: str,
        accept: str,
        timeout: float | None = None,
        headers: dict[str, str] | None = None,
    ):
        """POST the query (application/sparql-query)."""
        return client.post(
            self.base_url + self.sparql_path,
            content=sparql.encode("utf-8"),
            headers={"Content-Type": "application/sparql-query", "Accept": accept}
            | (headers or {}),
            timeout=timeout if timeout is not None else client.timeout,
        )

    def query_get(
        self,
        client: httpx.Client,
        sparql: str,
        accept: str,
        timeout: float | None = None,
        headers: dict[str, str] | None = None,
    ):
        """GET the query (`?query=`), as a link or a browser would: a request a service may
        answer from memory, or with 304 to a client that sends the ETag it has."""
        return client.get(
            self.base_url + self.sparql_path,
            params={"query": sparql},
            headers={"Accept": accept} | (headers or {}),
            timeout=timeout if timeout is not None else client.timeout,
        )

    def stop(self) -> None:
        if self.sampler is not None:
            self.figures.peak_rss_bytes = max(self.figures.peak_rss_bytes, self.sampler.stop())
            self.sampler = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def stored_bytes(self) -> int:
        """Bytes of the system's on-disk store (0 for a system that keeps none)."""
        directory = getattr(self, "store", None) or getattr(self, "location", None)
        if directory is None or not Path(directory).is_dir():
            return 0
        return sum(f.stat().st_size for f in Path(directory).rglob("*") if f.is_file())

    def rss_now(self) -> int:
        return tree_rss(self.process.pid) if self.process is not None else 0

    def peak_rss(self) -> int:
        current = self.sampler.peak if self.sampler is not None else 0
        return max(current, self.figures.peak_rss_bytes)


def _timed_run(command: list[str], timeout: float, log: Path, what: str, env=None) -> float:
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("ab") as out:
        try:
            subprocess.run(
                command, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=True, env=env
            )
        except subprocess.TimeoutExpired:
            raise NotRun(f"{what} took longer than {timeout:g} s") from None
        except subprocess.CalledProcessError as error:
            raise NotRun(f"{what} failed with exit code {error.returncode}") from None
    return time.perf_counter() - started


class Treatygraph(System):
    """The project's service over a store directory built from the N-Quads file."""

    name = "treatygraph"

    def __init__(self, work: Path, start_timeout: float = 120.0, python: str | None = None):
        super().__init__(work, start_timeout)
        self.python = python or os.environ.get("TG_BENCH_SERVER_PYTHON") or sys.executable
        self.store = work / "treatygraph-store"

    # With reuse on, a store built by an earlier run from the same data file is served as it
    # is, and that build's recorded time reported (for 1000x, whose build takes half an hour).
    reuse = False

    def prepare(self, nquads: Path, timeout: float) -> None:
        """Build the store directory and its catalogue in a child process (bounded), as
        `treatygraph build` does."""
        marker = self.store / "build.json"
        if self.reuse and marker.is_file():
            built = json.loads(marker.read_text())
            if built.get("fingerprint") == f"bench: {nquads}" and built.get("seconds"):
                self.figures.load_seconds = built["seconds"]
                self.figures.notes.append(f"store reused: {built.get('note', 'built earlier')}")
                return
        shutil.rmtree(self.store, ignore_errors=True)
        script = (
            "import json, sys; from pathlib import Path; import pyoxigraph as ox; "
            "from treatygraph import catalogue; from treatygraph.store import Store; "
            "s = Store(Path(sys.argv[1])); "
            "import gzip; data = sys.argv[2]; "
            "source = gzip.open(data) if data.endswith('.gz') else open(data, 'rb'); "
            "s._store.bulk_load(source, format=ox.RdfFormat.N_QUADS); s.flush(); "
            "catalogue.make(s, catalogue.path_for(s.path)); "
            "n = s.count(); del s; "
            "(Path(sys.argv[1]) / 'build.json').write_text(json.dumps("
            "{'fingerprint': 'bench: ' + sys.argv[2], 'quads': n}))"
        )
        command = [self.python, "-c", script, str(self.store), str(nquads)]
        self.figures.load_seconds = _timed_run(
            command, timeout, self.log_path, "building the store", self.env()
        )
        built = json.loads(marker.read_text())
        built |= {"seconds": round(self.figures.load_seconds, 1), "note": "built by a bench run"}
        marker.write_text(json.dumps(built))

    def command(self) -> list[str]:
        return [
            self.python,
            "-m",
            "treatygraph.cli",
            "serve",
            "--no-build",
            "--host",
            "127.0.0.1",
            "--store",
            str(self.store),
            "--port",
            str(self.port),
        ]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        paths = [str(REPO / "src"), str(REPO)]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        return env


class RdflibEndpoint(System):
    """rdflib-endpoint: parses the file at start (so its load time is its cold start)."""

    name = "rdflib-endpoint"
    sparql_path = "/"

    def __init__(self, work: Path, start_timeout: float = 600.0):
        super().__init__(work, start_timeout)
        self.executable = find_executable("rdflib-endpoint", "TG_BENCH_RDFLIB_ENDPOINT")
        self.nquads: Path | None = None

    def available(self) -> str | None:
        if not self.executable:
            return "rdflib-endpoint is not installed (pip install rdflib-endpoint uvicorn)"
        return None

    def prepare(self, nquads: Path, timeout: float) -> None:
        if nquads.name.endswith(".gz"):
            raise NotRun(
                "rdflib-endpoint reads only an uncompressed file, and this scale's is gzipped"
            )
        self.nquads = nquads
        self.start_timeout = timeout

    def command(self) -> list[str]:
        assert self.executable and self.nquads
        return [
            self.executable,
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            str(self.nquads),
        ]

    def start(self) -> float:
        seconds = super().start()
        self.figures.load_seconds = seconds
        return seconds


class OxigraphServer(System):
    """The Oxigraph server: `oxigraph load`, then a read-only server with a union default graph."""

    name = "oxigraph"
    sparql_path = "/query"

    def __init__(self, work: Path, start_timeout: float = 120.0):
        super().__init__(work, start_timeout)
        self.executable = find_executable("oxigraph", "TG_BENCH_OXIGRAPH")
        self.location = work / "oxigraph-store"

    def available(self) -> str | None:
        if not self.executable:
            return "the oxigraph server is not installed (pip install oxigraph)"
        return None

    def prepare(self, nquads: Path, timeout: float) -> None:
        assert self.executable
        shutil.rmtree(self.location, ignore_errors=True)
        command = [
            self.executable,
            "load",
            "--location",
            str(self.location),
            "--format",
            "application/n-quads",
        ]
        if nquads.name.endswith(".gz"):  # read from standard input, decompressed on the way
            command = ["sh", "-c", 'gzip -dc "$0" | "$@"', str(nquads), *command]
        else:
            command += ["--file", str(nquads)]
        self.figures.load_seconds = _timed_run(command, timeout, self.log_path, "oxigraph load")

    def command(self) -> list[str]:
        assert self.executable
        return [
            self.executable,
            "serve-read-only",
            "--location",
            str(self.location),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--union-default-graph",
        ]


SYSTEMS = {cls.name: cls for cls in (Treatygraph, RdflibEndpoint, OxigraphServer)}


def describe(system: System) -> dict:
    return {"name": system.name, "figures": json.loads(json.dumps(system.figures.__dict__))}
