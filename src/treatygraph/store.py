"""The store: one narrow interface over an Oxigraph dataset, in memory or on disk.

Everything above this module speaks SPARQL and media types only. The dataset of a query follows the
SPARQL 1.1 Protocol: the graphs the caller names (default-graph-uri / named-graph-uri) replace the
query's own FROM / FROM NAMED; else the query's FROM / FROM NAMED apply; else the service's default,
where the default graph is the union of all graphs (each source file is a named graph).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pyoxigraph as ox

from treatygraph import guard
from treatygraph.namespaces import PREFIXES as NAMESPACE_PREFIXES

# Media types the store can write, for graphs (CONSTRUCT, DESCRIBE, export) and for solutions.
RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
QUAD_FORMATS = {"application/trig", "application/n-quads"}
# Turtle and TriG are written with these prefixes, so that a person reading them sees `tg:refersTo`.
PREFIXED_FORMATS = {"text/turtle", "application/trig"}
# (Resources keep full IRIs: theirs contain slashes, which a prefixed name must escape.)
PREFIXES = {name: str(namespace) for name, namespace in NAMESPACE_PREFIXES.items()}


class QuerySyntaxError(ValueError):
    """The query (or update) is not valid SPARQL; the message carries the parser's position."""


class ResultTooLarge(RuntimeError):
    """The query produced more results than the configured bound."""


