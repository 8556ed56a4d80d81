"""Throwaway local SPARQL engines: an Oxigraph server or a Virtuoso, unprivileged, on free loopback
ports, with their data in a directory of their own; for tests, benchmarks and trying things out.

    with engines.oxigraph(tmp / "ox") as engine:
        store = engine.store()          # a RemoteStore configured for it
    with engines.virtuoso(tmp / "vt") as engine:
        engine.store()                  # writes through digest auth as a user with SPARQL_UPDATE

`scripts/engines.sh` installs both (the `oxigraph` PyPI package, Debian's `virtuoso-opensource`).
`missing(name)` says why an engine cannot be started here (its binary is not installed), or None.

Virtuoso is started from a virtuoso.ini written here: SQL and HTTP ports on 127.0.0.1 only, its
database files in the directory given, `ResultSetMaxRows` raised from the packaged 10000 (a
Virtuoso silently cuts longer results there), and a query time bound. Then, through `isql-vt` on
its SQL port, the dba password is changed and a user `treatygraph` is made with the SPARQL_UPDATE
role and write permission on every graph (`DB.DBA.RDF_DEFAULT_USER_PERMS_SET(user, 3)`): that user
writes through `/sparql-auth` (SPARQL Update) and `/sparql-graph-crud-auth` (Graph Store
Protocol), both with HTTP digest authentication. The anonymous `/sparql` endpoint stays read-only.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

VIRTUOSO_USER = "treatygraph"
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def oxigraph_binary() -> str | None:
    """The `oxigraph` command: beside this Python (a venv's bin/), else on PATH."""
    beside = Path(sys.executable).with_name("oxigraph")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("oxigraph")


def missing(name: str) -> str | None:
    """Why engine `name` cannot be started here, or None when it can."""
    if name == "oxigraph":
        if oxigraph_binary() is None:
            return (
                "the `oxigraph` command is not installed (pip install oxigraph; scripts/engines.sh)"
            )
        return None
    if name == "virtuoso":
        absent = [b for b in ("virtuoso-t", "isql-vt") if shutil.which(b) is None]
        if absent:
            return (
                f"Virtuoso is not installed ({', '.join(absent)} not found; apt-get install "
                "virtuoso-opensource, or scripts/engines.sh)"
            )
        return None
    raise ValueError(f"unknown engine {name!r}")


@dataclass
class Engine:
    """One running engine process."""

    name: str
    directory: Path
    process: subprocess.Popen
    query_url: str
    options: dict = field(default_factory=dict)  # what `open_store` needs beyond the URL
    log_path: Path | None = None
    sql_port: int | None = None  # Virtuoso's SQL port (isql-vt), for inspection

    def store(self, **overrides):
        from treatygraph.stores import open_store

        return open_store(self.query_url, **(self.options | overrides))

    def log_tail(self, size: int = 3000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-size:]

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen, grace: float = 30.0) -> None:
    """SIGTERM (Virtuoso checkpoints and exits on it), then SIGKILL after `grace` seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def _wait_until_up(process: subprocess.Popen, url: str, params: dict, log: Path | None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"the engine exited with {process.returncode}: {tail}")
        try:
            answer = httpx.get(url, params=params, timeout=5, trust_env=False)
            if answer.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    stop_process(process)
    raise RuntimeError(f"the engine did not answer at {url} within {START_TIMEOUT:.0f} s")


# -- Oxigraph server -----------------------------------------------------------------------------


@contextmanager
def oxigraph(directory: Path, *, union_default_graph: bool = False) -> Iterator[Engine]:
    """`oxigraph serve --location DIRECTORY/data` on a free loopback port; stopped on exit.

    With `union_default_graph`, the server's own `--union-default-graph`: a query without a
    dataset reads the union of all graphs (and, in Oxigraph 0.5, so does a query with FROM: the
    flag overrides it). Without it (the default), the store asks for the union per request with
    Oxigraph's `union-default-graph` parameter (`union_default="parameter"`)."""
    binary = oxigraph_binary()
    if binary is None:
        raise RuntimeError(missing("oxigraph"))
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [
        binary,
        "serve",
        "--location",
        str(directory / "data"),
        "--bind",
        f"127.0.0.1:{port}",
    ]
    if union_default_graph:
        command.append("--union-default-graph")
    log = directory / "oxigraph.log"
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    engine = Engine(
        name="oxigraph",
        directory=directory,
        process=process,
        query_url=f"{base}/query",
        options={
            "engine": "oxigraph",
            "union_default": "engine" if union_default_graph else "parameter",
        },
        log_path=log,
    )
    try:
        _wait_until_up(process, engine.query_url, {"query": "ASK {}"}, log)
        yield engine
    finally:
        engine.stop()


