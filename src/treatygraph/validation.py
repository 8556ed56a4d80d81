"""Check RDF sources against the SHACL shapes and report what is wrong, resource by resource.

`validate_sources` loads the sources (one named graph per file, see `treatygraph.sources`),
validates the union of their graphs against every `shapes/*.ttl` file, and ties each problem back
to the file(s) that describe the offending resource. `run` is what `treatygraph validate` calls:
it picks the sources, validates, renders and chooses the exit code.

How: each shape's constraints are compiled to SPARQL queries (one per constraint, all focus
nodes at once) and run in an in-memory pyoxigraph store. pyshacl, run alone, evaluates every
SPARQL constraint once per focus node and re-parses the query each time with rdflib; on the full
graph that takes minutes, against about a second here. A shape that uses a SHACL feature the
compiler does not handle is validated by pyshacl instead, and a test checks that the two engines
report the same results on the shape fixtures.

Why no inference: SHACL's `sh:targetClass` and `sh:class` already follow `rdfs:subClassOf`
triples in the data graph, and the ontology is always part of it, so a shape on tg:Provision
checks articles and `sh:class tg:Provision` accepts one. RDFS inference would also type every
link target from the ontology's `rdfs:range`, hiding links to resources nobody describes.

The JSON report (`render_json`) has these keys, kept stable for scripts:

    conforms                  true when there is no violation (warnings do not fail)
    counts.resources_checked  resources of an ontology class that were checked
    counts.resources_with_problems
    counts.violations, counts.warnings, counts.infos
    results[]                 one per problem, ordered by file, resource, severity:
        focus_node            the IRI (or blank node id) of the offending resource
        files                 the source files that describe it (paths as given or repo-relative)
        severity              "Violation", "Warning" or "Info"
        path                  the property concerned, as a compact IRI ("tg:symbol"), or null
        value                 the offending value as text (IRI or literal), or null
        message               what is wrong, in words
        shape                 the IRI of the shape that failed (its sh:sourceShape)
        constraint            the SHACL constraint component ("sh:PatternConstraintComponent")
"""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import pyoxigraph
import pyshacl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

from treatygraph.namespaces import PREFIXES, SH, TG
from treatygraph.sources import (
    PROVENANCE_GRAPH,
    REPO_ROOT,
    Source,
    SourceSyntaxError,
    graph_iri_for,
    load,
    parse_graph,
    repo_sources,
    user_sources,
)
from treatygraph.store import Store
from treatygraph.terms import rdflib_graph, to_rdflib

SHAPES_DIR = REPO_ROOT / "shapes"
ONTOLOGY_DIR = REPO_ROOT / "ontology"
SHAPES_NS = "https://w3id.org/treatygraph/shapes#"
SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}
EXIT_CONFORMS, EXIT_VIOLATIONS, EXIT_UNREADABLE = 0, 1, 2


@dataclass(frozen=True)
class ValidationResult:
    """One problem: which resource, which property and value, what is wrong, and where it lives."""

    focus_node: Node
    path: str | None
    value: Node | None
    shape: str
    severity: str
    message: str
    files: tuple[str, ...]
    constraint: str = ""


