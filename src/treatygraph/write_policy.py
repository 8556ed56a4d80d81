"""Written data beside curated data: which graphs an HTTP write may change.

The model. The store holds two kinds of graphs:

- curated graphs: one per file of `data/` and `ontology/` (named by its path, `.../graph/data/
  basel/convention.ttl`), and the graphs the build derives from them (`.../graph/inferred`, the
  inferences of `queries/rules/`; `.../graph/provenance`, which file each graph was read from).
  They change only through the files and a rebuild; the build records them, with the file each
  comes from, in the store's build record (`build.json`, see `treatygraph.build`).
- written data: every other named graph, and the store's own default graph. Only clients write
  them (SPARQL Update, Graph Store Protocol, with the write token), and a rebuild keeps them as
  they are.

So a write aimed at a curated graph is refused (409) before it runs, naming the file the graph
comes from: a Graph Store PUT/POST/DELETE of such a graph, and an update with an operation whose
target is one. Graph IRIs under `.../graph/data/` and `.../graph/ontology/` are curated names even
when no file has them yet, so that a later file can never collide with a written graph.

Which graphs an update writes is decided on a real parse (rdflib's SPARQL 1.1 Update grammar),
operation by operation, with prefixes and BASE applied:
- INSERT DATA / DELETE DATA / DELETE WHERE: the graphs of their GRAPH blocks (triples outside a
  GRAPH block go to the default graph, which is written data);
- DELETE/INSERT ... WHERE: the graphs of the templates' GRAPH blocks, and the WITH graph when a
  template has triples outside a GRAPH block (reading a curated graph in WHERE, USING or WITH is
  fine); a variable graph name in a template (`GRAPH ?g`) cannot be proven to miss the curated
  graphs, and is refused;
- CLEAR / DROP / CREATE / LOAD of a graph: that graph; CLEAR / DROP ALL and NAMED: every named
  graph, so refused while the store has curated graphs; DEFAULT: allowed;
- ADD / COPY: the target; MOVE: the target and the source (which it empties).
An update the parser cannot read is refused (400) and not run: what cannot be checked does not run.

The parser sees the text as the engine does: `\\uXXXX` escapes are decoded once, as the engine
decodes them, with the ones that stand for quotes, backslashes and line ends kept as escapes
(rdflib would otherwise decode them before it splits strings and comments, and could read a
different update than the one that runs), and carriage returns end comments for both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from treatygraph.guard import on_parser_stack
from treatygraph.namespaces import GRAPH

MARKER = "build.json"  # the build record in the store directory (written by treatygraph.build)
INFERRED_GRAPH = str(GRAPH["inferred"])
PROVENANCE_GRAPH = str(GRAPH["provenance"])
INFERENCE_ORIGIN = "queries/rules/*.ru (the inferences the build derives from the curated files)"
PROVENANCE_ORIGIN = "the build (which file each curated graph was read from)"
DERIVED = {INFERRED_GRAPH: INFERENCE_ORIGIN, PROVENANCE_GRAPH: PROVENANCE_ORIGIN}
# Graph names kept for the curated files, present or future: namespace -> folder.
CURATED_NAMESPACES = {str(GRAPH["data/"]): "data/", str(GRAPH["ontology/"]): "ontology/"}
RULE = "curated graphs change only through data/ and a rebuild"

_ESCAPES = re.compile(r"\\\\|\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# Characters whose escapes stay escapes (as string escapes, which mean the same in a string).
_KEPT_ESCAPED = {
    '"': '\\"',
    "'": "\\'",
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
DEFAULT = "DEFAULT"


class WriteRefused(ValueError):
    """The write is not done; `status` is the HTTP status, the message says why."""

    status = 409


class CuratedTarget(WriteRefused):
    """The write would change a curated graph."""


class UnprovableTarget(WriteRefused):
    """The update names its target graph with a variable: it may be a curated graph."""


class UpdateUnreadable(WriteRefused):
    """The update could not be parsed, so which graphs it writes is unknown."""

    status = 400


@dataclass(frozen=True)
class Target:
    iri: str
    origin: str
    operation: str


# -- what is curated ---------------------------------------------------------------------------


def origin_of(iri: str, curated: Mapping[str, str]) -> str | None:
    """Where a curated graph comes from (a file, or the build), or None for written data."""
    if iri in curated:
        return curated[iri]
    if iri in DERIVED:
        return DERIVED[iri]
    for namespace, folder in CURATED_NAMESPACES.items():
        if iri.startswith(namespace):
            return f"{folder}{iri[len(namespace) :]} (a graph name kept for that file)"
    return None


_cache: dict[str, tuple[tuple[int, int], dict[str, str]]] = {}


def curated_for(store_path: Path) -> dict[str, str]:
    """The curated graphs the build recorded for the store at `store_path` (graph -> origin).

    Empty for a store without a build record (one served with --no-build): its graphs are all
    written data, except the curated names (see `origin_of`)."""
    marker = Path(store_path) / MARKER
    try:
        stat = marker.stat()
    except OSError:
        return {}
    key = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(str(marker))
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        recorded = json.loads(marker.read_text()).get("curated") or {}
    except (OSError, ValueError, AttributeError):
        recorded = {}
    curated = {str(k): str(v) for k, v in recorded.items()}
    _cache[str(marker)] = (key, curated)
    return curated


# -- refusals ----------------------------------------------------------------------------------


def sentence(iri: str, origin: str) -> str:
    return f"graph <{iri}> comes from {origin}; {RULE}"


def check_graph_write(iri: str, curated: Mapping[str, str], method: str) -> None:
    """Refuse a Graph Store Protocol write (PUT, POST, DELETE) of a curated graph."""
    origin = origin_of(iri, curated)
    if origin is not None:
        raise CuratedTarget(
            f"{sentence(iri, origin)} ({method} of it is refused; write to a graph of your own)"
        )


def check_update(text: str, curated: Mapping[str, str], base: str | None = None) -> None:
    """Refuse an update with an operation whose target is a curated graph (see the module)."""
    targets = _targets(text, curated, base)
    if not targets:
        return
    first = targets[0]
    graphs = len({t.iri for t in targets})
    if first.operation.endswith((" ALL", " NAMED")):
        raise CuratedTarget(
            f"{first.operation} would change all {graphs} curated graphs; for instance "
            f"{sentence(first.iri, first.origin)} (clear or drop your own graphs by name, or "
            "DEFAULT)"
        )
    others = graphs - 1
    more = f"; and {others} more curated graph{'s' if others > 1 else ''}" if others else ""
    raise CuratedTarget(
        f"{sentence(first.iri, first.origin)} (the update's {first.operation}{more})"
    )


def curated_targets(
    text: str, curated: Mapping[str, str], base: str | None = None
) -> list[tuple[str, str]]:
    """The curated graphs an update writes, as (graph IRI, where it comes from), in order.

    Raises UpdateUnreadable when the parser cannot read the update, UnprovableTarget when an
    operation names its target with a variable."""
    seen: dict[str, str] = {}
    for target in _targets(text, curated, base):
        seen.setdefault(target.iri, target.origin)
    return list(seen.items())


# -- reading an update -------------------------------------------------------------------------


def _targets(text: str, curated: Mapping[str, str], base: str | None) -> list[Target]:
    tree = _parse(text)
    found: list[Target] = []
    prologue = _Prologue(base)
    try:
        for declarations, operation in zip(tree.prologue, tree.request or [], strict=False):
            prologue.declare(declarations)
            for name, graph in _written(operation):
                keyword = _keyword(graph)
                if keyword == DEFAULT:
                    continue
                if keyword in ("ALL", "NAMED"):
                    found += [Target(i, o, name) for i, o in sorted(curated.items())]
                    continue
                iri = _iri(graph, prologue, name)
                origin = origin_of(iri, curated)
                if origin is not None:
                    found.append(Target(iri, origin, name))
    except WriteRefused:
        raise
    except Exception as error:  # noqa: BLE001 - a malformed IRI...
        raise UpdateUnreadable(_unreadable(error)) from None
    return found


class _Prologue:
    """BASE and PREFIX as the engine applies them: a BASE or PREFIX IRI is resolved against the
    BASE before it, a prefixed name is its prefix's IRI and the local name (escapes removed)."""

    def __init__(self, base: str | None):
        self.base = base
        self.prefixes: dict[str, str] = {}

    def declare(self, declarations) -> None:
        for declaration in declarations:
            if declaration.name == "Base":
                self.base = self.resolve(str(declaration.iri))
            elif declaration.name == "PrefixDecl":
                self.prefixes[declaration.prefix or ""] = self.resolve(str(declaration.iri))

    def expand(self, term) -> str:
        if getattr(term, "name", None) == "pname":
            prefix = term.prefix or ""
            if prefix not in self.prefixes:
                raise UpdateUnreadable(
                    f"the update uses the prefix {prefix}: without declaring it (PREFIX)"
                )
            return self.prefixes[prefix] + re.sub(r"\\(.)", r"\1", term.localname or "")
        return self.resolve(str(term))

    def resolve(self, reference: str) -> str:
        """RFC 3986 resolution against the base, by the engine's own IRI code (its parser)."""
        if self.base is None or _NOT_IN_IRI.search(reference):
            return reference  # absolute, or an IRI the engine refuses anyway
        import pyoxigraph as ox

        line = f"<{reference}> <urn:x:p> <urn:x:o> .".encode()
        try:
            parsed = list(ox.parse(line, format=ox.RdfFormat.TURTLE, base_iri=self.base))
        except (SyntaxError, ValueError):
            return reference  # the engine refuses it too: nothing is written
        return parsed[0].subject.value if parsed else reference