# -- Virtuoso ------------------------------------------------------------------------------------

VIRTUOSO_INI = """\
[Database]
DatabaseFile       = {dir}/virtuoso.db
ErrorLogFile       = {dir}/virtuoso.log
LockFile           = {dir}/virtuoso.lck
TransactionFile    = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {dir}/virtuoso-temp.db
TransactionFile    = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort               = 127.0.0.1:{sql_port}
DisableUnixSocket        = 1
CheckpointInterval       = 60
DirsAllowed              = .
NumberOfBuffers          = {buffers}
MaxDirtyBuffers          = {dirty}
ThreadsPerQuery          = 2
MaxClientConnections     = 8
ServerThreads            = 8

[HTTPServer]
ServerPort               = 127.0.0.1:{http_port}
ServerRoot               = {dir}
ServerThreads            = 8
MaxKeepAlives            = 8
KeepAliveTimeout         = 10
Charset                  = UTF-8
EnabledDavVSP            = 0

[URIQA]
DefaultHost              = 127.0.0.1:{http_port}

[SPARQL]
ResultSetMaxRows         = {max_rows}
MaxQueryExecutionTime    = {max_seconds}
"""


def _isql(sql_port: int, password: str, statements: str) -> str:
    """Run SQL through isql-vt on the engine's SQL port; raises when isql reports an error."""
    done = subprocess.run(
        ["isql-vt", f"127.0.0.1:{sql_port}", "dba", password, f"exec={statements}"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0 or "*** Error" in output:
        raise RuntimeError(f"isql-vt failed ({done.returncode}): {output[-2000:]}")
    return output


@contextmanager
def virtuoso(
    directory: Path, *, max_rows: int = 1_000_000, max_seconds: int = 60, buffers: int = 20000
) -> Iterator[Engine]:
    """A Virtuoso 7 on a new database in `directory`, on free loopback ports; stopped on exit.

    Yields an Engine whose `store()` reads from `/sparql` and writes through `/sparql-auth` and
    `/sparql-graph-crud-auth` as the user `treatygraph` (digest authentication)."""
    reason = missing("virtuoso")
    if reason:
        raise RuntimeError(reason)
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("virtuoso*"):  # always a new database
        old.unlink()
    sql_port, http_port = free_port(), free_port()
    while http_port == sql_port:
        http_port = free_port()
    ini = directory / "virtuoso.ini"
    ini.write_text(
        VIRTUOSO_INI.format(
            dir=directory.resolve(),
            sql_port=sql_port,
            http_port=http_port,
            max_rows=max_rows,
            max_seconds=max_seconds,
            buffers=buffers,
            dirty=buffers * 3 // 4,
        )
    )
    log = directory / "virtuoso.log"
    out_path = directory / "virtuoso.out"
    with out_path.open("ab") as out:
        process = subprocess.Popen(
            ["virtuoso-t", "+foreground", "+configfile", str(ini)],
            cwd=directory,
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
        )
    base = f"http://127.0.0.1:{http_port}"
    password = secrets.token_urlsafe(12)
    engine = Engine(
        name="virtuoso",
        directory=directory,
        process=process,
        query_url=f"{base}/sparql",
        options={"engine": "virtuoso", "user": VIRTUOSO_USER, "password": password},
        log_path=log,
    )
    try:
        _wait_until_up(process, engine.query_url, {"query": "ASK {}"}, log)
        # A new database's dba password is "dba": change it, then make the writing user.
        _isql(
            sql_port,
            "dba",
            f"DB.DBA.USER_CREATE('{VIRTUOSO_USER}', '{password}'); "
            f'GRANT SPARQL_UPDATE TO "{VIRTUOSO_USER}"; '
            f"DB.DBA.RDF_DEFAULT_USER_PERMS_SET('{VIRTUOSO_USER}', 3); "
            f"USER_SET_PASSWORD('dba', '{password}');",
        )
        engine.sql_port = sql_port
        yield engine
    finally:
        engine.stop()
