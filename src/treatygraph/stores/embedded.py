"""The embedded store: the interface over `treatygraph.store.Store`, the on-disk Oxigraph (RocksDB)
dataset that `treatygraph build` writes and the service's query workers open.

Everything is delegated to `Store` (its dataset rules are the ones of `stores.base`: the union
default graph when neither the caller nor the query names a dataset); this module only turns its
answers and errors into the interface's. Two things are done here rather than there:

- `load` parses the data whole before writing (`Store.load` writes as it parses), so data that
  does not parse writes nothing;
- `replace_graph` runs one SPARQL update (DROP SILENT GRAPH, then INSERT DATA), which Oxigraph
  runs in one transaction: atomic, where `Store.replace_graph` drops, then adds.

A RocksDB directory is opened by one process at a time for writing: open the store here only when
no `treatygraph serve` or build holds it (see `treatygraph.build.store_lock`), or read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from treatygraph import store as tgstore
from treatygraph.stores import base
from treatygraph.stores.base import (
    Limits,
    QueryResult,
    QuerySyntaxError,
    Refused,
    ResultTooLarge,
    StoreError,
    Term,
    graph_of,
)
from treatygraph.stores.memory import replace_update, triples_for


class EmbeddedStore:
    """A `treatygraph.store.Store` on disk at `path` (or in memory when `path` is None)."""

    def __init__(
        self,
        path: Path | str | None,
        *,
        read_only: bool = False,
        limits: Limits | None = None,
        store: tgstore.Store | None = None,
    ):
        self.limits = limits or Limits()
        self.path = Path(path) if path is not None else None
        self.read_only = read_only
        if store is not None:
            self.store = store
        else:
            bounds = tgstore.Limits(max_rows=self.limits.max_rows, max_bytes=self.limits.max_bytes)
            try:
                self.store = tgstore.Store(self.path, read_only=read_only, limits=bounds)
            except OSError as error:
                where = self.path or "memory"
                raise StoreError(f"cannot open the store at {where}: {error}") from None

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if not self.read_only:
            try:
                self.store.flush()
            except OSError:
                pass

    def __repr__(self) -> str:
        return f"EmbeddedStore({str(self.path)!r})"

    # -- reading ---------------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult:
        try:
            raw = self.store.query(sparql, default_graphs=default_graphs, named_graphs=named_graphs)
            return _result_of(raw, self.limits)
        except tgstore.QuerySyntaxError as error:
            raise QuerySyntaxError(str(error)) from None
        except SyntaxError as error:
            raise QuerySyntaxError(str(error)) from None
        except tgstore.ResultTooLarge as error:
            raise ResultTooLarge(str(error)) from None
        except OSError as error:
            raise StoreError(str(error)) from None

    def graphs(self) -> list[str]:
        return self.store.graphs()

    def has_graph(self, graph: str) -> bool:
        return self.store.has_graph(graph_of(graph).value)

    def count(self, graph: str | None = None) -> int:
        return self.store.count(None if graph is None else graph_of(graph).value)

    def counts(self) -> dict[str, int]:
        """Quads per named graph."""
        found: dict[str, int] = {}
        for quad in self.store.quads():
            if isinstance(quad.graph_name, ox.NamedNode):
                found[quad.graph_name.value] = found.get(quad.graph_name.value, 0) + 1
        return dict(sorted(found.items()))

    def dump(self, media_type: str, graph: str | None = None) -> bytes:
        base.rdf_format(media_type)  # UnsupportedMediaType for a type it cannot write
        media_type = media_type.split(";")[0].strip().lower()
        return self.store.dump(media_type, None if graph is None else graph_of(graph).value)

    # -- writing ---------------------------------------------------------------------------------

    def _writable(self) -> None:
        if self.read_only:
            raise Refused(f"the store at {self.path} is open read-only")

    def update(self, sparql: str) -> None:
        self._writable()
        try:
            self.store.update(sparql)
        except tgstore.QuerySyntaxError as error:
            raise QuerySyntaxError(str(error)) from None
        except OSError as error:
            raise StoreError(str(error)) from None

    def load(self, data: bytes, media_type: str, graph: str) -> None:
        self._writable()
        self.store.add_quads(base.parse_quads(data, media_type, graph))

    def replace_graph(self, data: bytes, media_type: str, graph: str) -> None:
        self._writable()
        self.update(replace_update(graph, triples_for(data, media_type, graph)))

    def drop_graph(self, graph: str) -> bool:
        self._writable()
        return self.store.drop_graph(graph_of(graph).value)


def _result_of(raw: tgstore.QueryResult, limits: Limits) -> QueryResult:
    """The interface's QueryResult from `treatygraph.store.QueryResult` (its public API only)."""
    if raw.kind == "ask":
        return QueryResult("ask", boolean=raw.boolean, max_bytes=limits.max_bytes)
    if raw.kind == "select":
        rows = [{name: Term.of(term) for name, term in row.items()} for row in raw.rows()]
        return QueryResult("select", variables=raw.variables, rows=rows, max_bytes=limits.max_bytes)
    return QueryResult("graph", triples=list(raw.triples()), max_bytes=limits.max_bytes)
