"""Reading the files to validate, so that no file can crash, hang or reach out of the validator.

Every problem with a file raises `InputError` (a `SourceSyntaxError`) naming the file, and the line
and column where they are known; `treatygraph validate` turns it into exit code 2. What is refused,
before or while parsing:

- a path that does not exist, is not a regular file (a FIFO or a device never gets read), cannot
  be read, or has a suffix that is not an RDF syntax; a folder with no RDF file in it;
- a file over `InputLimits.max_file_bytes`, files together over `max_total_bytes`, or more than
  `max_triples` triples in all (counted while parsing: a few bytes of Turtle such as `((((` or
  `[ ] , [ ]` stand for many triples, so the size bound alone does not bound the work);
- a literal or IRI over `max_token_bytes` (16 MiB: the Oxigraph parsers' own buffer bound, which
  they report as a MemoryError; RDF/XML, whose parser has no such bound, is checked after parsing);
- JSON-LD nested deeper than `max_nesting` arrays and objects: the JSON-LD parser's memory grows
  very fast with depth (a 400 KB file nested 20,000 deep takes gigabytes, then aborts), so the
  brackets outside JSON strings are counted first;
- RDF/XML with a document type declaration (`<!DOCTYPE`, hence `<!ENTITY`): entities expand (a
  few hundred bytes can stand for gigabytes), and nothing needs them; and RDF/XML nested deeper
  than `max_nesting` elements (the parser's time grows with the square of the depth). Both are
  checked with expat, which streams, never fetches and never expands entities we refused;
- a file or folder named on the command line that holds no triple (an empty file, only comments,
  a folder of empty files): there is nothing to validate (see `command`; an empty file among
  others in a folder is allowed).

Turtle and TriG need no nesting bound of their own: Oxigraph parses `[ ]` and `( )` without
recursion (200,000 levels parse in linear time and memory), and the triples they make count
towards `max_triples`.

Nothing is fetched: parsing is Oxigraph's, whose JSON-LD parser has no document loader, so a remote
`@context` is an error rather than a request (rdflib's parser, which would fetch it, is not used).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox

from treatygraph.namespaces import GRAPH
from treatygraph.sources import (
    PROVENANCE_GRAPH,
    QUAD_FORMATS,
    RDF_SUFFIXES,
    REPO_ROOT,
    Source,
    display_path,
)
from treatygraph.store import Store
from treatygraph.validation.guards import (
    DEFAULT_LIMITS,
    InputError,
    InputLimits,
    check_json_nesting,
    check_xml,
    size_text,
)

_PROV = "http://www.w3.org/ns/prov#"
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
_IDENTIFIER = ox.NamedNode("http://purl.org/dc/terms/identifier")
_JSON_FORMATS = {ox.RdfFormat.JSON_LD}
_XML_FORMATS = {ox.RdfFormat.RDF_XML}


@dataclass
class Loaded:
    """What one source added to the store: how many triples (or quads), and, when asked for,
    the resources it describes (subjects) and those it refers to (IRI and blank node objects)."""

    source: Source
    triples: int
    subjects: set = field(default_factory=set)
    objects: set = field(default_factory=set)


# -- which files ---------------------------------------------------------------------------------


def expand(paths: Sequence[Path]) -> list[tuple[Path, list[Path]]]:
    """Each path as given, with the files it stands for (a folder: its RDF files, recursively,
    not following symbolic links to folders). A folder without any is refused."""
    named = []
    for path in paths:
        try:
            if path.is_dir():
                files = sorted(
                    p for p in path.rglob("*") if p.suffix.lower() in RDF_SUFFIXES and p.is_file()
                )
                if not files:
                    known = ", ".join(sorted(RDF_SUFFIXES))
                    raise InputError(
                        path, None, None, f"no RDF file ({known}) in this folder: nothing to "
                        "validate", kind="empty",
                    )  # fmt: skip
            else:
                files = [path]
        except OSError as error:
            raise InputError(path, None, None, f"cannot read: {error.strerror}") from None
        named.append((path, files))
    return named


def real_path(path: Path) -> Path:
    """The path with symbolic links resolved, to tell the same file named twice (a loop of
    links, which `Path.resolve` refuses, gives the absolute path as it stands)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def graph_iri(path: Path) -> str:
    """The named graph for a file, as `sources.graph_iri_for` names it, with the characters that
    an IRI cannot hold (a space in a file name) percent-encoded."""
    resolved = real_path(path)
    try:
        relative = resolved.relative_to(REPO_ROOT.resolve()).as_posix()
    except ValueError:
        relative = "file" + resolved.as_posix()
    return valid_iri(str(GRAPH) + relative)


def valid_iri(iri: str) -> str:
    try:
        ox.NamedNode(iri)
        return iri
    except ValueError:
        base = str(GRAPH)
        rest = iri[len(base) :] if iri.startswith(base) else iri
        return base + quote(rest, safe="/")


# -- reading one file ----------------------------------------------------------------------------


