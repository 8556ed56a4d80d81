"""Read the repository's RDF files (or a user's) into one dataset: one named graph per file.

Each named graph is described in the provenance graph with PROV-O: which file it was read from,
how many triples it holds, and its checksum. A file that cannot be parsed raises SourceSyntaxError
naming the file, line and column, so a person can go straight to the problem.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from treatygraph.namespaces import GRAPH

RDF_SUFFIXES = {
    ".ttl": "turtle",
    ".trig": "trig",
    ".nt": "nt",
    ".nq": "nquads",
    ".jsonld": "json-ld",
    ".json": "json-ld",
    ".rdf": "xml",
    ".owl": "xml",
}
PROVENANCE_GRAPH = GRAPH["provenance"]
REPO_ROOT = Path(__file__).resolve().parents[2]


class SourceSyntaxError(ValueError):
    """A source file could not be parsed; carries where the problem is."""

    def __init__(self, path: Path, line: int | None, column: int | None, message: str):
        self.path, self.line, self.column, self.message = path, line, column, message
        where = str(path)
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Source:
    """One RDF file and the named graph it is loaded into."""

    path: Path
    graph_iri: URIRef

    @property
    def format(self) -> str:
        return RDF_SUFFIXES[self.path.suffix.lower()]


def repo_sources(root: Path = REPO_ROOT) -> list[Source]:
    """The ontology and every data file of the repository, in a stable order."""
    files = sorted((root / "ontology").glob("*.ttl")) + sorted(
        p for p in (root / "data").rglob("*") if p.suffix.lower() in RDF_SUFFIXES
    )
    return [Source(p, graph_iri_for(p, root)) for p in files]


def user_sources(paths: Iterable[Path]) -> list[Source]:
    """Files (or folders, searched recursively) that a user names on the command line."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in RDF_SUFFIXES)
        else:
            found.append(path)
    return [Source(p, graph_iri_for(p)) for p in found]


def graph_iri_for(path: Path, root: Path = REPO_ROOT) -> URIRef:
    """`data/basel/meetings.ttl` is loaded into `.../graph/data/basel/meetings.ttl`."""
    resolved = path.resolve()
    try:
        relative = resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        relative = "file" + resolved.as_posix()
    return GRAPH[relative]


def parse_file(source: Source) -> Graph | Dataset:
    """Parse one file; quad formats give a Dataset, the others a Graph."""
    if not source.path.is_file():
        raise SourceSyntaxError(source.path, None, None, "no such file")
    if source.path.suffix.lower() not in RDF_SUFFIXES:
        known = ", ".join(sorted(RDF_SUFFIXES))
        raise SourceSyntaxError(source.path, None, None, f"unknown RDF file type (use {known})")
    data = source.path.read_bytes()
    target: Graph | Dataset = Dataset() if source.format in ("trig", "nquads") else Graph()
    try:
        target.parse(data=data, format=source.format, publicID=str(source.graph_iri))
    except json.JSONDecodeError as error:
        raise SourceSyntaxError(source.path, error.lineno, error.colno, error.msg) from None
    except Exception as error:  # rdflib raises many types; all mean "not readable"
        line, column = _position_of(error, data)
        raise SourceSyntaxError(source.path, line, column, _short_message(error)) from None
    return target


def load(sources: Iterable[Source]) -> Dataset:
    """Load every source into its own named graph, and describe each in the provenance graph."""
    dataset = Dataset()
    provenance = dataset.graph(PROVENANCE_GRAPH)
    for source in sources:
        parsed = parse_file(source)
        count = _copy_into(dataset, source.graph_iri, parsed)
        _describe(provenance, source, count)
    return dataset


def _copy_into(dataset: Dataset, graph_iri: URIRef, parsed: Graph | Dataset) -> int:
    """Triples go to the file's graph; a TriG or N-Quads file keeps its own named graphs."""
    count = 0
    if isinstance(parsed, Dataset):
        for s, p, o, g in parsed.quads((None, None, None, None)):
            name = graph_iri if g is None or g == parsed.default_graph.identifier else g
            dataset.graph(name).add((s, p, o))
            count += 1
    else:
        target = dataset.graph(graph_iri)
        for triple in parsed:
            target.add(triple)
            count += 1
    return count


def _describe(provenance: Graph, source: Source, count: int) -> None:
    graph_iri = source.graph_iri
    digest = hashlib.sha256(source.path.read_bytes()).hexdigest()
    provenance.add((graph_iri, RDF.type, PROV.Entity))
    provenance.add((graph_iri, RDFS.label, Literal(source.path.name)))
    provenance.add((graph_iri, PROV.wasDerivedFrom, Literal(display_path(source.path))))
    provenance.add((graph_iri, DCTERMS.extent, Literal(count, datatype=XSD.integer)))
    provenance.add((graph_iri, DCTERMS.identifier, Literal(f"sha256:{digest}")))


def display_path(path: Path) -> str:
    """The path relative to the repository when it is inside it."""
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def _position_of(error: Exception, data: bytes) -> tuple[int | None, int | None]:
    """Find the line and column rdflib's various parser errors carry, where they carry one."""
    offset = getattr(error, "_i", None)
    if isinstance(offset, int):  # the Turtle/N3 parser: a character offset into the text
        text = data.decode("utf-8", "replace")[:offset]
        return text.count("\n") + 1, offset - (text.rfind("\n") + 1) + 1
    match = re.search(r"line (\d+)(?:[, ]+col(?:umn)? (\d+))?", str(error))
    if match:
        return int(match.group(1)), int(match.group(2)) if match.group(2) else None
    return None, None


def _short_message(error: Exception) -> str:
    why = getattr(error, "_why", None)  # the Turtle/N3 parser keeps the reason apart
    if why:
        return f"bad syntax: {why}"
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
