"""The one store interface every backend implements, its result object and its errors.

A store holds a dataset: named graphs (one per curated source file, and the graphs the build
derives) and a default graph. What a query reads follows the SPARQL 1.1 Protocol:

- graphs given by the caller (`default_graphs` / `named_graphs`, the protocol's default-graph-uri
  and named-graph-uri) replace the query's own FROM / FROM NAMED; a graph the caller does not name
  is not in the dataset (only named graphs given: the default graph is empty, and the other way
  round);
- else the query's FROM / FROM NAMED apply;
- else the service's default: the default graph is the union of all graphs, and every named graph
  can be read with GRAPH.

How each backend gets that union differs (see `treatygraph.stores` for the engines). The result
is the same: what `memory`, `embedded` and `remote` answer can be compared row for row.

Errors: every failure a caller can act on is a `StoreError`: the query is not SPARQL
(`QuerySyntaxError`), data to load does not parse (`DataSyntaxError`), a media type is not one
the store writes (`UnsupportedMediaType`), the answer is over a bound (`ResultTooLarge`), the
engine refused (credentials, permissions: `Refused`), or it cannot be reached or is too slow
(`StoreUnavailable`, which names the URL and the reason). Anything else the engine reports is a
plain `StoreError` carrying its message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable
from xml.sax.saxutils import escape as _escape
from xml.sax.saxutils import quoteattr

import pyoxigraph as ox

# Media types for graphs and solutions, and the prefixes Turtle and TriG are written with: one
# table, the embedded store's.
from treatygraph.store import (
    PREFIXED_FORMATS,
    PREFIXES,
    QUAD_FORMATS,
    RDF_FORMATS,
    RESULT_FORMATS,
)

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
XSD_BOOLEAN = XSD + "boolean"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


# -- errors --------------------------------------------------------------------------------------


class StoreError(Exception):
    """Anything a store reports that its caller can act on; the message says what happened."""


class QuerySyntaxError(StoreError, ValueError):
    """The query (or update) is not valid SPARQL; the message carries the parser's words."""


class DataSyntaxError(StoreError, ValueError):
    """Data to load does not parse in the media type given; nothing was written."""


class UnsupportedMediaType(StoreError, ValueError):
    """The store cannot read or write that media type (or not for that kind of result)."""


class ResultTooLarge(StoreError):
    """The answer has more rows, triples or bytes than the configured bound (or than the engine
    is known to return whole)."""


class Refused(StoreError, PermissionError):
    """The engine refused the request: missing or wrong credentials, no permission to write, or
    a store opened read-only. `status` is the HTTP status when there is one."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class StoreUnavailable(StoreError, ConnectionError):
    """The engine could not be reached, or did not answer in time. `url` is what was asked,
    `reason` why it failed ("connection refused", "no answer within 5.0 s", "HTTP 503", ...)."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"the SPARQL store at {url} is unavailable: {reason}")
        self.url = url
        self.reason = reason


