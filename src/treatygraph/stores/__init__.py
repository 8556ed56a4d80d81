"""One store interface, and the same graph on an embedded Oxigraph or on an existing SPARQL engine.

    store = open_store(None)                                  # memory (pyoxigraph), for tests
    store = open_store("var/store")                           # embedded: the on-disk Oxigraph
    store = open_store("http://127.0.0.1:7878", engine="oxigraph")
    store = open_store("http://db:8890/sparql", engine="virtuoso", user="tg", password="...")
    store = open_store("http://host/sparql", update_url=..., graph_store_url=...)  # any SPARQL 1.1
    load_sources(store)          # every curated file in its own named graph, with the inferences

The interface (`base.GraphStore`): query (with the protocol's dataset), update, load,
replace_graph, drop_graph, graphs, has_graph, count, dump; results as `base.QueryResult`
(select/ask/graph, rows of `base.Term`, serializable to the SPARQL results formats and to RDF);
errors under `base.StoreError` (QuerySyntaxError, DataSyntaxError, UnsupportedMediaType,
ResultTooLarge, Refused, StoreUnavailable). The dataset rule is the same everywhere: without
graphs from the caller and without FROM, the default graph is the union of all graphs.

Backends, and how each gets that union:

- `memory.MemoryStore`, `embedded.EmbeddedStore`: Oxigraph's `use_default_graph_as_union`.
- `remote.RemoteStore`, any SPARQL 1.1 server through the SPARQL 1.1 Protocol (query, update) and
  the Graph Store HTTP Protocol; `union_default` is "engine" (the server's default graph is the
  union already: `oxigraph serve --union-default-graph`), "parameter" (Oxigraph's own
  `union-default-graph` request parameter) or "explicit" (every graph named in the request as
  default-graph-uri and named-graph-uri: standard, works on any engine).

Engines, as tested here (tests/test_stores_engines.py, against real servers on loopback, started
by `stores.engines`; installed by scripts/engines.sh):

- Oxigraph server 0.5 (`oxigraph serve`, PyPI `oxigraph`): query /query, update /update, graph
  store /store. No authentication of its own (put it behind a proxy that has some). The suite
  runs on a server started as it is by default, with the preset's "parameter" mode; the modes
  "explicit" and "engine" (`--union-default-graph`) are checked on their own. That flag also
  overrides a query's own FROM (a `FROM <g>` query reads the union all the same), so
  "parameter" is the preset. "explicit" works but is slow on Oxigraph (a default graph of ~80
  named graphs: some named questions take 20 s instead of 1 s). A SPARQL update request runs in
  one transaction, so `replace_graph` (one update: DROP SILENT GRAPH + INSERT DATA) is atomic.
  Its Graph Store PUT is not (it clears the graph, then loads).
- Virtuoso Open Source 7.2 (Debian `virtuoso-opensource`): query /sparql (anonymous, read-only);
  writes as a SQL user with the SPARQL_UPDATE role and `RDF_DEFAULT_USER_PERMS_SET(user, 3)`,
  through /sparql-auth (SPARQL Update) and /sparql-graph-crud-auth (Graph Store Protocol), HTTP
  digest authentication (the anonymous /sparql endpoint refuses updates with a 500 "SR186:
  SECURITY", read as Refused). Granting SPARQL_UPDATE to the "SPARQL" user would open writes to
  anyone who can reach /sparql: not done, not recommended. Differences, all handled in
  `remote.py`:
  * its default graph is every graph, its system graphs included (virtrdf#, ldp#, the service
    description <http://HOST/sparql>, <http://HOST/DAV/>): the preset uses "explicit" and hides
    those graphs from graphs() and count();
  * with only default-graph-uri given, Virtuoso still lets GRAPH ?g read every graph (the
    protocol says: none); "explicit" always sends both lists, so the answers agree;
  * JSON results use the old `typed-literal` type, and ASK comes back as a one-row SELECT of
    `__ASK_RETVAL` (no row: false); a CONSTRUCT asked for with an Accept that also lists the
    results types comes back as an s/p/o SELECT: so graph queries ask for RDF only;
  * INSERT DATA of a few thousand triples fails ("SP030 ... memory exhausted"), so graphs are
    replaced with a Graph Store PUT; whether Virtuoso's PUT is one transaction is not verified
    (a concurrent reader may see the graph half-written);
  * `ResultSetMaxRows` (10000 in the packaged virtuoso.ini) silently cuts longer answers: raise it
    in virtuoso.ini, and tell the store with `engine_max_rows=` so that an answer of exactly that
    many rows raises ResultTooLarge instead of passing as whole;
  * answers cut short by its `MaxQueryExecutionTime` ("anytime" queries, `X-SQL-State: S1TAT`)
    raise StoreUnavailable rather than pass as whole; "Transaction timed out" (SR171, a 500)
    too. A query that runs into that bound keeps Virtuoso busy well past it: the requests after
    it time out as well (StoreUnavailable, within the store's own time bound);
  * `SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }` takes about a minute on 115k quads
    where the same with GROUP BY takes milliseconds: the store lists graphs with GROUP BY;
  * xsd:boolean values come back as 1 and 0 (canonicalised to true/false here), and
    `BIND(true AS ?x)` as "1"^^xsd:integer (not fixable in an adapter);
  * of the 28 named questions in queries/, 17 get the reference's answer, 8 differ or fail
    (refused by its compiler, SR066 conversion errors, no rows) and 3 run past the time bound:
    the list, with each reason, is KNOWN_DIFFERENCES in tests/test_stores_engines.py.
- Apache Jena Fuseki: not installable here (no Debian or PyPI package), so untested. The
  `fuseki` preset uses /ds/query, /ds/update, /ds/data, basic auth and "explicit" (Fuseki's
  default graph is the real default graph unless the dataset sets `tdb2:unionDefaultGraph`, in
  which case "engine" works too). Nothing in it is Fuseki-specific beyond the URL layout.

What stays the same on every backend: graph names (one per curated file, as the build names
them, plus the build's inferred and provenance graphs), counts per graph, the answers to the
named questions in queries/ (compared as sorted rows), load/replace/drop/update, and the error
types, including StoreUnavailable within the time bound when a server is down or stalls.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from treatygraph.stores.base import (
    DataSyntaxError,
    GraphStore,
    Limits,
    QueryResult,
    QuerySyntaxError,
    Refused,
    ResultTooLarge,
    StoreError,
    StoreUnavailable,
    Term,
    UnsupportedMediaType,
)
from treatygraph.stores.embedded import EmbeddedStore
from treatygraph.stores.memory import MemoryStore
from treatygraph.stores.remote import RemoteStore

__all__ = [
    "DataSyntaxError",
    "EmbeddedStore",
    "GraphStore",
    "Limits",
    "LoadReport",
    "MemoryStore",
    "QueryResult",
    "QuerySyntaxError",
    "Refused",
    "RemoteStore",
    "ResultTooLarge",
    "StoreError",
    "StoreUnavailable",
    "Term",
    "UnsupportedMediaType",
    "load_sources",
    "open_store",
]


def open_store(target: str | Path | None = None, **options) -> GraphStore:
    """The store for `target`: None -> in memory; an http(s) URL -> a remote SPARQL engine
    (`engine=` "oxigraph", "virtuoso", "fuseki" or None, see `RemoteStore.for_engine`; other
    options as `RemoteStore` takes them); anything else -> the embedded store at that path."""
    if target is None:
        return MemoryStore(**options)
    text = str(target)
    if text.startswith(("http://", "https://")):
        engine = options.pop("engine", None)
        return RemoteStore.for_engine(text, engine, **options)
    return EmbeddedStore(Path(target), **options)


@dataclass
class LoadReport:
    """What `load_sources` wrote: triples per graph, the graphs it dropped, the inferences."""

    graphs: dict[str, int] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    inferred: int = 0
    seconds: float = 0.0


def load_sources(store: GraphStore, sources=None, *, prune: bool = True) -> LoadReport:
    """Put the curated graph into `store`: each source file in its own named graph (named as the
    build names it), with the graphs the build derives (the inferences of queries/rules/, the
    provenance of each graph). The content is the build's own (`treatygraph.build.fill`, run in
    memory); each graph is then replaced in `store` with `replace_graph`, so atomically where
    the engine allows, one graph at a time. Graphs that clients wrote are left alone.

    `sources`: a list of `treatygraph.sources.Source` (default: the repository's, from
    `sources.repo_sources()`). With `prune`, curated graphs that the store holds but the sources
    no longer make (a file removed) are dropped."""
    from treatygraph import build, write_policy
    from treatygraph import sources as tgsources
    from treatygraph.store import Store

    started = time.perf_counter()
    source_list = tgsources.repo_sources() if sources is None else list(sources)
    memory = Store()
    inferred = build.fill(memory, source_list)
    report = LoadReport(inferred=inferred)
    for graph in memory.graphs():
        triples = [quad.triple for quad in memory.quads(graph)]
        data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        store.replace_graph(data, "application/n-triples", graph)
        report.graphs[graph] = len(triples)
    if prune:
        for graph in store.graphs():
            if graph not in report.graphs and _is_curated_name(graph, write_policy):
                store.drop_graph(graph)
                report.dropped.append(graph)
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def _is_curated_name(graph: str, write_policy) -> bool:
    return graph in write_policy.DERIVED or any(
        graph.startswith(namespace) for namespace in write_policy.CURATED_NAMESPACES
    )
