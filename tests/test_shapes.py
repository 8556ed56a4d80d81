"""Each SHACL shape in shapes/ is exercised by a fixture that breaks exactly it.

`tests/fixtures/shapes/valid.ttl` is a small world with every class and link that conforms (no
violation, no warning). Each file in `broken/` adds a few triples to it; its header names the
shape(s) it breaks (`# shape: tgsh:...`) and the offending resources (`# focus: <...>`), and the
test checks that the report names exactly those, and nothing else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from treatygraph.namespaces import ID, SH
from treatygraph.sources import PROVENANCE_GRAPH, REPO_ROOT, Source, graph_iri_for, load
from treatygraph.terms import rdflib_graph
from treatygraph.validation import (
    check_with_pyshacl,
    load_shapes,
    ontology_sources,
    validate_sources,
)

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
VALID = FIXTURES / "valid.ttl"
BROKEN = sorted((FIXTURES / "broken").glob("*.ttl"))
OUR_SHAPE_FILES = ["instruments.ttl", "meetings.ttl", "decisions.ttl", "links.ttl"]
SHAPES_NS = "https://w3id.org/treatygraph/shapes#"


def _sources(*paths: Path) -> list[Source]:
    return ontology_sources() + [Source(p, graph_iri_for(p)) for p in paths]


def _expectations(path: Path) -> tuple[set[str], set[str]]:
    header = path.read_text()
    shapes = set(re.findall(r"^# shape: (tgsh:\S+)$", header, re.M))
    focus = {str(ID[f]) for f in re.findall(r"^# focus: <(\S+)>$", header, re.M)}
    return shapes, focus


def test_the_valid_world_conforms_without_warnings():
    report = validate_sources(_sources(VALID))
    assert report.conforms
    assert report.results == []
    assert report.counts["resources_checked"] > 30


@pytest.mark.parametrize("fixture", BROKEN, ids=[p.stem for p in BROKEN])
def test_fixture_breaks_exactly_its_shape(fixture: Path):
    expected_shapes, expected_focus = _expectations(fixture)
    assert expected_shapes and expected_focus, f"{fixture.name} has no expectation header"
    report = validate_sources(_sources(VALID, fixture))
    assert report.results, f"{fixture.name} broke nothing"
    assert {r.shape for r in report.results} == expected_shapes
    assert {str(r.focus_node) for r in report.results} == expected_focus
    assert all(r.message and not r.message.startswith("sh:") for r in report.results)
    # The report ties each problem to the file that describes the offending resource.
    for result in report.results:
        assert result.files, result


def test_every_shape_has_a_fixture_that_breaks_it():
    shapes = Graph()
    for name in OUR_SHAPE_FILES:
        shapes.parse(REPO_ROOT / "shapes" / name)
    property_shapes = {
        "tgsh:" + str(s)[len(SHAPES_NS) :]
        for s in shapes.subjects(None, SH.PropertyShape)
        if isinstance(s, URIRef)
    }
    covered = set().union(*(_expectations(p)[0] for p in BROKEN))
    assert property_shapes - covered == set()
    # and every node shape has at least one property shape, so it is covered through them
    for node_shape in shapes.subjects(None, SH.NodeShape):
        assert any(shapes.objects(node_shape, SH.property)), node_shape


def test_every_shape_explains_itself():
    """Style of SEMIC's DCAT-AP shapes: names, descriptions, messages and severities."""
    shapes = Graph()
    for name in OUR_SHAPE_FILES:
        shapes.parse(REPO_ROOT / "shapes" / name)
    for shape in shapes.subjects(None, SH.PropertyShape):
        for predicate in (SH.name, SH.description, SH.message, SH.severity):
            assert shapes.value(shape, predicate) is not None, (shape, predicate)
    for shape in shapes.subjects(None, SH.NodeShape):
        assert str(shape).startswith(SHAPES_NS) and str(shape).endswith("Shape"), shape
        for predicate in (
            URIRef("http://www.w3.org/2000/01/rdf-schema#label"),
            URIRef("http://www.w3.org/2000/01/rdf-schema#comment"),
        ):
            assert shapes.value(shape, predicate) is not None, (shape, predicate)


def test_pyshacl_agrees_with_the_compiled_shapes():
    """The fast SPARQL compilation gives the same results as the reference engine (pyshacl),
    on the valid world with every broken fixture added at once."""
    sources = _sources(VALID, *BROKEN)
    store = load(sources)
    data = rdflib_graph(q for q in store.quads() if q.graph_name.value != str(PROVENANCE_GRAPH))
    reference = check_with_pyshacl(data, load_shapes())
    ours = validate_sources(sources).results
    key = lambda r: (str(r.focus_node), r.shape, str(r.value), r.severity)  # noqa: E731
    assert {key(r) for r in ours} == {key(r) for r in reference}
    assert len({r.shape for r in ours}) > 50  # fixtures added together mask a few of each other