# -- terms and results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """An RDF term as the SPARQL JSON results format describes it (the shape of
    `treatygraph.store.Term`). `datatype` is None for language-tagged literals; a plain string
    has datatype xsd:string."""

    type: str  # "uri", "literal" or "bnode"
    value: str
    datatype: str | None = None
    lang: str | None = None

    @classmethod
    def of(cls, term) -> Term:
        """From a pyoxigraph term, or anything with the same shape (a `store.Term`)."""
        if isinstance(term, ox.NamedNode):
            return cls("uri", term.value)
        if isinstance(term, ox.BlankNode):
            return cls("bnode", term.value)
        if isinstance(term, ox.Literal):
            lang = term.language
            return cls("literal", term.value, None if lang else term.datatype.value, lang)
        if hasattr(term, "type") and hasattr(term, "value"):
            datatype = getattr(term, "datatype", None)
            lang = getattr(term, "lang", None) or None
            if term.type == "literal" and not lang and not datatype:
                datatype = XSD_STRING
            return cls(term.type, term.value, None if lang else datatype, lang)
        raise TypeError(f"not an RDF term: {term!r}")

    @classmethod
    def from_json(cls, data: dict) -> Term:
        """From one binding of the SPARQL JSON results format. Also reads the older
        `typed-literal` type that Virtuoso still writes, and its booleans written 1 and 0 (the
        same values: written here in their canonical form, true and false)."""
        kind = data.get("type")
        value = data.get("value")
        if not isinstance(value, str):  # Virtuoso writes numbers unquoted in some answers
            value = json.dumps(value)
        if kind == "uri":
            return cls("uri", value)
        if kind == "bnode":
            return cls("bnode", value)
        if kind in ("literal", "typed-literal"):
            lang = data.get("xml:lang") or data.get("lang")
            if lang:
                return cls("literal", value, None, lang)
            datatype = data.get("datatype") or XSD_STRING
            if datatype == XSD_BOOLEAN and value in ("1", "0"):
                value = "true" if value == "1" else "false"  # Virtuoso's form of the same value
            return cls("literal", value, datatype)
        if kind == "triple":
            raise UnsupportedMediaType("RDF-star triple terms in results are not supported")
        raise StoreError(f"unknown term type in a SPARQL JSON result: {kind!r}")

    def to_ox(self) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        if self.type == "uri":
            return ox.NamedNode(self.value)
        if self.type == "bnode":
            return ox.BlankNode(self.value)
        if self.lang:
            return ox.Literal(self.value, language=self.lang)
        return ox.Literal(self.value, datatype=ox.NamedNode(self.datatype or XSD_STRING))

    def to_json(self) -> dict[str, str]:
        out = {"type": self.type, "value": self.value}
        if self.lang:
            out["xml:lang"] = self.lang
        elif self.datatype and self.datatype != XSD_STRING:
            out["datatype"] = self.datatype
        return out

    def n3(self) -> str:
        """The term in N-Triples syntax."""
        return str(self.to_ox())


@dataclass(frozen=True)
class Limits:
    """Bounds on one query's answer: rows (or triples) read, bytes read or written."""

    max_rows: int = 100_000
    max_bytes: int = 64 * 1024 * 1024


def bounded(items: Iterable, limit: int, what: str = "rows") -> list:
    """The items as a list; ResultTooLarge past `limit` of them."""
    out = []
    for count, item in enumerate(items, start=1):
        if count > limit:
            raise ResultTooLarge(f"the query returned more than {limit} {what}")
        out.append(item)
    return out


@dataclass
class QueryResult:
    """The whole answer to one query, read into memory within the store's Limits.

    kind: "select" (variables, rows), "ask" (boolean) or "graph" (triples: CONSTRUCT, DESCRIBE).
    rows: one dict per solution, variable -> Term, unbound variables absent.
    """

    kind: str
    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, Term]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)
    max_bytes: int = Limits.max_bytes

    def serialize(self, media_type: str) -> bytes:
        """The answer in `media_type`: a SPARQL results format for select/ask, an RDF format for
        graphs. The results formats are written as Oxigraph writes them, byte for byte."""
        media_type = media_type.split(";")[0].strip().lower()
        if self.kind == "graph":
            if media_type not in RDF_FORMATS:
                raise UnsupportedMediaType(f"a graph result cannot be written as {media_type}")
            prefixes = PREFIXES if media_type in PREFIXED_FORMATS else None
            data = ox.serialize(self.triples, format=RDF_FORMATS[media_type], prefixes=prefixes)
            data = data or b""
        elif media_type not in RESULT_FORMATS:
            raise UnsupportedMediaType(f"a {self.kind} result cannot be written as {media_type}")
        elif self.kind == "ask":
            data = _write_boolean(bool(self.boolean), media_type)
        else:
            data = _write_solutions(self.variables, self.rows, media_type)
        if len(data) > self.max_bytes:
            raise ResultTooLarge(f"the result is larger than the bound of {self.max_bytes} bytes")
        return data


