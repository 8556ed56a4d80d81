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
    return raw