def read_bytes(path: Path, limits: InputLimits = DEFAULT_LIMITS) -> bytes:
    """The file's bytes, refused when it is not a readable regular file within the size bound."""
    if path.suffix.lower() not in RDF_SUFFIXES:
        known = ", ".join(sorted(RDF_SUFFIXES))
        raise InputError(path, None, None, f"unknown RDF file type (use {known})")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(path, None, None, "no such file") from None
    except OSError as error:
        raise InputError(path, None, None, f"cannot read: {error.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(path, None, None, "not a regular file")
    too_large = (
        f"larger than the limit of {size_text(limits.max_file_bytes)} for one file to validate"
    )
    if info.st_size > limits.max_file_bytes:
        raise InputError(path, None, None, f"{info.st_size} bytes: {too_large}", kind="too-large")
    try:
        with open(path, "rb") as handle:
            data = handle.read(limits.max_file_bytes + 1)
    except OSError as error:
        raise InputError(path, None, None, f"cannot read: {error.strerror}") from None
    if len(data) > limits.max_file_bytes:  # it grew since
        raise InputError(path, None, None, too_large, kind="too-large")
    return data


def is_blank(data: bytes) -> bool:
    """An empty file, or only white space: no triples (and no JSON document to parse)."""
    return not data or data.isspace()


def read_source(
    source: Source,
    limits: InputLimits = DEFAULT_LIMITS,
    data: bytes | None = None,
    max_triples: int | None = None,
) -> list[ox.Quad]:
    """Parse one file, after the checks above, stopping past `max_triples` (by default the
    limits'). Triples go to the file's graph; TriG and N-Quads keep their own graphs."""
    path = source.path
    data = read_bytes(path, limits) if data is None else data
    if is_blank(data):
        return []
    fmt = source.format
    if fmt in _JSON_FORMATS:
        check_json_nesting(path, data, limits.max_nesting)
    if fmt in _XML_FORMATS:
        check_xml(path, data, limits.max_nesting)
    iri = valid_iri(source.graph_iri)
    bound = limits.max_triples if max_triples is None else max_triples
    try:
        parsed = list(islice(ox.parse(data, format=fmt, base_iri=iri), bound + 1))
    except SyntaxError as error:
        text = str(error.msg)
        message = text.split(": ", 1)[-1] if ": " in text else text
        if "LoadDocumentCallback" in message:  # Oxigraph has no loader: nothing was fetched
            message = (
                "a remote JSON-LD @context (or @import) is never fetched: put the context in "
                "the file"
            )
        raise InputError(path, error.lineno, error.offset, message, kind="syntax") from None
    except MemoryError as error:
        if "buffer maximal size" in str(error):
            raise _token_too_large(path, limits) from None
        raise InputError(path, None, None, "too large to parse in memory", "too-large") from None
    except ValueError as error:
        raise InputError(path, None, None, str(error), kind="syntax") from None
    if len(parsed) > bound:
        raise InputError(
            path, None, None,
            f"more than {limits.max_triples} triples in the files to validate (the limit)",
            kind="too-large",
        )  # fmt: skip
    if fmt in _XML_FORMATS:
        for triple in parsed:
            term = triple.object
            if isinstance(term, ox.Literal) and len(term.value) > limits.max_token_bytes:
                raise _token_too_large(path, limits)
    graph = ox.NamedNode(iri)
    if fmt in QUAD_FORMATS:
        return [
            q if not isinstance(q.graph_name, ox.DefaultGraph) else ox.Quad(*q.triple, graph)
            for q in parsed
        ]
    return [ox.Quad(t.subject, t.predicate, t.object, graph) for t in parsed]


def _token_too_large(path: Path, limits: InputLimits) -> InputError:
    return InputError(
        path,
        None,
        None,
        f"a literal or IRI is larger than the limit of {size_text(limits.max_token_bytes)}",
        kind="too-large",
    )


# -- loading -------------------------------------------------------------------------------------


def load_into(
    store: Store,
    sources: Iterable[Source],
    limits: InputLimits = DEFAULT_LIMITS,
    *,
    track: bool = False,
) -> list[Loaded]:
    """Add every source to `store`, each in its own named graph (TriG and N-Quads keep theirs),
    described in the provenance graph (the file it was read from, its checksum); with `track`,
    note the resources each one describes and refers to."""
    provenance = ox.NamedNode(str(PROVENANCE_GRAPH))
    loaded, total, triples = [], 0, 0
    for source in sources:
        data = read_bytes(source.path, limits)
        total += len(data)
        if total > limits.max_total_bytes:
            raise InputError(
                source.path, None, None,
                f"the files to validate together pass the limit of "
                f"{size_text(limits.max_total_bytes)}",
                kind="too-large",
            )  # fmt: skip
        quads = read_source(source, limits, data, limits.max_triples - triples)
        triples += len(quads)
        store.add_quads(quads)
        facts = Loaded(source, len(quads))
        if track:
            for quad in quads:
                facts.subjects.add(quad.subject)
                if isinstance(quad.object, ox.NamedNode | ox.BlankNode):
                    facts.objects.add(quad.object)
        loaded.append(facts)
        graphs = {valid_iri(source.graph_iri)} | {
            q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)
        }
        digest = hashlib.sha256(data).hexdigest()
        origin = ox.Literal(display_path(source.path))
        for name in sorted(graphs):
            graph = ox.NamedNode(name)
            store.add_quads(
                [
                    ox.Quad(graph, _RDF_TYPE, ox.NamedNode(_PROV + "Entity"), provenance),
                    ox.Quad(graph, _RDFS_LABEL, ox.Literal(source.path.name), provenance),
                    ox.Quad(graph, ox.NamedNode(_PROV + "wasDerivedFrom"), origin, provenance),
                    ox.Quad(graph, _IDENTIFIER, ox.Literal(f"sha256:{digest}"), provenance),
                ]
            )
    return loaded


def load(sources: Iterable[Source], limits: InputLimits = DEFAULT_LIMITS) -> Store:
    """A new in-memory store holding the sources (see `load_into`)."""
    store = Store()
    load_into(store, sources, limits)
    return store
