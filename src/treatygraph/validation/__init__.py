"""Check RDF sources against the SHACL shapes and report what is wrong, resource by resource.

`validate_sources` loads the sources (one named graph per file), validates the union of their
graphs against every `shapes/*.ttl` file, and ties each problem back to the file(s) that describe
the offending resource. `run` is what `treatygraph validate` calls: it picks the sources (the
given files with the shipped graph as context, or alone), validates, renders and chooses the exit
code.

The work is split by job:

    inputs    reading files, refusing what could crash, hang or fetch (sizes, triples, ...)
    guards    the bounds, the error for a refused file, and the JSON/XML nesting and DTD checks
    compiler  each shape's constraints as SPARQL queries (one per constraint, all focus nodes)
    engine    running them in an in-memory pyoxigraph store (pyshacl for what is not compiled)
    render    the text, JSON and JUnit reports, and their forms for a file that cannot be read
    command   `treatygraph validate`: which files, with what context, and the exit code

Why no inference: SHACL's `sh:targetClass` and `sh:class` already follow `rdfs:subClassOf`
triples in the data graph, and the ontology is always part of it, so a shape on tg:Provision
checks articles and `sh:class tg:Provision` accepts one. RDFS inference would also type every
link target from the ontology's `rdfs:range`, hiding links to resources nobody describes.

The JSON report's keys are documented in `treatygraph.validation.render`.
"""

from treatygraph.validation.command import Outcome, run, validate_paths
from treatygraph.validation.compiler import _this_in_subselect_body
from treatygraph.validation.engine import (
    ONTOLOGY_DIR,
    SHAPES_DIR,
    check_store,
    check_with_pyshacl,
    load_shapes,
    ontology_sources,
    shape_sources,
    validate_sources,
    validate_store,
)
from treatygraph.validation.guards import DEFAULT_LIMITS, InputError, InputLimits
from treatygraph.validation.model import (
    EXIT_CONFORMS,
    EXIT_UNREADABLE,
    EXIT_VIOLATIONS,
    SEVERITIES,
    SHAPES_NS,
    ValidationReport,
    ValidationResult,
)
from treatygraph.validation.render import (
    RENDERERS,
    render_error_json,
    render_error_junit,
    render_json,
    render_junit,
    render_text,
)

__all__ = [
    "DEFAULT_LIMITS",
    "EXIT_CONFORMS",
    "EXIT_UNREADABLE",
    "EXIT_VIOLATIONS",
    "ONTOLOGY_DIR",
    "RENDERERS",
    "SEVERITIES",
    "SHAPES_DIR",
    "SHAPES_NS",
    "InputError",
    "InputLimits",
    "Outcome",
    "ValidationReport",
    "ValidationResult",
    "_this_in_subselect_body",
    "check_store",
    "check_with_pyshacl",
    "load_shapes",
    "ontology_sources",
    "render_error_json",
    "render_error_junit",
    "render_json",
    "render_junit",
    "render_text",
    "run",
    "shape_sources",
    "validate_paths",
    "validate_sources",
    "validate_store",
]