def _write_boolean(value: bool, media_type: str) -> bytes:
    word = "true" if value else "false"
    if media_type == "application/sparql-results+json":
        return b'{"head":{},"boolean":' + word.encode() + b"}"
    if media_type == "application/sparql-results+xml":
        return (
            '<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head></head><boolean>{word}</boolean></sparql>"
        ).encode()
    return word.encode()


_CSV_SPECIAL = re.compile(r'[",\r\n]')
_TSV_SHORT = {
    XSD + "integer": re.compile(r"[+-]?\d+"),
    XSD + "decimal": re.compile(r"[+-]?\d*\.\d+"),
    XSD + "double": re.compile(r"[+-]?(\d+\.\d*|\.?\d+)[eE][+-]?\d+"),
    XSD + "boolean": re.compile(r"true|false"),
}


def _csv_cell(term: Term | None) -> str:
    if term is None:
        return ""
    text = "_:" + term.value if term.type == "bnode" else term.value
    if _CSV_SPECIAL.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _tsv_cell(term: Term | None) -> str:
    if term is None:
        return ""
    if term.type == "literal" and term.datatype in _TSV_SHORT:
        if _TSV_SHORT[term.datatype].fullmatch(term.value):
            return term.value
    return term.n3()


def escape(text: str) -> str:
    return _escape(text, {'"': "&quot;"})


def _xml_term(term: Term) -> str:
    if term.type == "uri":
        return f"<uri>{escape(term.value)}</uri>"
    if term.type == "bnode":
        return f"<bnode>{escape(term.value)}</bnode>"
    if term.lang:
        return f"<literal xml:lang={quoteattr(term.lang)}>{escape(term.value)}</literal>"
    if term.datatype and term.datatype != XSD_STRING:
        return f"<literal datatype={quoteattr(term.datatype)}>{escape(term.value)}</literal>"
    return f"<literal>{escape(term.value)}</literal>"