@dataclass
class ValidationReport:
    """The outcome of a validation: conforming or not, every problem, and counts."""

    results: list[ValidationResult]
    checked: list[tuple[Node, tuple[str, ...]]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def conforms(self) -> bool:
        return not any(r.severity == "Violation" for r in self.results)

    @property
    def counts(self) -> dict[str, int]:
        by_severity = Counter(r.severity for r in self.results)
        return {
            "resources_checked": len(self.checked),
            "resources_with_problems": len({r.focus_node for r in self.results}),
            "violations": by_severity["Violation"],
            "warnings": by_severity["Warning"],
            "infos": by_severity["Info"],
        }

    def by_resource(self) -> dict[Node, list[ValidationResult]]:
        """The problems grouped by offending resource, in report order."""
        groups: dict[Node, list[ValidationResult]] = defaultdict(list)
        for result in self.results:
            groups[result.focus_node].append(result)
        return dict(groups)


# --- validating -----------------------------------------------------------------------------


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


def validate_sources(sources: Iterable[Source], shapes: Graph | None = None) -> ValidationReport:
    """Load the sources and validate them (see `validate_store`).

    Raises SourceSyntaxError when a source cannot be read.
    """
    started = time.perf_counter()
    report = validate_store(load(sources), shapes)
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


def validate_store(store: Store, shapes: Graph | None = None) -> ValidationReport:
    """Validate the union of a loaded store's source graphs against the shapes (all of
    `shapes/` by default), and tie each problem to the files that describe its resource."""
    started = time.perf_counter()
    shapes = load_shapes() if shapes is None else shapes
    names = {"provenance": PROVENANCE_GRAPH, "tg": TG}
    subject_files: dict[Node, set[str]] = defaultdict(set)
    for row in store.query(_SUBJECT_FILES % names).rows():
        subject_files[_node(row["node"])].add(row["file"].value)
    checked = {_node(row["node"]) for row in store.query(_CHECKED % names).rows()}

    def files_of(node: Node) -> tuple[str, ...]:
        if node in subject_files:
            return tuple(sorted(subject_files[node]))
        query = _OBJECT_FILES % {**names, "node": _sparql_term(node)}
        return tuple(sorted(row["file"].value for row in store.query(query).rows()))

    union = pyoxigraph.Store()
    union.bulk_extend(
        pyoxigraph.Quad(q.subject, q.predicate, q.object)
        for q in store.quads()
        if q.graph_name.value != str(PROVENANCE_GRAPH)
    )
    results = {replace(r, files=files_of(r.focus_node)) for r in check_store(union, shapes)}
    return ValidationReport(
        results=sorted(results, key=_sort_key),
        checked=sorted(((n, files_of(n)) for n in checked), key=lambda i: (i[1], str(i[0]))),
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


# --- compiling shapes to SPARQL ---------------------------------------------------------------

TARGETS = {SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf}
DESCRIPTIVE = {
    SH.name, SH.description, SH.message, SH.severity, SH.deactivated, SH.order, SH.group,
    SH.defaultValue, SH.property, SH.path, RDF.type, RDFS.label, RDFS.comment, RDFS.seeAlso,
    RDFS.isDefinedBy,
}  # fmt: skip
VALUE_PARAMETERS = {
    SH.datatype, SH["class"], SH.nodeKind, SH.pattern, SH.flags, SH.minInclusive, SH.maxInclusive,
    SH.minExclusive, SH.maxExclusive, SH.minLength, SH.maxLength, SH["in"], SH["or"],
    SH.languageIn,
}  # fmt: skip
OTHER_PARAMETERS = {
    SH.minCount, SH.maxCount, SH.lessThan, SH.lessThanOrEquals, SH.disjoint, SH.hasValue,
    SH.uniqueLang, SH.sparql,
}  # fmt: skip
NODE_KINDS = {
    SH.IRI: "isIRI(?value)",
    SH.Literal: "isLiteral(?value)",
    SH.BlankNode: "isBlank(?value)",
    SH.BlankNodeOrIRI: "(isBlank(?value) || isIRI(?value))",
    SH.IRIOrLiteral: "(isIRI(?value) || isLiteral(?value))",
    SH.BlankNodeOrLiteral: "(isBlank(?value) || isLiteral(?value))",
}
# Datatypes whose lexical form SPARQL can check by casting (an ill-formed value does not conform).
CASTABLE = {XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.boolean, XSD.date, XSD.dateTime}
QUERY_PREFIXES = {"rdf": str(RDF), "rdfs": str(RDFS)}


class _Unsupported(Exception):
    """A shape uses a SHACL feature the SPARQL compiler does not handle."""


@dataclass(frozen=True)
class _Check:
    """One constraint of one shape, as a SPARQL query whose rows are its violations."""

    node_shape: URIRef | BNode
    shape: URIRef | BNode
    severity: str
    component: str
    path: str | None
    message: str | None
    query: str

    def run(self, store: pyoxigraph.Store) -> list[ValidationResult]:
        solutions = store.query(self.query, prefixes=QUERY_PREFIXES)
        names = [variable.value for variable in solutions.variables]
        shape = _compact(self.shape) if isinstance(self.shape, URIRef) else "(anonymous shape)"
        found = []
        for row in solutions:
            bindings = {name: to_rdflib(row[name]) for name in names if row[name] is not None}
            found.append(
                ValidationResult(
                    focus_node=bindings["this"],
                    path=self.path,
                    value=bindings.get("value"),
                    shape=shape,
                    severity=self.severity,
                    message=_fill(self.message, bindings) or self.component,
                    files=(),
                    constraint=self.component,
                )
            )
        return found


def _fill(template: str | None, bindings: dict[str, Node]) -> str | None:
    """Put bound values into a message's {?var} / {$var} placeholders."""
    if template is None:
        return None

    def value_of(match: re.Match) -> str:
        node = bindings.get(match.group(1))
        if node is None:
            return match.group(0)
        return str(node) if not isinstance(node, URIRef) else _compact(node)

    return re.sub(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}", value_of, template)


def _compile(shapes: Graph) -> tuple[list[_Check], list[URIRef]]:
    """Compile every shape with targets; return the checks and the shapes left to pyshacl."""
    checks: list[_Check] = []
    leftover: list[URIRef] = []
    shape_nodes = {s for t in TARGETS for s in shapes.subjects(t, None)}
    for shape in sorted(shape_nodes, key=str):
        if _is_true(shapes.value(shape, SH.deactivated)):
            continue
        try:
            checks += _compile_shape(shapes, shape, _focus_pattern(shapes, shape))
        except _Unsupported:
            leftover.append(shape)
    return checks, leftover


def _focus_pattern(shapes: Graph, shape: Node) -> str:
    """A SPARQL group binding ?this to each focus node of the shape, once."""
    parts = []
    for cls in shapes.objects(shape, SH.targetClass):
        parts.append(f"{{ ?this rdf:type/rdfs:subClassOf* {_sparql_term(cls)} . }}")
    for node in shapes.objects(shape, SH.targetNode):
        parts.append(f"{{ VALUES ?this {{ {_sparql_term(node)} }} }}")
    for prop in shapes.objects(shape, SH.targetSubjectsOf):
        parts.append(f"{{ ?this {_sparql_term(prop)} [] . }}")
    for prop in shapes.objects(shape, SH.targetObjectsOf):
        parts.append(f"{{ [] {_sparql_term(prop)} ?this . }}")
    return f"{{ SELECT DISTINCT ?this WHERE {{ {' UNION '.join(parts)} }} }}"


def _compile_shape(shapes: Graph, shape: Node, focus: str) -> list[_Check]:
    """The checks of a node shape (its own constraints and its property shapes')."""
    checks = _compile_constraints(shapes, shape, shape, focus, path=None)
    for prop in shapes.objects(shape, SH.property):
        if _is_true(shapes.value(prop, SH.deactivated)):
            continue
        path = shapes.value(prop, SH.path)
        if path is None:
            raise _Unsupported("property shape without sh:path")
        checks += _compile_constraints(shapes, shape, prop, focus, path=path)
    return checks


def _compile_constraints(
    shapes: Graph, node_shape: Node, shape: Node, focus: str, path: Node | None
) -> list[_Check]:
    used = set(shapes.predicates(shape, None)) - TARGETS
    unknown = used - DESCRIPTIVE - VALUE_PARAMETERS - OTHER_PARAMETERS
    if any(str(p).startswith(str(SH)) for p in unknown):
        raise _Unsupported(", ".join(sorted(map(str, unknown))))
    severity = SEVERITIES.get(shapes.value(shape, SH.severity), "Violation")
    message = _message(shapes, shape)
    path_text = _path_text(shapes, path) if path is not None else None
    sparql_path = _sparql_path(shapes, path) if path is not None else None
    values = f"?this {sparql_path} ?value ." if sparql_path else "BIND (?this AS ?value)"

    def check(component: str, query: str, msg: str | None = message) -> _Check:
        component = f"sh:{component}ConstraintComponent"
        return _Check(node_shape, shape, severity, component, path_text, msg, query)

    checks = []
    for parameter in sorted(used & VALUE_PARAMETERS - {SH.flags}, key=str):
        for argument in shapes.objects(shape, parameter):
            condition = _value_condition(shapes, shape, parameter, argument)
            name = _component_name(parameter)
            checks.append(
                check(
                    name,
                    f"SELECT DISTINCT ?this ?value WHERE {{ {focus} {values} "
                    f"FILTER (!({condition})) }}",
                )
            )
    if sparql_path:
        for minimum in shapes.objects(shape, SH.minCount):
            checks.append(check("MinCount", _count_query(focus, sparql_path, "<", minimum)))
        for maximum in shapes.objects(shape, SH.maxCount):
            checks.append(check("MaxCount", _count_query(focus, sparql_path, ">", maximum)))
        for other in shapes.objects(shape, SH.lessThan):
            checks.append(check("LessThan", _compare_query(focus, values, other, "<")))
        for other in shapes.objects(shape, SH.lessThanOrEquals):
            checks.append(check("LessThanOrEquals", _compare_query(focus, values, other, "<=")))
        for other in shapes.objects(shape, SH.disjoint):
            checks.append(
                check(
                    "Disjoint",
                    f"SELECT DISTINCT ?this ?value WHERE {{ {focus} {values} "
                    f"?this {_sparql_term(other)} ?value . }}",
                )
            )
        if _is_true(shapes.value(shape, SH.uniqueLang)):
            checks.append(
                check(
                    "UniqueLang",
                    f"SELECT DISTINCT ?this WHERE {{ {focus} "
                    f'?this {sparql_path} ?a, ?b . FILTER (?a != ?b && LANG(?a) != "" '
                    f"&& LANG(?a) = LANG(?b)) }}",
                )
            )
    elif used & {SH.minCount, SH.maxCount, SH.lessThan, SH.lessThanOrEquals, SH.disjoint}:
        raise _Unsupported("cardinality or comparison on a node shape")
    for required in shapes.objects(shape, SH.hasValue):
        checks.append(
            check(
                "HasValue",
                f"SELECT DISTINCT ?this WHERE {{ {focus} FILTER NOT EXISTS "
                f"{{ {values.replace('?value', _sparql_term(required))} }} }}",
            )
        )
    for constraint in shapes.objects(shape, SH.sparql):
        if _is_true(shapes.value(constraint, SH.deactivated)):
            continue
        own = _message(shapes, constraint) or message
        checks.append(
            check(
                "SPARQL",
                _sparql_constraint_query(shapes, shape, constraint, focus, sparql_path),
                own,
            )
        )
    return checks


def _component_name(parameter: URIRef) -> str:
    local = str(parameter)[len(str(SH)) :]
    return local[0].upper() + local[1:]


def _value_condition(shapes: Graph, shape: Node, parameter: URIRef, argument: Node) -> str:
    """A SPARQL expression that is true when ?value satisfies one value-type constraint."""
    if parameter == SH.datatype:
        ok = f"(isLiteral(?value) && DATATYPE(?value) = {_sparql_term(argument)})"
        if argument in CASTABLE:
            # An ill-formed literal ("2023-13-45"^^xsd:date) does not conform either.
            ok += f" && COALESCE(isLiteral({_sparql_term(argument)}(STR(?value))), false)"
        return ok
    if parameter == SH["class"]:
        return f"EXISTS {{ ?value rdf:type/rdfs:subClassOf* {_sparql_term(argument)} }}"
    if parameter == SH.nodeKind:
        return NODE_KINDS[argument]
    if parameter == SH.pattern:
        flags = shapes.value(shape, SH.flags)
        extra = f", {_sparql_term(Literal(str(flags)))}" if flags else ""
        regex = _sparql_term(Literal(str(argument)))
        return f"(!isBlank(?value) && REGEX(STR(?value), {regex}{extra}))"
    comparisons = {
        SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<",
    }  # fmt: skip
    if parameter in comparisons:
        return f"COALESCE(?value {comparisons[parameter]} {_sparql_term(argument)}, false)"
    if parameter == SH.minLength:
        return f"(!isBlank(?value) && STRLEN(STR(?value)) >= {int(argument)})"
    if parameter == SH.maxLength:
        return f"(!isBlank(?value) && STRLEN(STR(?value)) <= {int(argument)})"
    if parameter == SH["in"]:
        members = ", ".join(_sparql_term(m) for m in Collection(shapes, argument))
        return f"?value IN ({members})"
    if parameter == SH.languageIn:
        tags = [str(tag) for tag in Collection(shapes, argument)]
        return "(" + " || ".join(f'LANGMATCHES(LANG(?value), "{tag}")' for tag in tags) + ")"
    if parameter == SH["or"]:
        alternatives = []
        for member in Collection(shapes, argument):
            used = set(shapes.predicates(member, None)) - DESCRIPTIVE
            if not used or used - VALUE_PARAMETERS or shapes.value(member, SH.path) is not None:
                raise _Unsupported("sh:or member with more than value-type constraints")
            alternatives.append(
                " && ".join(
                    f"({_value_condition(shapes, member, p, a)})"
                    for p in sorted(used - {SH.flags}, key=str)
                    for a in shapes.objects(member, p)
                )
            )
        return " || ".join(f"({a})" for a in alternatives)
    raise _Unsupported(str(parameter))


def _count_query(focus: str, path: str, op: str, bound: Node) -> str:
    return (
        f"SELECT ?this WHERE {{ {focus} OPTIONAL {{ ?this {path} ?value . }} }} "
        f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) {op} {int(bound)})"
    )


