"""`treatygraph validate`: which files, validated with what, and the exit code.

Without paths, the repository's ontology and data are validated. With paths (files, or folders
searched recursively), the files are validated together with the shipped graph (`ontology/` and
`data/`) as context, so that a new file may link to the meetings, conventions and topics that
already exist; only the problems of the resources the given files describe are reported (and of
resources they link to that nothing describes). With `standalone`, the files are validated with
the ontology only, as if nothing else existed.

Exit codes: 0 conforms (warnings allowed), 1 violations, 2 a file or folder that cannot be
validated (unreadable, refused, too large, too deep, or nothing to validate in it): the report
is then one line `file:line:column: message` for stderr, and for `--format json` or `junit` a
record of the same on stdout (see `render`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph
from rdflib.term import Node

from treatygraph.sources import Source, SourceSyntaxError, repo_sources
from treatygraph.store import Store
from treatygraph.terms import to_ox
from treatygraph.validation.engine import ontology_sources, validate_sources, validate_store
from treatygraph.validation.guards import DEFAULT_LIMITS, InputError, InputLimits
from treatygraph.validation.inputs import (
    Loaded,
    expand,
    graph_iri,
    is_blank,
    load_into,
    read_bytes,
    real_path,
)
from treatygraph.validation.model import (
    EXIT_CONFORMS,
    EXIT_UNREADABLE,
    EXIT_VIOLATIONS,
    ValidationReport,
)
from treatygraph.validation.render import ERROR_RENDERERS, RENDERERS, error_line

IN_CONTEXT = "in the given files, with the shipped graph (data/) as context"
STANDALONE = "in the given files alone"


@dataclass(frozen=True)
class Outcome:
    """What the command prints and returns: `output` for stdout, `error` (one line, or empty)
    for stderr, and the exit code."""

    code: int
    output: str
    error: str = ""


def run(
    paths: Sequence[Path],
    fmt: str = "text",
    *,
    standalone: bool = False,
    limits: InputLimits = DEFAULT_LIMITS,
    shapes: Graph | None = None,
) -> Outcome:
    """Validate and render; exit code 0 (conforms), 1 (violations) or 2 (a source could not be
    validated: `error` is its `file:line:column: message`)."""
    if fmt not in RENDERERS:
        raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(RENDERERS)}")
    try:
        report = validate_paths(list(paths), standalone=standalone, limits=limits, shapes=shapes)
    except SourceSyntaxError as error:
        return Outcome(EXIT_UNREADABLE, ERROR_RENDERERS[fmt](error), error_line(error))
    code = EXIT_CONFORMS if report.conforms else EXIT_VIOLATIONS
    return Outcome(code, RENDERERS[fmt](report))


def validate_paths(
    paths: list[Path],
    *,
    standalone: bool = False,
    limits: InputLimits = DEFAULT_LIMITS,
    shapes: Graph | None = None,
) -> ValidationReport:
    """The report for `paths` (the repository when empty); raises SourceSyntaxError."""
    if not paths:
        return validate_sources(repo_sources(), shapes, limits=limits)
    started = time.perf_counter()
    named = expand(paths)
    given: dict[Path, Source] = {}
    for _, files in named:
        for file in files:
            given.setdefault(real_path(file), Source(file, graph_iri(file)))
    store = Store()
    loaded = load_into(store, given.values(), limits, track=True)
    _refuse_empty(named, {real_path(facts.source.path): facts for facts in loaded}, limits)
    context = ontology_sources() if standalone else repo_sources()
    load_into(store, [s for s in context if s.path.resolve() not in given], limits)
    if standalone:
        report = validate_store(store, shapes)
    else:
        report = validate_store(store, shapes, only=_described_by(loaded, store))
    report.scope = STANDALONE if standalone else IN_CONTEXT
    report.seconds = time.perf_counter() - started
    return report


def _refuse_empty(
    named: list[tuple[Path, list[Path]]], loaded: dict[Path, Loaded], limits: InputLimits
) -> None:
    """Each path given must hold at least one triple: otherwise there is nothing to validate."""
    for path, files in named:
        if sum(loaded[real_path(file)].triples for file in files):
            continue
        if path.is_dir():
            message = "no triples in the RDF files of this folder: nothing to validate"
        elif is_blank(read_bytes(path, limits)):
            message = "empty file: nothing to validate"
        else:
            message = "no triples in this file: nothing to validate"
        raise InputError(path, None, None, message, kind="empty")


def _described_by(loaded: list[Loaded], store: Store):
    """Whether a focus node is one of the given files': a resource they describe, or one they
    refer to that nothing (in them or in the context) describes, such as a mistyped link."""
    subjects = set().union(*(facts.subjects for facts in loaded))
    objects = set().union(*(facts.objects for facts in loaded)) - subjects

    def accept(node: Node) -> bool:
        term = to_ox(node)
        if term in subjects:
            return True
        if term not in objects:
            return False
        if isinstance(term, ox.BlankNode):  # local to its file, which does not describe it
            return True
        described = store.solutions(f"SELECT ?p WHERE {{ <{term.value}> ?p ?o }} LIMIT 1")
        return next(described, None) is None

    return accept
