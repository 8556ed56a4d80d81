"""Running the shapes: load the sources, check the union of their graphs, and tie each problem to
the file(s) that describe the offending resource.

Compiled shapes (see `compiler`) run in an in-memory pyoxigraph store; a shape the compiler does
not handle is validated by pyshacl instead, and a test checks that the two engines report the same
results on the shape fixtures. The project's own queries here are not bounded in rows: the bound
of `treatygraph.store.Limits` is for the queries clients send, and a large valid file must validate.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import pyoxigraph
import pyshacl
from rdflib import BNode, Graph, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from treatygraph.namespaces import SH, TG
from treatygraph.sources import PROVENANCE_GRAPH, REPO_ROOT, Source, graph_iri_for, parse_graph
from treatygraph.store import Store
from treatygraph.terms import rdflib_graph
from treatygraph.validation.compiler import _compile, _sparql_term
from treatygraph.validation.guards import DEFAULT_LIMITS, InputLimits
from treatygraph.validation.inputs import load
from treatygraph.validation.model import (
    SEVERITIES,
    ValidationReport,
    ValidationResult,
    _compact,
    _path_text,
    _sort_key,
)

SHAPES_DIR = REPO_ROOT / "shapes"
ONTOLOGY_DIR = REPO_ROOT / "ontology"


def shape_sources(shapes_dir: Path = SHAPES_DIR) -> list[Source]:
    """Every shapes file, in a stable order."""
    return [Source(p, graph_iri_for(p)) for p in sorted(shapes_dir.glob("*.ttl"))]


def ontology_sources(ontology_dir: Path = ONTOLOGY_DIR) -> list[Source]:
    """The ontology files, which every validation includes (for the class hierarchy)."""
    return [Source(p, graph_iri_for(p)) for p in sorted(ontology_dir.glob("*.ttl"))]


def load_shapes(shapes_dir: Path = SHAPES_DIR) -> Graph:
    """All shapes in one graph; parsed once per set of file versions."""
    sources = shape_sources(shapes_dir)
    stamp = tuple((s.path, s.path.stat().st_mtime_ns) for s in sources)
    return _load_shapes_cached(stamp)


@lru_cache(maxsize=4)
def _load_shapes_cached(stamp: tuple[tuple[Path, int], ...]) -> Graph:
    shapes = Graph()
    for path, _ in stamp:
        shapes += parse_graph(Source(path, graph_iri_for(path)))
    return shapes


def validate_sources(
    sources: Iterable[Source],
    shapes: Graph | None = None,
    *,
    limits: InputLimits = DEFAULT_LIMITS,
) -> ValidationReport:
    """Load the sources and validate them (see `validate_store`).

    Raises SourceSyntaxError (an `inputs.InputError`) when a source cannot be read or is refused.
    """
    started = time.perf_counter()
    report = validate_store(load(sources, limits), shapes)
    report.seconds = time.perf_counter() - started
    return report


# Each resource's files: the graphs (files) where it is the subject of a triple.
_SUBJECT_FILES = """
SELECT DISTINCT ?node ?file WHERE {
  GRAPH <%(provenance)s> { ?g <http://www.w3.org/ns/prov#wasDerivedFrom> ?file }
  GRAPH ?g { ?node ?p ?o }
}"""
# The resources checked: those typed with a class of our ontology.
_CHECKED = """
SELECT DISTINCT ?node WHERE {
  GRAPH <%(provenance)s> { ?g <http://www.w3.org/ns/prov#wasDerivedFrom> ?file }
  GRAPH ?g { ?node a ?class }
  FILTER(STRSTARTS(STR(?class), "%(tg)s"))
}"""
# Files for a resource that is never a subject (only referred to).
_OBJECT_FILES = """
SELECT DISTINCT ?file WHERE {
  GRAPH <%(provenance)s> { ?g <http://www.w3.org/ns/prov#wasDerivedFrom> ?file }
  GRAPH ?g { ?s ?p %(node)s }
}"""


def validate_store(
    store: Store,
    shapes: Graph | None = None,
    *,
    only: Callable[[Node], bool] | None = None,
) -> ValidationReport:
    """Validate the union of a loaded store's source graphs against the shapes (all of
    `shapes/` by default), and tie each problem to the files that describe its resource.

    With `only`, the report keeps the results, and counts the resources checked, whose focus node
    `only` accepts (the others are context)."""
    started = time.perf_counter()
    shapes = load_shapes() if shapes is None else shapes
    keep = only or (lambda node: True)
    names = {"provenance": PROVENANCE_GRAPH, "tg": TG}
    subject_files: dict[Node, set[str]] = defaultdict(set)
    for row in store.solutions(_SUBJECT_FILES % names):
        subject_files[_node(row["node"])].add(row["file"].value)
    checked = {_node(row["node"]) for row in store.solutions(_CHECKED % names)}

    def files_of(node: Node) -> tuple[str, ...]:
        if node in subject_files:
            return tuple(sorted(subject_files[node]))
        if not isinstance(node, URIRef):
            return ()
        query = _OBJECT_FILES % {**names, "node": _sparql_term(node)}
        return tuple(sorted(row["file"].value for row in store.solutions(query)))

    union = pyoxigraph.Store()
    union.bulk_extend(
        pyoxigraph.Quad(q.subject, q.predicate, q.object)
        for q in store.quads()
        if q.graph_name.value != str(PROVENANCE_GRAPH)
    )
    found = [r for r in check_store(union, shapes) if keep(r.focus_node)]
    results = {replace(r, files=files_of(r.focus_node)) for r in found}
    return ValidationReport(
        results=sorted(results, key=_sort_key),
        checked=sorted(
            ((n, files_of(n)) for n in checked if keep(n)), key=lambda i: (i[1], str(i[0]))
        ),
        seconds=time.perf_counter() - started,
    )


def _node(term) -> Node:
    """A result term (treatygraph.store.Term) as an rdflib node."""
    if term.type == "uri":
        return URIRef(term.value)
    return BNode(term.value)


def check_store(union: pyoxigraph.Store, shapes: Graph) -> list[ValidationResult]:
    """Every SHACL result for the data in `union`'s default graph (which includes the ontology)
    against `shapes`, without files: compiled shapes run in pyoxigraph, the others in pyshacl."""
    compiled, leftover = _compile(shapes)
    results: list[ValidationResult] = []
    by_shape: dict[Node, list[ValidationResult]] = defaultdict(list)
    for check in compiled:
        if check.node_shape in leftover:
            continue
        try:
            by_shape[check.node_shape] += check.run(union)
        except SyntaxError:  # a query oxigraph cannot read: let pyshacl judge the shape
            leftover.append(check.node_shape)
    results = [r for shape, found in by_shape.items() if shape not in leftover for r in found]
    if leftover:
        results += check_with_pyshacl(rdflib_graph(union), shapes, use_shapes=leftover)
    return results


def check_with_pyshacl(
    data: Graph, shapes: Graph, use_shapes: list[URIRef] | None = None
) -> list[ValidationResult]:
    """The same results computed by pyshacl (for the shapes the compiler leaves out, and tests)."""
    _, results_graph, _ = pyshacl.validate(
        data,
        shacl_graph=shapes,
        inference="none",
        allow_warnings=True,
        allow_infos=True,
        use_shapes=use_shapes,
    )
    return _read_results(results_graph, lambda node: ())


def _read_results(
    results_graph: Graph, files_of: Callable[[Node], tuple[str, ...]]
) -> list[ValidationResult]:
    found: set[ValidationResult] = set()
    for node in results_graph.subjects(RDF.type, SH.ValidationResult):
        focus = results_graph.value(node, SH.focusNode)
        path = results_graph.value(node, SH.resultPath)
        messages = sorted(
            results_graph.objects(node, SH.resultMessage), key=lambda m: (m.language != "en", m)
        )
        shape = results_graph.value(node, SH.sourceShape)
        found.add(
            ValidationResult(
                focus_node=focus,
                path=_path_text(results_graph, path) if path is not None else None,
                value=results_graph.value(node, SH.value),
                shape=_compact(shape) if isinstance(shape, URIRef) else "(anonymous shape)",
                severity=SEVERITIES.get(results_graph.value(node, SH.resultSeverity), "Violation"),
                message=str(messages[0]) if messages else "(no message)",
                files=files_of(focus),
                constraint=_compact(results_graph.value(node, SH.sourceConstraintComponent)),
            )
        )
    return sorted(found, key=_sort_key)