def _write_solutions(variables: list[str], rows: list[dict[str, Term]], media_type: str) -> bytes:
    if media_type == "application/sparql-results+json":
        body = {
            "head": {"vars": variables},
            "results": {"bindings": [{k: t.to_json() for k, t in row.items()} for row in rows]},
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    if media_type == "application/sparql-results+xml":
        parts = ['<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">']
        parts.append("<head>")
        parts += [f"<variable name={quoteattr(v)}/>" for v in variables]
        parts.append("</head><results>")
        for row in rows:
            parts.append("<result>")
            for name in variables:
                if name in row:
                    parts.append(
                        f"<binding name={quoteattr(name)}>{_xml_term(row[name])}</binding>"
                    )
            parts.append("</result>")
        parts.append("</results></sparql>")
        return "".join(parts).encode()
    if media_type == "text/csv":
        lines = [",".join(variables)]
        lines += [",".join(_csv_cell(row.get(v)) for v in variables) for row in rows]
        return ("\r\n".join(lines) + "\r\n").encode()
    lines = ["\t".join("?" + v for v in variables)]
    lines += ["\t".join(_tsv_cell(row.get(v)) for v in variables) for row in rows]
    return ("\n".join(lines) + "\n").encode()


# -- reading data --------------------------------------------------------------------------------


def rdf_format(media_type: str) -> ox.RdfFormat:
    media_type = media_type.split(";")[0].strip().lower()
    try:
        return RDF_FORMATS[media_type]
    except KeyError:
        known = ", ".join(sorted(RDF_FORMATS))
        raise UnsupportedMediaType(f"cannot read {media_type} (known: {known})") from None


def parse_quads(data: bytes, media_type: str, graph: str) -> list[ox.Quad]:
    """Parse `data` whole before anything is written: the triples go to `graph`; quad formats
    (TriG, N-Quads) keep their own graphs, their default graph going to `graph`. A parse error
    raises DataSyntaxError."""
    fmt = rdf_format(media_type)
    name = ox.NamedNode(graph)
    try:
        parsed = list(ox.parse(data, format=fmt, base_iri=graph))
    except SyntaxError as error:
        raise DataSyntaxError(f"the {media_type} data does not parse: {error}") from None
    if media_type.split(";")[0].strip().lower() in QUAD_FORMATS:
        return [
            q if not isinstance(q.graph_name, ox.DefaultGraph) else ox.Quad(*q.triple, name)
            for q in parsed
        ]
    return [ox.Quad(t.subject, t.predicate, t.object, name) for t in parsed]


def dump_quads(quads: Iterable[ox.Quad], media_type: str) -> bytes:
    """Quads in `media_type`: quad formats keep the graphs; triple formats get the union of the
    graphs without duplicates, sorted (as `treatygraph.store.Store.dump` writes it)."""
    fmt = rdf_format(media_type)
    media_type = media_type.split(";")[0].strip().lower()
    prefixes = PREFIXES if media_type in PREFIXED_FORMATS else None
    if media_type in QUAD_FORMATS:
        return ox.serialize(list(quads), format=fmt, prefixes=prefixes) or b""
    triples = sorted({q.triple for q in quads}, key=str)
    return ox.serialize(triples, format=fmt, prefixes=prefixes) or b""


def names_dataset(sparql: str) -> bool:
    """True when the query has its own FROM or FROM NAMED (decided on a real parse, by
    `treatygraph.guard`)."""
    from treatygraph import guard

    return guard.names_dataset(sparql)


def query_form(sparql: str) -> str:
    """select, ask, construct or describe: the query's form (select when it cannot be told)."""
    from treatygraph import guard

    return guard.query_form(sparql) or "select"


def graph_of(graph: str) -> ox.NamedNode:
    if not isinstance(graph, str) or not graph:
        raise ValueError(f"a graph is named by an absolute IRI, got {graph!r}")
    try:
        return ox.NamedNode(graph)
    except ValueError as error:
        raise ValueError(f"not an IRI: {graph!r} ({error})") from None


# -- the interface -------------------------------------------------------------------------------


@runtime_checkable
class GraphStore(Protocol):
    """What every store does: `memory.MemoryStore`, `embedded.EmbeddedStore`,
    `remote.RemoteStore`."""

    limits: Limits

    def query(
        self,
        sparql: str,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult:
        """Answer a SPARQL query over the dataset the protocol's rules give (module docstring)."""
        ...

    def update(self, sparql: str) -> None:
        """Run a SPARQL 1.1 Update."""
        ...

    def load(self, data: bytes, media_type: str, graph: str) -> None:
        """Add the triples of `data` to `graph` (quad formats keep their own graphs); parsed
        whole first, so data that does not parse writes nothing (DataSyntaxError)."""
        ...

    def replace_graph(self, data: bytes, media_type: str, graph: str) -> None:
        """Make `graph` hold exactly the triples of `data`; parsed first, so data that does not
        parse leaves the graph as it was. Atomic where the engine allows (see the backends)."""
        ...

    def drop_graph(self, graph: str) -> bool:
        """Remove `graph`; False when there was no such graph."""
        ...

    def graphs(self) -> list[str]:
        """The named graphs, sorted (for a remote engine: those with triples, less the engine's
        own system graphs)."""
        ...

    def has_graph(self, graph: str) -> bool: ...

    def count(self, graph: str | None = None) -> int:
        """Quads in `graph`, or in the whole dataset."""
        ...

    def dump(self, media_type: str, graph: str | None = None) -> bytes:
        """One graph, or everything: quad formats keep the graphs, triple formats hold their
        union without duplicates."""
        ...

    def close(self) -> None: ...
