"""Build: the store holds every source graph plus inferences, and knows when it is stale."""

import json

from treatygraph import build, sources
from treatygraph.inference import INFERRED_GRAPH
from treatygraph.store import Store


def test_build_writes_a_store_with_one_graph_per_source_and_the_inferences(tmp_path):
    store_path = tmp_path / "store"
    result = build.build(store_path, validate=False)
    store = Store(store_path, read_only=True)
    graphs = set(store.graphs())
    described = {
        row["g"].value
        for row in store.query(
            "SELECT ?g WHERE { ?g a <http://www.w3.org/ns/prov#Entity> }",
            default_graphs=[str(sources.PROVENANCE_GRAPH)],
        ).rows()
    }
    assert described == {str(s.graph_iri) for s in sources.repo_sources()}
    assert str(build.ONTOLOGY_GRAPH) in graphs
    assert str(INFERRED_GRAPH) in graphs and str(sources.PROVENANCE_GRAPH) in graphs
    assert store.count() == result.quads > 0
    assert build.is_fresh(store_path)


def test_rebuilding_replaces_the_store_in_place(tmp_path):
    store_path = tmp_path / "store"
    first = build.build(store_path, validate=False)
    second = build.build(store_path, validate=False)
    assert first.quads == second.quads == Store(store_path, read_only=True).count()
    # Nothing left beside it but its lock (held by a build, or a service serving it).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store", "store.lock"]


def test_a_store_built_from_other_sources_is_stale(tmp_path):
    store_path = tmp_path / "store"
    build.build(store_path, validate=False)
    marker = store_path / build.MARKER
    marker.write_text(json.dumps({"fingerprint": "something else"}))
    assert not build.is_fresh(store_path)
    assert not build.is_fresh(tmp_path / "nothing-here")
