"""`treatygraph load`: bulk loading of files into a store, never into a curated graph.

Run in-process through the command's entry point (`cli.main`), on stores in temporary folders.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from treatygraph import build, catalogue, cli, loading, write_policy
from treatygraph.namespaces import GRAPH
from treatygraph.store import Store

EX = "http://example.org/"
TRIPLES = f"""<{EX}a> <http://www.w3.org/2000/01/rdf-schema#label> "Quokka island" .
<{EX}a> <{EX}p> <{EX}b> .
"""
QUADS = f"""<{EX}c> <{EX}p> "in g1" <{EX}g1> .
<{EX}d> <{EX}p> "in g2" <{EX}g2> .
<{EX}e> <{EX}p> "in the default graph" .
"""
TURTLE = f"""@prefix ex: <{EX}> .
ex:f ex:p "from turtle" ; ex:q ex:a .
"""
TRIG = f"""@prefix ex: <{EX}> .
ex:g3 {{ ex:h ex:p "from trig" }}
"""
CURATED = str(GRAPH["data/basel/convention.ttl"])


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["load", *args])
    out, err = capsys.readouterr()
    return code, out, err


def quads(store_path: Path) -> set[tuple[str, ...]]:
    store = ox.Store.read_only(str(store_path))
    return {
        (q.subject.value, q.predicate.value, q.object.value, getattr(q.graph_name, "value", ""))
        for q in store
    }


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    made = {
        "nt": tmp_path / "a.nt",
        "nq": tmp_path / "b.nq",
        "ttl.gz": tmp_path / "c.ttl.gz",
        "trig": tmp_path / "d.trig",
    }
    made["nt"].write_text(TRIPLES)
    made["nq"].write_text(QUADS)
    made["ttl.gz"].write_bytes(gzip.compress(TURTLE.encode()))
    made["trig"].write_text(TRIG)
    return made


def test_each_format_is_loaded_into_its_graphs(files, tmp_path, capsys):
    store = tmp_path / "store"
    graph = EX + "mine"
    code, out, err = run(capsys, str(files["nt"]), str(files["ttl.gz"]), "--graph", graph,
                         "--store", str(store))  # fmt: skip
    assert code == 0, err
    assert "loaded 2 files" in out
    code, out, err = run(capsys, str(files["nq"]), str(files["trig"]), "--store", str(store))
    assert code == 0, err
    found = quads(store)
    # Triple files: into the graph given; quad files: into their own graphs (or the default).
    assert (EX + "a", EX + "p", EX + "b", graph) in found
    assert (EX + "f", EX + "p", "from turtle", graph) in found
    assert (EX + "c", EX + "p", "in g1", EX + "g1") in found
    assert (EX + "e", EX + "p", "in the default graph", "") in found
    assert (EX + "h", EX + "p", "from trig", EX + "g3") in found
    assert len(found) == 2 + 2 + 3 + 1
    # Loading again adds nothing (a store is a set of quads).
    assert run(capsys, str(files["nq"]), "--store", str(store))[0] == 0
    assert len(quads(store)) == 8


def test_triples_without_a_graph_go_to_the_default_graph(files, tmp_path, capsys):
    store = tmp_path / "store"
    assert run(capsys, str(files["nt"]), "--store", str(store))[0] == 0
    assert {q[3] for q in quads(store)} == {""}


def test_progress_is_written_on_stderr(files, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(loading, "PROGRESS_EVERY", 0.0)
    code, out, err = run(capsys, str(files["nq"]), "--store", str(tmp_path / "store"))
    assert code == 0
    assert "b.nq: loading ..." in err
    assert "b.nq: 0 of 0 MB" in err  # a progress line (tiny file)
    assert "b.nq: loaded" in err
    assert out.startswith("loaded 1 file ")


def one_line_refusal(code: int, err: str) -> str:
    assert code == cli.EXIT_USAGE
    assert err.count("\n") == 1 and err.startswith("treatygraph: error: ")
    return err


def test_a_curated_graph_is_refused_in_one_line_and_nothing_is_loaded(files, tmp_path, capsys):
    store = tmp_path / "store"
    code, _, err = run(capsys, str(files["nt"]), "--graph", CURATED, "--store", str(store))
    err = one_line_refusal(code, err)
    assert f"graph <{CURATED}> comes from data/basel/convention.ttl" in err
    assert write_policy.RULE in err
    assert not store.exists()
    for derived in (write_policy.INFERRED_GRAPH, write_policy.PROVENANCE_GRAPH):
        code, _, err = run(capsys, str(files["nt"]), "--graph", derived, "--store", str(store))
        assert derived in one_line_refusal(code, err)


def _built_store(path: Path, curated: dict[str, str]) -> Path:
    """A store directory with a build record naming curated graphs (as `treatygraph build`)."""
    path.mkdir(parents=True)
    (path / build.MARKER).write_text(json.dumps({"fingerprint": "test", "curated": curated}))
    return path


@pytest.mark.parametrize(
    "graph_text",
    [
        f"<{CURATED}>",  # a name kept for a data file
        "<http://example.org/curated-by-trig>",  # a curated graph of the build record
        "<https://w3id.org/treatygraph/\\u0067raph/inferred>",  # spelled with an escape
    ],
)
def test_quads_naming_a_curated_graph_are_refused_before_any_file_loads(
    files, tmp_path, capsys, graph_text
):
    store = _built_store(tmp_path / "store", {EX + "curated-by-trig": "data/x.trig"})
    bad = tmp_path / "bad.nq.gz"
    lines = QUADS + f'<{EX}z> <{EX}p> "sneaky" {graph_text} .\n'
    bad.write_bytes(gzip.compress(lines.encode()))
    code, _, err = run(capsys, str(files["nq"]), str(bad), "--store", str(store))
    err = one_line_refusal(code, err)
    assert "bad.nq.gz line 4: graph <" in err and "curated graphs change only" in err
    assert not (store / "CURRENT").exists()  # not even the first file was loaded


def test_an_object_that_looks_like_a_curated_graph_is_not_a_graph(tmp_path, capsys):
    data = tmp_path / "ok.nq"
    data.write_text(f"<{EX}s> <{EX}p> <{CURATED}> .\n<{EX}s> <{EX}p> <{CURATED}> <{EX}g> .\n")
    assert run(capsys, str(data), "--store", str(tmp_path / "store"))[0] == 0
    assert len(quads(tmp_path / "store")) == 2


def test_trig_naming_a_curated_graph_by_prefix_is_refused(tmp_path, capsys):
    data = tmp_path / "bad.trig"
    data.write_text(
        "@prefix g: <https://w3id.org/treatygraph/graph/> .\n"
        f'g:inferred {{ <{EX}s> <{EX}p> "x" }}\n'
    )
    code, _, err = run(capsys, str(data), "--store", str(tmp_path / "store"))
    assert "graph <https://w3id.org/treatygraph/graph/inferred>" in one_line_refusal(code, err)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nq", "--graph", EX + "g"], "--graph applies to triple files"),
        (["nt", "--graph", "not an iri"], "is not an IRI"),
        (["missing.nt"], "no such file"),
        (["odd.xyz"], "cannot tell its format from its name"),
    ],
)
def test_usage_errors_are_one_line(files, tmp_path, capsys, args, message):
    (tmp_path / "odd.xyz").write_text(TRIPLES)
    first = str(files[args[0]]) if args[0] in files else str(tmp_path / args[0])
    code, _, err = run(capsys, first, *args[1:], "--store", str(tmp_path / "store"))
    assert message in one_line_refusal(code, err)


def test_a_syntax_error_names_the_file_and_line(tmp_path, capsys):
    data = tmp_path / "broken.nt"
    data.write_text(TRIPLES + "<http://example.org/x> <http://example.org/p> @@ .\n")
    code, _, err = run(capsys, str(data), "--store", str(tmp_path / "store"))
    # After the progress line that says the load began, the error in one line.
    assert code == cli.EXIT_USAGE
    *progress, error = err.splitlines()
    assert progress == ["treatygraph: broken.nt: loading ..."]
    assert error.startswith("treatygraph: error: ")
    assert "broken.nt" in error and "line 3" in error and "load it again" in error


def test_a_store_in_use_is_not_loaded(files, tmp_path, capsys):
    store = tmp_path / "store"
    held = build.hold_store(store, shared=True)  # as `treatygraph serve` holds it
    try:
        code, _, err = run(capsys, str(files["nt"]), "--store", str(store))
    finally:
        held.close()
    assert code == 1 and "in use by another process" in err and err.count("\n") == 1


def test_the_catalogue_of_the_store_as_it_was_is_removed_or_remade(files, tmp_path, capsys):
    store_path = tmp_path / "store"
    store = Store(store_path)
    store.load(TURTLE.encode(), "text/turtle", EX + "before")
    kept = catalogue.make(store, catalogue.path_for(store_path))
    del store
    assert run(capsys, str(files["nt"]), "--store", str(store_path))[0] == 0
    assert not kept.exists()  # it described the store before the load
    code, _, err = run(capsys, str(files["nq"]), "--store", str(store_path), "--catalogue")
    assert code == 0, err
    hits = catalogue.Catalogue(kept).search("quokka", 5).rows
    assert [row["resource"].value for row in hits] == [EX + "a"]
