"""What a validation finds: one result per problem, and the report that gathers them; the small
helpers that write IRIs and property paths compactly (`tg:symbol`, `^tg:inCluster`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from treatygraph.namespaces import PREFIXES, SH

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
    # What was validated with what, in words, when it is not simply "these files": for instance
    # "the given files, with the shipped graph as context" (said in the text report's summary).
    scope: str = ""

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
