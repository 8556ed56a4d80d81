"""The code that runs inside a query worker process: open the store, answer jobs until told to stop.

Kept small and free of web imports so a worker starts fast. The parent talks to it over a Pipe:
it sends a `Job`, the worker answers with an `Outcome`; `None` asks the worker to exit.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path

from treatygraph import guard, sandbox, uploads
from treatygraph.store import Limits, QuerySyntaxError, ResultTooLarge, Store

STATS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


@dataclass(frozen=True)
class Job:
    """One unit of work: a query (serialized or as rows), an update, or a graph operation."""

    op: str  # query | rows | update | load | replace | drop | dump | graphs | stats | catalogue
    #          | upload (parse a client's RDF within the bounds, answer N-Triples)
    sparql: str = ""
    media_type: str | None = None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    data: bytes = b""
    graph: str | None = None
    # A client's text: the guard checks it here, before the engine sees it (settings can switch
    # the guard off, only to test the sandbox alone).
    guard: bool = False
    client: bool = False  # sent by a client (/sparql), not one of the service's own queries
    base: str = ""  # base IRI for relative IRIs in an upload


@dataclass
class Outcome:
    """What a worker sends back: a body, rows, a value, or an error of a known kind."""

    kind: str = ""  # select | ask | graph for queries
    body: bytes = b""
    variables: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    value: object = None
    error: str | None = None
    # syntax | refused (value: the clause) | upload (value: HTTP status) | too_large | memory
    # | bad_data | internal
    error_kind: str | None = None


def run(store: Store, job: Job) -> Outcome:
    """Do one job against the open store; errors become an Outcome, never an exception."""
    try:
        return _run(store, job)
    except guard.Refused as refused:
        return Outcome(error=str(refused), error_kind="refused", value=refused.clause)
    except uploads.UploadRefused as refused:
        return Outcome(error=str(refused), error_kind="upload", value=refused.status)
    except MemoryError:
        return Outcome(
            error="the job needed more memory than a worker may use", error_kind="memory"
        )
    except PermissionError as error:
        # The sandbox refused a socket: the engine tried to reach another host.
        message = (
            f"the query tried to open a network connection, which this service never does ({error})"
        )
        return Outcome(error=message, error_kind="refused", value="network")
    except QuerySyntaxError as error:
        return Outcome(error=str(error), error_kind="syntax")
    except ResultTooLarge as error:
        return Outcome(error=str(error), error_kind="too_large")
    except (SyntaxError, ValueError) as error:
        return Outcome(error=str(error), error_kind="bad_data")
    except Exception as error:  # noqa: BLE001 - reported to the parent, which answers clearly
        if job.op == "update" and type(error) is RuntimeError:
            # pyoxigraph refuses an update for the dataset's state (CREATE of a graph that
            # exists, MOVE/DROP/CLEAR of one that does not): the client's, in the engine's words.
            return Outcome(error=str(error), error_kind="update")
        if job.op in ("query", "rows") and type(error) is RuntimeError:
            # The engine could not evaluate the query as written (for example SERVICE on an
            # unbound variable): the client's, in the engine's words.
            return Outcome(error=str(error), error_kind="evaluation")
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        return Outcome(error=detail, error_kind="internal")


def _run(store: Store, job: Job) -> Outcome:
    if job.op in ("query", "rows"):
        own_dataset = None
        if job.guard:
            checked = guard.check_query(job.sparql, guard.GraphNames(store.has_graph))
            own_dataset = checked.names_dataset
        result = store.query(
            job.sparql,
            default_graphs=list(job.default_graphs) or None,
            named_graphs=list(job.named_graphs) or None,
            own_dataset=own_dataset,
        )
        if job.op == "rows":
            if result.kind == "ask":
                return Outcome(kind="ask", value=result.boolean)
            if result.kind == "graph":
                return Outcome(kind="graph", rows=[_triple(t) for t in result.triples()])
            return Outcome(kind="select", variables=result.variables, rows=list(result.rows()))
        return Outcome(kind=result.kind, body=result.serialize(job.media_type or ""))
    changed = change(store, job)
    if changed is not None:
        if changed.value is True:
            store.flush()
        return changed
    if job.op == "dump":
        return Outcome(
            kind="graph", body=store.dump_graph(job.media_type or "text/turtle", job.graph)
        )
    elif job.op == "catalogue":
        from treatygraph import catalogue

        return Outcome(value=str(catalogue.make(store, catalogue.path_for(store.path))))
    elif job.op == "graphs":
        return Outcome(value=store.graphs())
    elif job.op == "stats":
        result = store.query(STATS)
        counts = {row["g"].value: int(row["n"].value) for row in result.rows()}
        return Outcome(value=counts | {"": store.count()})
    return Outcome(error=f"unknown job {job.op!r}", error_kind="internal")


def change(store, job: Job) -> Outcome | None:
    """The jobs that parse or change data, done alike on every store (this worker's and the
    remote engine's): None for any other job."""
    if job.op == "upload":
        return Outcome(body=uploads.read(job.data, job.media_type or "", job.base, UPLOADS))
    if job.op == "update":
        if job.guard:
            guard.check_update(job.sparql)
        store.update(job.sparql)
    elif job.op == "load":
        store.load(job.data, job.media_type or "", job.graph or "")
    elif job.op == "replace":
        store.replace_graph(job.data, job.media_type or "", job.graph or "")
    elif job.op == "drop":
        return Outcome(value=store.drop_graph(job.graph or ""))
    else:
        return None
    return Outcome(value=True)


def _triple(triple) -> dict:
    from treatygraph.store import Term

    return {
        "s": Term.of(triple.subject),
        "p": Term.of(triple.predicate),
        "o": Term.of(triple.object),
    }


@dataclass(frozen=True)
class Confinement:
    """How a worker is confined: no network (seccomp), and its memory bound in MiB (0: none)."""

    no_network: bool = True
    memory_mb: int = 0


UPLOADS = uploads.UploadLimits()


def main(conn, path: str, read_only: bool, limits: Limits, confinement: Confinement) -> None:
    """Entry point of a worker process: confine it, open the store, answer jobs."""
    try:
        if confinement.no_network:
            sandbox.forbid_network()
        store = Store(Path(path), read_only=read_only, limits=limits)
    except Exception as error:  # noqa: BLE001 - the parent reports it
        conn.send(Outcome(error=f"cannot open the store: {error}", error_kind="internal"))
        return
    conn.send(Outcome(value="ready"))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            del store
            conn.send(Outcome(value="closed"))
            return
        bounded = job.client or job.op == "upload"
        sandbox.bound_memory(confinement.memory_mb if bounded else 0)
        conn.send(run(store, job))