@dataclass(frozen=True)
class Term:
    """An RDF term as the SPARQL JSON results format describes it."""

    type: str  # "uri", "literal" or "bnode"
    value: str
    datatype: str | None = None
    lang: str | None = None

    @classmethod
    def of(cls, term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Term:
        if isinstance(term, ox.NamedNode):
            return cls("uri", term.value)
        if isinstance(term, ox.BlankNode):
            return cls("bnode", term.value)
        datatype = term.datatype.value if term.language is None else None
        return cls("literal", term.value, datatype, term.language)

    def to_json(self) -> dict[str, str]:
        out = {"type": self.type, "value": self.value}
        if self.lang:
            out["xml:lang"] = self.lang
        elif self.datatype and self.datatype != XSD_STRING:
            out["datatype"] = self.datatype
        return out


XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class BoundedBuffer(io.RawIOBase):
    """A write-only byte buffer that refuses to grow past `limit` bytes."""

    def __init__(self, limit: int):
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise ResultTooLarge(f"the result is larger than the bound of {self.limit} bytes")
        self.chunks.append(bytes(data))
        return len(data)

    def getvalue(self) -> bytes:
        return b"".join(self.chunks)


class QueryResult:
    """The answer to one query: solutions, a boolean, or triples; serializable to any media type."""

    def __init__(self, raw: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples, limits: Limits):
        self._raw = raw
        self._limits = limits
        if isinstance(raw, ox.QueryBoolean):
            self.kind = "ask"
        elif isinstance(raw, ox.QuerySolutions):
            self.kind = "select"
        else:
            self.kind = "graph"

    @property
    def variables(self) -> list[str]:
        if isinstance(self._raw, ox.QuerySolutions):
            return [v.value for v in self._raw.variables]
        return []

    @property
    def boolean(self) -> bool:
        return bool(self._raw)

    def rows(self) -> Iterator[dict[str, Term]]:
        """Solutions as dicts of bound variables (unbound ones are absent)."""
        names = self.variables
        for count, solution in enumerate(self._raw, start=1):
            if count > self._limits.max_rows:
                raise ResultTooLarge(f"the query returned more than {self._limits.max_rows} rows")
            yield {n: Term.of(solution[n]) for n in names if solution[n] is not None}

    def triples(self) -> Iterator[ox.Triple]:
        for count, triple in enumerate(self._raw, start=1):
            if count > self._limits.max_rows:
                limit = self._limits.max_rows
                raise ResultTooLarge(f"the query returned more than {limit} triples")
            yield triple

    def serialize(self, media_type: str) -> bytes:
        """Write the whole result in a media type fit for its kind (see RDF_/RESULT_FORMATS)."""
        buffer = BoundedBuffer(self._limits.max_bytes)
        if self.kind == "graph":
            prefixes = PREFIXES if media_type in PREFIXED_FORMATS else None
            ox.serialize(self._raw, buffer, format=RDF_FORMATS[media_type], prefixes=prefixes)
        else:
            self._raw.serialize(buffer, format=RESULT_FORMATS[media_type])
        return buffer.getvalue()


@dataclass(frozen=True)
class Limits:
    """Bounds on one query's result: rows (or triples) read in Python, bytes serialized."""

    max_rows: int = 100_000
    max_bytes: int = 64 * 1024 * 1024


class Store:
    """An Oxigraph dataset: in memory when `path` is None, else on disk at `path`."""

    def __init__(
        self, path: Path | None = None, *, read_only: bool = False, limits: Limits | None = None
    ):
        self.path = path
        self.limits = limits or Limits()
        if path is None:
            self._store = ox.Store()
        elif read_only:
            self._store = ox.Store.read_only(str(path))
        else:
            path.mkdir(parents=True, exist_ok=True)
            self._store = ox.Store(str(path))

    # -- reading -----------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
        own_dataset: bool | None = None,
    ) -> QueryResult:
        """Run a SPARQL query over the dataset the protocol's rules give (see the module's
        docstring). `own_dataset` says whether the query has FROM / FROM NAMED, when the caller
        knows (None: found out here)."""
        options: dict = {}
        if default_graphs or named_graphs:
            # The protocol's dataset: a graph it does not name is not in it (an empty default
            # graph when only named graphs are given, and the other way round).
            options["default_graph"] = [ox.NamedNode(g) for g in default_graphs or ()]
            options["named_graphs"] = [ox.NamedNode(g) for g in named_graphs or ()]
        elif not (guard.names_dataset(sparql) if own_dataset is None else own_dataset):
            options["use_default_graph_as_union"] = True
        try:
            raw = self._store.query(sparql, **options)
        except SyntaxError as error:
            raise QuerySyntaxError(str(error)) from None
        return QueryResult(raw, self.limits)

    def solutions(self, sparql: str) -> Iterator[dict[str, Term]]:
        """The rows of one of the project's own SELECT queries over the union of the graphs,
        streamed and without the row bound (which is for queries that clients send)."""
        raw = self._store.query(sparql, use_default_graph_as_union=True)
        return QueryResult(raw, replace(self.limits, max_rows=sys.maxsize)).rows()

    def value_rows(self, sparql: str) -> Iterator[tuple[str | None, ...]]:
        """Like `solutions`, but each row is the plain values of the variables in order (None
        when unbound): for bulk reads where building a Term per cell would dominate."""
        raw = self._store.query(sparql, use_default_graph_as_union=True)
        names = [v.value for v in raw.variables]
        for solution in raw:
            yield tuple(None if (t := solution[n]) is None else t.value for n in names)

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Every quad, or those of one named graph."""
        name = ox.NamedNode(graph) if graph is not None else None
        return iter(self._store.quads_for_pattern(None, None, None, name))

    def has_graph(self, graph: str) -> bool:
        return self._store.contains_named_graph(ox.NamedNode(graph))

    def graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def count(self, graph: str | None = None) -> int:
        """Number of quads, in one named graph or in the whole dataset."""
        if graph is None:
            return len(self._store)
        return sum(1 for _ in self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))

    def dump(self, media_type: str, graph: str | None = None) -> bytes:
        fmt = RDF_FORMATS[media_type]
        if graph is not None:
            return self._store.dump(format=fmt, from_graph=ox.NamedNode(graph)) or b""
        if media_type in QUAD_FORMATS:
            return self._store.dump(format=fmt) or b""
        # A triple format for the whole dataset: the union of all graphs, without duplicates.
        triples = {q.triple for q in self._store}
        return ox.serialize(sorted(triples, key=str), format=fmt) or b""

    def dump_graph(self, media_type: str, graph: str | None) -> bytes:
        """One graph as it is stored: a named graph, or (None) the store's own default graph,
        which the Graph Store Protocol's ?default names (queries see the union instead)."""
        source = ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
        return self._store.dump(format=RDF_FORMATS[media_type], from_graph=source) or b""

    # -- writing -----------------------------------------------------------------------------

    def update(self, sparql: str) -> None:
        try:
            self._store.update(sparql)
        except SyntaxError as error:
            raise QuerySyntaxError(str(error)) from None

    def load(self, data: bytes, media_type: str, graph: str) -> None:
        """Add the triples of `data` to `graph` (quad formats keep their own graphs)."""
        fmt = RDF_FORMATS[media_type]
        options = {} if media_type in QUAD_FORMATS else {"to_graph": ox.NamedNode(graph)}
        self._store.load(data, format=fmt, **options)

    def replace_graph(self, data: bytes, media_type: str, graph: str) -> None:
        """Parse first, then swap: a parse error leaves the stored graph as it was."""
        fmt = RDF_FORMATS[media_type]
        parsed = list(ox.parse(data, format=fmt))
        name = ox.NamedNode(graph)
        self.drop_graph(graph)
        self._store.extend(ox.Quad(t.subject, t.predicate, t.object, name) for t in parsed)

    def drop_graph(self, graph: str) -> bool:
        name = ox.NamedNode(graph)
        if not self._store.contains_named_graph(name):
            return False
        self._store.remove_graph(name)
        return True

    def clear(self) -> None:
        self._store.clear()

    def add_quads(self, quads) -> None:
        self._store.extend(quads)

    def bulk_copy_from(self, other: Store) -> None:
        """Add every quad of `other`, without transactions: for filling a new store fast."""
        self._store.bulk_extend(other.quads())

    def bulk_add(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads without transactions: for filling a new store fast."""
        self._store.bulk_extend(quads)

    def default_graph_quads(self) -> Iterator[ox.Quad]:
        """The quads of the store's own default graph (not the union that queries see)."""
        return iter(self._store.quads_for_pattern(None, None, None, ox.DefaultGraph()))

    def flush(self) -> None:
        if self.path is not None:
            self._store.flush()