def _compare_query(focus: str, values: str, other: Node, op: str) -> str:
    return (
        f"SELECT DISTINCT ?this ?value WHERE {{ {focus} {values} "
        f"?this {_sparql_term(other)} ?other . FILTER (!COALESCE(?value {op} ?other, false)) }}"
    )


def _sparql_constraint_query(
    shapes: Graph, shape: Node, constraint: Node, focus: str, path: str | None
) -> str:
    """A SHACL-SPARQL constraint evaluated for all focus nodes at once.

    The query is joined with the focus nodes instead of run once per node with $this pre-bound;
    the two agree when the query binds $this in a triple pattern and projects it, as ours do.
    They differ when a sub-select uses $this in its body (there the join leaves it unbound), so
    such a constraint is left to pyshacl, which pre-binds.
    """
    select = str(shapes.value(constraint, SH.select))
    if not re.search(r"SELECT\s+(DISTINCT\s+|REDUCED\s+)?(\*|[^{]*\$this\b)", select, re.I):
        raise _Unsupported("SPARQL constraint that does not project $this")
    if _this_in_subselect_body(select):
        raise _Unsupported("SPARQL constraint using $this inside a sub-select")
    prefixes = "".join(
        f"PREFIX {decl_prefix}: <{decl_ns}>\n"
        for decl_prefix, decl_ns in _declared_prefixes(shapes, constraint)
    )
    inner = select.replace("$this", "?this").replace("$currentShape", _sparql_term(shape))
    if "$PATH" in inner:
        if path is None:
            raise _Unsupported("$PATH in a node shape")
        inner = inner.replace("$PATH", path)
    return f"{prefixes}SELECT * WHERE {{ {focus} {{ {inner} }} }}"


