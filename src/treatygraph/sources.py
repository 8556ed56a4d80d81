"""Read the repository's RDF files (or a user's) into one dataset: one named graph per file.

Each named graph is described in the provenance graph with PROV-O: which file it was read from and
its checksum. A file that cannot be parsed raises SourceSyntaxError naming the file, line and
column, so a person can go straight to the problem. Parsing is Oxigraph's (fast, and its errors
carry positions); the dataset is a treatygraph Store.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from treatygraph.namespaces import GRAPH
from treatygraph.store import Store
from treatygraph.terms import rdflib_graph

RDF_SUFFIXES = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
}
QUAD_FORMATS = {ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS}
PROVENANCE_GRAPH = GRAPH["provenance"]
REPO_ROOT = Path(__file__).resolve().parents[2]
# The curated data may be read from another directory than the repository's data/ (a copy, for
# tests or staging); its files keep the names, and graphs, they have under data/.
DATA_DIR_ENV = "TREATYGRAPH_DATA_DIR"

_PROV = "http://www.w3.org/ns/prov#"
_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
_IDENTIFIER = ox.NamedNode("http://purl.org/dc/terms/identifier")


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
    graph_iri: str

    @property
    def format(self) -> ox.RdfFormat:
        return RDF_SUFFIXES[self.path.suffix.lower()]


def data_dir() -> Path:
    """Where the curated data is read from: $TREATYGRAPH_DATA_DIR when set, else data/."""
    configured = os.environ.get(DATA_DIR_ENV)
    return Path(configured) if configured else REPO_ROOT / "data"


def repo_sources(root: Path = REPO_ROOT, data: Path | None = None) -> list[Source]:
    """The ontology and every data file of the repository, in a stable order.

    `data` is the data directory (default: `data_dir()` for the repository, `root/data` for
    another root); each of its files is loaded into the graph of its path under data/."""
    if data is None:
        data = data_dir() if root == REPO_ROOT else root / "data"
    ontology = sorted((root / "ontology").glob("*.ttl"))
    files = sorted(p for p in data.rglob("*") if p.suffix.lower() in RDF_SUFFIXES)
    return [Source(p, graph_iri_for(p, root)) for p in ontology] + [
        Source(p, str(GRAPH["data/" + p.relative_to(data).as_posix()])) for p in files
    ]


def user_sources(paths: Iterable[Path]) -> list[Source]:
    """Files (or folders, searched recursively) that a user names on the command line."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.suffix.lower() in RDF_SUFFIXES)
        else:
            found.append(path)
    return [Source(p, graph_iri_for(p)) for p in found]


def graph_iri_for(path: Path, root: Path = REPO_ROOT) -> str:
    """`data/basel/meetings.ttl` is loaded into `.../graph/data/basel/meetings.ttl`."""
    resolved = path.resolve()
    try:
        relative = resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        relative = "file" + resolved.as_posix()
    return str(GRAPH[relative])


def display_path(path: Path) -> str:
    """The path relative to the repository when it is inside it (a file of a data directory
    elsewhere: its path under data/)."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        pass
    try:
        return "data/" + resolved.relative_to(data_dir().resolve()).as_posix()
    except ValueError:
        return str(path)


def read_quads(source: Source) -> list[ox.Quad]:
    """Parse one file. Triples go to the file's graph; TriG and N-Quads keep their own graphs."""
    if not source.path.is_file():
        raise SourceSyntaxError(source.path, None, None, "no such file")
    if source.path.suffix.lower() not in RDF_SUFFIXES:
        known = ", ".join(sorted(RDF_SUFFIXES))
        raise SourceSyntaxError(source.path, None, None, f"unknown RDF file type (use {known})")
    graph = ox.NamedNode(source.graph_iri)
    try:
        parsed = list(
            ox.parse(source.path.read_bytes(), format=source.format, base_iri=source.graph_iri)
        )
    except SyntaxError as error:
        message = str(error.msg).split(": ", 1)[-1] if ": " in str(error.msg) else str(error.msg)
        raise SourceSyntaxError(source.path, error.lineno, error.offset, message) from None
    if source.format in QUAD_FORMATS:
        return [
            q if not isinstance(q.graph_name, ox.DefaultGraph) else ox.Quad(*q.triple, graph)
            for q in parsed
        ]
    return [ox.Quad(t.subject, t.predicate, t.object, graph) for t in parsed]


def parse_graph(source: Source) -> Graph:
    """One file as an rdflib Graph (for small files read with rdflib's API, such as shapes)."""
    return rdflib_graph(read_quads(source))


def load_into(store: Store, sources: Iterable[Source]) -> None:
    """Add every source to `store` in its own named graph, described in the provenance graph."""
    provenance = ox.NamedNode(str(PROVENANCE_GRAPH))
    for source in sources:
        store.add_quads(read_quads(source))
        graph = ox.NamedNode(source.graph_iri)
        digest = hashlib.sha256(source.path.read_bytes()).hexdigest()
        store.add_quads(
            [
                ox.Quad(graph, _RDF_TYPE, ox.NamedNode(_PROV + "Entity"), provenance),
                ox.Quad(graph, _RDFS_LABEL, ox.Literal(source.path.name), provenance),
                ox.Quad(
                    graph,
                    ox.NamedNode(_PROV + "wasDerivedFrom"),
                    ox.Literal(display_path(source.path)),
                    provenance,
                ),
                ox.Quad(graph, _IDENTIFIER, ox.Literal(f"sha256:{digest}"), provenance),
            ]
        )


def load(sources: Iterable[Source]) -> Store:
    """A new in-memory store holding the sources (see `load_into`)."""
    store = Store()
    load_into(store, sources)
    return store
