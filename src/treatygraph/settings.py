"""All settings in one object, read from TREATYGRAPH_* environment variables; flags override."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from treatygraph.sources import REPO_ROOT

ENV_PREFIX = "TREATYGRAPH_"


@dataclass(frozen=True)
class Settings:
    # Where the embedded Oxigraph store lives (built from data/ on first start when missing).
    store_path: Path = REPO_ROOT / "var" / "store"
    host: str = "127.0.0.1"
    port: int = 8000
    # The base the data's IRIs are minted under; requests for <this host>/id/... resolve them.
    base_iri: str = "https://w3id.org/treatygraph/"
    # Bounds on every SPARQL query: wall-clock seconds, rows read, bytes of serialized result.
    query_timeout: float = 10.0
    max_rows: int = 100_000
    max_result_bytes: int = 64 * 1024 * 1024
    # Bound on request bodies (queries, updates, uploaded graphs).
    max_body_bytes: int = 1024 * 1024
    # Worker processes that run SPARQL queries (each can be stopped when it overruns).
    query_workers: int = 2
    # SPARQL Update and the Graph Store Protocol's writes are refused unless this is set.
    write_token: str | None = None
    # A SPARQL 1.1 engine to serve instead of the embedded store (build loads it, serve reads
    # it): its query URL or base URL, the engine's preset (oxigraph, virtuoso, fuseki; none: the
    # plain protocols) and credentials for writes.
    store_url: str | None = None
    store_engine: str | None = None
    store_user: str | None = None
    store_password: str | None = None
    # Memory bound of each worker process, in MiB (a query past it gets 503; 0: no bound).
    worker_memory_mb: int = 1536
    # Fair sharing of the workers (see api/executor.py): the longest a request waits for a
    # worker; when a client's query counts as long; how many long queries may run at once.
    queue_wait: float = 5.0
    long_query_after: float = 0.5
    max_long_queries: int = 1
    # The two layers that keep queries off the network. Never switch them off in service: the
    # switches exist so that the tests can show each layer stops every attack alone.
    query_guard: bool = True
    worker_sandbox: bool = True
    # The URL clients reach the service at (scheme://host[:port]/), used in every URL the service
    # writes (VoID, service description, JSON-LD context, redirects); never the Host header.
    # None: http://<host>:<port>/.
    public_url: str | None = None
    # Seconds a client may take to send a request's head (line and headers), and its body.
    header_timeout: float = 10.0
    body_timeout: float = 30.0

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Defaults, then environment variables, then explicit overrides (None: not given)."""
        values = {}
        for field in fields(cls):
            raw = os.environ.get(ENV_PREFIX + field.name.upper())
            if raw is not None and raw != "":
                values[field.name] = _convert(field.type, raw)
        settings = replace(cls(), **values)
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **given)


def _convert(type_name: str, raw: str):
    if "Path" in type_name:
        return Path(raw)
    if type_name == "int":
        return int(raw)
    if type_name == "float":
        return float(raw)
    if type_name == "bool":
        if raw.lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise ValueError(f"not a yes/no value: {raw!r}")
        return raw.lower() in ("1", "true", "yes", "on")
    return raw