_NOT_IN_IRI = re.compile(r'[<>"{}|^`\\\x00-\x20]')


def _written(operation) -> list[tuple[str, object]]:
    """(what the operation does to the graph, graph) for each graph an operation writes; the
    graph is an IRI term, a variable, or the keyword DEFAULT, NAMED or ALL."""
    kind = operation.name
    if kind in ("Clear", "Drop"):
        graph = operation.graphiri
        keyword = _keyword(graph)
        verb = "clears" if kind == "Clear" else "drops"
        label = f"{kind.upper()} {keyword}" if keyword else f"{kind.upper()} GRAPH {verb} it"
        return [(label, graph)]
    if kind == "Create":
        return [("CREATE GRAPH creates it", operation.graphiri)]
    if kind == "Load":
        graph = operation.graphiri
        return [("LOAD ... INTO GRAPH loads into it", graph)] if graph is not None else []
    if kind in ("Add", "Copy", "Move"):
        source, target = operation.graph
        verb = "adds to" if kind == "Add" else "replaces"
        written = [(f"{kind.upper()} ... TO {verb} it", target)]
        return written + ([("MOVE empties it, its source", source)] if kind == "Move" else [])
    if kind in ("InsertData", "DeleteData", "DeleteWhere"):
        name = {
            "InsertData": "INSERT DATA writes to it",
            "DeleteData": "DELETE DATA deletes from it",
        }.get(kind, "DELETE WHERE deletes from it")
        return _template(name, operation.quads, DEFAULT)
    if kind == "Modify":
        into = operation.withClause if operation.withClause is not None else DEFAULT
        written = []
        if operation.delete is not None:
            written += _template("DELETE template deletes from it", operation.delete.quads, into)
        if operation.insert is not None:
            written += _template("INSERT template writes to it", operation.insert.quads, into)
        return written
    raise UpdateUnreadable(f"the update has an operation the checker does not know: {kind}")


