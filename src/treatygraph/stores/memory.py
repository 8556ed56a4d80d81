"""An in-memory store on pyoxigraph: for tests, and for trying data out without a disk or a server.

The dataset rules are Oxigraph's own: without FROM and without graphs from the caller, the query
runs with `use_default_graph_as_union`. Each update runs in one transaction, so `replace_graph`
(one update: DROP SILENT GRAPH, then INSERT DATA) is atomic: a reader sees the old graph or the
new one, never a mix or an empty graph.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from treatygraph.stores import base
from treatygraph.stores.base import (
    Limits,
    QueryResult,
    QuerySyntaxError,
    StoreError,
    Term,
    bounded,
    graph_of,
)


def dataset_options(
    sparql: str, default_graphs: Sequence[str] | None, named_graphs: Sequence[str] | None
) -> dict:
    """pyoxigraph's query options for the protocol's dataset rules (see `stores.base`)."""
    if default_graphs or named_graphs:
        return {
            "default_graph": [graph_of(g) for g in default_graphs or ()],
            "named_graphs": [graph_of(g) for g in named_graphs or ()],
        }
    if base.names_dataset(sparql):
        return {}
    return {"use_default_graph_as_union": True}


def result_of(raw, limits: Limits) -> QueryResult:
    """A QueryResult from pyoxigraph's answer, read within `limits`."""
    if isinstance(raw, ox.QueryBoolean):
        return QueryResult("ask", boolean=bool(raw), max_bytes=limits.max_bytes)
    if isinstance(raw, ox.QuerySolutions):
        names = [v.value for v in raw.variables]
        rows = bounded(
            ({n: Term.of(s[n]) for n in names if s[n] is not None} for s in raw), limits.max_rows
        )
        return QueryResult("select", variables=names, rows=rows, max_bytes=limits.max_bytes)
    triples = bounded(iter(raw), limits.max_rows, "triples")
    return QueryResult("graph", triples=triples, max_bytes=limits.max_bytes)


def replace_update(graph: str, triples: list[ox.Triple]) -> str:
    """One SPARQL update that makes `graph` hold exactly `triples`."""
    name = str(graph_of(graph))
    body = (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode()
    return f"DROP SILENT GRAPH {name} ;\nINSERT DATA {{ GRAPH {name} {{\n{body}}} }}"


def triples_for(data: bytes, media_type: str, graph: str) -> list[ox.Triple]:
    """The triples of `data` for `graph` (quad formats: only `graph` and the default graph)."""
    quads = base.parse_quads(data, media_type, graph)
    others = {q.graph_name.value for q in quads if q.graph_name.value != graph}
    if others:
        named = ", ".join(sorted(others)[:3])
        raise base.DataSyntaxError(f"data for graph <{graph}> names other graphs: {named}")
    return [q.triple for q in quads]


class MemoryStore:
    """A pyoxigraph dataset in memory."""

    def __init__(self, *, limits: Limits | None = None):
        self.limits = limits or Limits()
        self._store = ox.Store()

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return "MemoryStore()"

    # -- reading ---------------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult:
        options = dataset_options(sparql, default_graphs, named_graphs)
        try:
            raw = self._store.query(sparql, **options)
            return result_of(raw, self.limits)
        except SyntaxError as error:
            raise QuerySyntaxError(str(error)) from None
        except OSError as error:
            raise StoreError(str(error)) from None

    def graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def has_graph(self, graph: str) -> bool:
        return self._store.contains_named_graph(graph_of(graph))

    def count(self, graph: str | None = None) -> int:
        if graph is None:
            return len(self._store)
        return sum(1 for _ in self._store.quads_for_pattern(None, None, None, graph_of(graph)))

    def counts(self) -> dict[str, int]:
        """Quads per named graph."""
        found: dict[str, int] = {}
        for quad in self._store:
            if isinstance(quad.graph_name, ox.NamedNode):
                found[quad.graph_name.value] = found.get(quad.graph_name.value, 0) + 1
        return dict(sorted(found.items()))

    def dump(self, media_type: str, graph: str | None = None) -> bytes:
        if graph is not None:
            quads = self._store.quads_for_pattern(None, None, None, graph_of(graph))
            return base.dump_quads(list(quads), media_type)
        return base.dump_quads(list(self._store), media_type)

    # -- writing ---------------------------------------------------------------------------------

    def update(self, sparql: str) -> None:
        try:
            self._store.update(sparql)
        except SyntaxError as error:
            raise QuerySyntaxError(str(error)) from None
        except OSError as error:
            raise StoreError(str(error)) from None

    def load(self, data: bytes, media_type: str, graph: str) -> None:
        self._store.extend(base.parse_quads(data, media_type, graph))

    def replace_graph(self, data: bytes, media_type: str, graph: str) -> None:
        self.update(replace_update(graph, triples_for(data, media_type, graph)))

    def drop_graph(self, graph: str) -> bool:
        name = graph_of(graph)
        if not self._store.contains_named_graph(name):
            return False
        self._store.remove_graph(name)
        return True