def _this_in_subselect_body(select: str) -> bool:
    """True when a nested SELECT's WHERE block mentions $this."""
    outer_where = select.find("{")
    for match in re.finditer(r"\bSELECT\b", select[outer_where:], re.I):
        start = select.find("{", outer_where + match.end())
        depth = 0
        for index in range(start, len(select)):
            depth += {"{": 1, "}": -1}.get(select[index], 0)
            if depth == 0:
                if "$this" in select[start:index]:
                    return True
                break
    return False


def _declared_prefixes(shapes: Graph, constraint: Node) -> list[tuple[str, str]]:
    found = []
    for holder in shapes.objects(constraint, SH.prefixes):
        for declaration in shapes.objects(holder, SH.declare):
            found.append(
                (
                    str(shapes.value(declaration, SH.prefix)),
                    str(shapes.value(declaration, SH.namespace)),
                )
            )
    return sorted(set(found))


def _sparql_path(shapes: Graph, path: Node) -> str:
    if isinstance(path, URIRef):
        return _sparql_term(path)
    inverse = shapes.value(path, SH.inversePath)
    if inverse is not None:
        return f"^({_sparql_path(shapes, inverse)})"
    if shapes.value(path, RDF.first) is not None:
        return "/".join(f"({_sparql_path(shapes, step)})" for step in Collection(shapes, path))
    raise _Unsupported("property path")


