"""`treatygraph serve`: build the store when it is missing or stale, then run uvicorn."""

from __future__ import annotations

import logging
import sys

import uvicorn

from treatygraph import build as builder
from treatygraph.api.app import create_app
from treatygraph.settings import Settings

log = logging.getLogger("treatygraph.server")


def ensure_store(settings: Settings) -> None:
    """Build the store from data/ unless a store built from the current sources is there."""
    path = settings.store_path
    if path.is_dir() and builder.is_fresh(path):
        return
    print(f"building the store at {path} from data/ ...", file=sys.stderr)
    result = builder.build(path)
    print(f"built {result.quads} quads in {result.graphs} graphs", file=sys.stderr)


def serve(settings: Settings, *, build: bool = True) -> int:
    """Serve until interrupted; returns the process exit code.

    With `build` false the store is served as it is (it must exist): for a store built from
    other sources than data/, such as the benchmark's generated graphs.
    """
    if not build and not settings.store_path.is_dir():
        print(f"not serving: no store at {settings.store_path}", file=sys.stderr)
        return 2
    try:
        if build:
            ensure_store(settings)
    except builder.BuildRefused as refused:
        print(refused, file=sys.stderr)
        print("not serving: the data violates the shapes (see above)", file=sys.stderr)
        return 1
    app = create_app(settings)
    mode = "writable with the token" if settings.write_token else "read-only"
    print(
        f"treatygraph: serving {settings.store_path} on http://{settings.host}:{settings.port}/ "
        f"(SPARQL at /sparql, {mode})",
        file=sys.stderr,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")
    return 0