def _keyword(graph) -> str | None:
    """DEFAULT, NAMED or ALL when the parser read that keyword (an IRI `<ALL>` is no keyword)."""
    return graph if type(graph) is str else None


def _template(name: str, quads, default) -> list[tuple[str, object]]:
    if quads is None:
        return []
    # Triples outside a GRAPH block go to the default graph (or the WITH graph).
    with_graph = default != DEFAULT
    written = [(name + (", the WITH graph" if with_graph else ""), default)]
    written = written if quads.triples else []
    for block in quads.quadsNotTriples or []:
        written.append((name, block.term))
    return written


def _iri(term, prologue: _Prologue, operation: str) -> str:
    from rdflib.term import Variable

    if isinstance(term, Variable):
        raise UnprovableTarget(
            f"the update's {operation.split(' ')[0]} names its graph with the variable ?{term}, so "
            f"it cannot be proven not to change a curated graph ({RULE}); name the graph with an "
            "IRI"
        )
    return prologue.expand(term)


def _parse(text: str):
    """rdflib's parse tree of the update, on a thread with room for deep nesting."""
    from rdflib.plugins.sparql.parser import UpdateUnit

    prepared = _as_the_engine_reads(text)
    outcome: list = []

    def run() -> None:
        try:
            # rdflib's parseUpdate, without its own decoding of escapes (done above, as the
            # engine does it).
            outcome.append(UpdateUnit.parse_string(prepared, parse_all=True)[0])
        except RecursionError:
            outcome.append(UpdateUnreadable("the update is nested too deeply to be checked"))
        except Exception as error:  # noqa: BLE001 - any parse failure refuses the update
            outcome.append(UpdateUnreadable(_unreadable(error)))

    on_parser_stack(run)
    if isinstance(outcome[0], WriteRefused):
        raise outcome[0]
    return outcome[0]


def _unreadable(error: Exception) -> str:
    message = " ".join(str(error).split())[:300]
    return (
        "the update could not be parsed by the checker that decides which graphs it writes "
        f"(rdflib's SPARQL 1.1 Update parser), so it is not run: {message}"
    )


def _as_the_engine_reads(text: str) -> str:
    """The text with `\\u`/`\\U` escapes decoded once, as the engine decodes them (exactly 4 or 8
    digits, not after an escaped backslash), those of quotes, backslashes and line ends kept as
    string escapes; and carriage returns made line feeds (both end a comment for the engine,
    only a line feed for rdflib)."""

    def decode(match: re.Match) -> str:
        digits = match.group(1) or match.group(2)
        if digits is None:
            return match.group()  # an escaped backslash: `\\u0022` is not an escape
        code = int(digits, 16)
        if code > 0x10FFFF:
            return match.group()
        char = chr(code)
        return _KEPT_ESCAPED.get(char, char)

    return _ESCAPES.sub(decode, text).replace("\r", "\n")


async def refuse_update(store_path: Path, text: str) -> None:
    """`check_update` against the curated graphs of the store at `store_path`, on a thread (a
    long update takes the parser a while)."""
    import asyncio

    await asyncio.to_thread(check_update, text, curated_for(store_path))


def refuse_graph_write(store_path: Path, iri: str, method: str) -> None:
    """`check_graph_write` against the curated graphs of the store at `store_path`."""
    check_graph_write(iri, curated_for(store_path), method)