def _sparql_term(node: Node) -> str:
    if isinstance(node, URIRef):
        return f"<{node}>"
    if isinstance(node, Literal):
        return node.n3()
    raise _Unsupported("blank node in a constraint")


def _message(shapes: Graph, node: Node) -> str | None:
    messages = sorted(shapes.objects(node, SH.message), key=lambda m: (m.language != "en", m))
    return str(messages[0]) if messages else None


def _is_true(node: Node | None) -> bool:
    return isinstance(node, Literal) and node.toPython() is True


# --- reading pyshacl's report and the provenance -------------------------------------------


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


def _sort_key(result: ValidationResult) -> tuple:
    return (
        result.files,
        str(result.focus_node),
        SEVERITY_ORDER.get(result.severity, 9),
        result.path or "",
        result.message,
        str(result.value),
    )


def _path_text(graph: Graph, path: Node) -> str:
    """A property path as compact text: `tg:symbol`, `^tg:inCluster`, `tg:a/tg:b`."""
    if isinstance(path, URIRef):
        return _compact(path)
    inverse = graph.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + _path_text(graph, inverse)
    if graph.value(path, RDF.first) is not None:
        return "/".join(_path_text(graph, step) for step in graph.items(path))
    return str(path)


def _compact(iri: Node | None) -> str:
    if iri is None:
        return ""
    text = str(iri)
    for prefix, namespace in {**PREFIXES, "sh": SH, "tgsh": SHAPES_NS}.items():
        if text.startswith(str(namespace)) and len(text) > len(str(namespace)):
            return f"{prefix}:{text[len(str(namespace)) :]}"
    return text


