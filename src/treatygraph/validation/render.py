"""Writing a validation report: text for people, JSON for scripts, JUnit XML for CI systems; and
the same three for a file that could not be validated at all (exit code 2).

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

When a file cannot be validated (`render_error_json`), the JSON object is instead:

    conforms                  null (nothing was validated)
    error                     why: "syntax", "unreadable", "too-large", "too-deep", "refused",
                              "empty"
    file                      the file (or folder) as given
    line, column              where the problem is (1-based), or null when not known
    message                   what is wrong, in words
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable

from rdflib import Literal
from rdflib.term import Node

from treatygraph.sources import SourceSyntaxError
from treatygraph.validation.model import ValidationReport, ValidationResult


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
        f"{counts['resources_with_problems']} of {counts['resources_checked']} resources checked"
        + (f" ({report.scope})" if report.scope else "")
        + f": {verdict}."
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


# --- a file that could not be validated --------------------------------------------------------


def error_line(error: SourceSyntaxError) -> str:
    """`file:line:column: message`, on one line (line and column when known)."""
    return " ".join(str(error).split())


def error_record(error: SourceSyntaxError) -> dict:
    return {
        "conforms": None,
        "error": getattr(error, "kind", "syntax"),
        "file": str(error.path),
        "line": error.line,
        "column": error.column,
        "message": " ".join(str(error.message).split()),
    }


def render_error_text(error: SourceSyntaxError) -> str:
    """Nothing on stdout: the one line goes to stderr."""
    return ""


def render_error_json(error: SourceSyntaxError) -> str:
    """The keys documented at the top of this module."""
    return json.dumps(error_record(error), indent=2, ensure_ascii=False) + "\n"


def render_error_junit(error: SourceSyntaxError) -> str:
    """One testcase for the file, with an <error> (not a <failure>: nothing was checked)."""
    record = error_record(error)
    suites = ET.Element("testsuites", name="treatygraph validate", tests="1", errors="1")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="treatygraph shapes",
        tests="1",
        failures="0",
        errors="1",
        skipped="0",
        time="0.000",
    )
    case = ET.SubElement(suite, "testcase", classname=record["file"], name=record["file"])
    problem = ET.SubElement(case, "error", type=record["error"], message=record["message"])
    problem.text = error_line(error)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


ERROR_RENDERERS: dict[str, Callable[[SourceSyntaxError], str]] = {
    "text": render_error_text,
    "json": render_error_json,
    "junit": render_error_junit,
}
