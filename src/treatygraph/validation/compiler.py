"""Compiling SHACL shapes to SPARQL: one query per constraint, all focus nodes at once.

pyshacl, run alone, evaluates every SPARQL constraint once per focus node and re-parses the query
each time with rdflib; on the full graph that takes minutes, against about a second here. A shape
that uses a SHACL feature this compiler does not handle raises `_Unsupported` and is left to
pyshacl (see `engine.check_store`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyoxigraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, XSD
from rdflib.term import Node

from treatygraph.namespaces import SH
from treatygraph.terms import to_rdflib
from treatygraph.validation.model import SEVERITIES, ValidationResult, _compact, _path_text

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