# --- rendering ------------------------------------------------------------------------------


def _value_text(value: Node | None) -> str:
    if value is None:
        return ""
    if isinstance(value, Literal):
        return json.dumps(str(value), ensure_ascii=False)
    return f"<{value}>"


def _summary(report: ValidationReport) -> str:
    counts = report.counts
    verdict = "conforms" if report.conforms else "does not conform"
    return (
        f"{counts['violations']} violation(s), {counts['warnings']} warning(s) in "
        f"{counts['resources_with_problems']} of {counts['resources_checked']} resources checked: "
        f"{verdict}."
    )


def render_text(report: ValidationReport) -> str:
    """For people: one block per offending resource, headed by its IRI and file."""
    lines: list[str] = []
    for focus, results in report.by_resource().items():
        files = ", ".join(results[0].files) or "(file unknown)"
        lines.append(f"{focus}  ({files})")
        for r in results:
            line = f"  {r.severity:<9} {r.path or '-'}: {r.message}"
            if r.value is not None:
                line += f" [value: {_value_text(r.value)}]"
            lines.append(line)
        lines.append("")
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def render_json(report: ValidationReport) -> str:
    """For scripts: the keys documented at the top of this module."""
    document = {
        "conforms": report.conforms,
        "counts": report.counts,
        "results": [
            {
                "focus_node": str(r.focus_node),
                "files": list(r.files),
                "severity": r.severity,
                "path": r.path,
                "value": None if r.value is None else str(r.value),
                "message": r.message,
                "shape": r.shape,
                "constraint": r.constraint,
            }
            for r in report.results
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_junit(report: ValidationReport) -> str:
    """For CI systems: one testcase per resource checked; violations are failures.

    Warnings do not fail a testcase; they are listed in its system-out.
    """
    groups = report.by_resource()
    cases = {node: files for node, files in report.checked}
    for node, results in groups.items():  # a problem on an untyped resource is still shown
        cases.setdefault(node, results[0].files)
    failures = sum(
        1 for node in cases if any(r.severity == "Violation" for r in groups.get(node, []))
    )
    suites = ET.Element(
        "testsuites", name="treatygraph validate", tests=str(len(cases)), failures=str(failures)
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="treatygraph shapes",
        tests=str(len(cases)),
        failures=str(failures),
        errors="0",
        skipped="0",
        time=f"{report.seconds:.3f}",
    )
    for node in sorted(cases, key=lambda n: (cases[n], str(n))):
        files = cases[node]
        case = ET.SubElement(
            suite, "testcase", classname=", ".join(files) or "(file unknown)", name=str(node)
        )
        results = groups.get(node, [])
        violations = [r for r in results if r.severity == "Violation"]
        others = [r for r in results if r.severity != "Violation"]
        if violations:
            failure = ET.SubElement(
                case, "failure", type="sh:Violation", message=violations[0].message
            )
            failure.text = "\n".join(_junit_line(r) for r in violations)
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(_junit_line(r) for r in others)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _junit_line(r: ValidationResult) -> str:
    value = f" [value: {_value_text(r.value)}]" if r.value is not None else ""
    return f"{r.severity} {r.path or '-'}: {r.message}{value} ({r.shape})"


RENDERERS: dict[str, Callable[[ValidationReport], str]] = {
    "text": render_text,
    "json": render_json,
    "junit": render_junit,
}


# --- the command ----------------------------------------------------------------------------


def sources_for(paths: Sequence[Path]) -> list[Source]:
    """The repository without paths; otherwise the user's files together with the ontology."""
    if not paths:
        return repo_sources()
    ontology = ontology_sources()
    known = {s.path.resolve() for s in ontology}
    return ontology + [s for s in user_sources(paths) if s.path.resolve() not in known]


def run(paths: Sequence[Path], fmt: str = "text") -> tuple[int, str]:
    """Validate and render: exit code 0 (conforms; warnings allowed), 1 (violations) or 2
    (a source could not be read; the output is then its `file:line:column: message`)."""
    try:
        render = RENDERERS[fmt]
    except KeyError:
        raise ValueError(
            f"unknown report format {fmt!r}; use one of {', '.join(RENDERERS)}"
        ) from None
    try:
        report = validate_sources(sources_for(list(paths)))
    except SourceSyntaxError as error:
        return EXIT_UNREADABLE, f"{error}\n"
    return (EXIT_CONFORMS if report.conforms else EXIT_VIOLATIONS), render(report)
