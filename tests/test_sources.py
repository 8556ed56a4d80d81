"""Sources: one named graph per file, described with PROV-O; unreadable files say where."""

from pathlib import Path

import pytest

from treatygraph import sources

PROV = "http://www.w3.org/ns/prov#"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_each_file_is_loaded_into_its_own_named_graph_with_provenance(tmp_path):
    a = write(tmp_path / "a.ttl", "<http://e/a> <http://e/p> <http://e/b> .\n")
    b = write(tmp_path / "b.ttl", "<http://e/c> <http://e/p> <http://e/d> .\n")
    store = sources.load(sources.user_sources([a, b]))
    graph_a, graph_b = sources.graph_iri_for(a), sources.graph_iri_for(b)
    triple = "<http://e/a> <http://e/p> <http://e/b>"
    assert store.query(f"ASK {{ GRAPH <{graph_a}> {{ {triple} }} }}").boolean
    assert store.count(graph_b) == 1
    provenance = f"""ASK {{ GRAPH <{sources.PROVENANCE_GRAPH}> {{
        <{graph_a}> a <{PROV}Entity> ; <{PROV}wasDerivedFrom> "{a}" }} }}"""
    assert store.query(provenance).boolean


def test_repository_files_get_stable_graph_names():
    names = {s.graph_iri for s in sources.repo_sources()}
    assert "https://w3id.org/treatygraph/graph/ontology/treatygraph.ttl" in names
    assert "https://w3id.org/treatygraph/graph/data/topics.ttl" in names


def test_turtle_syntax_error_names_file_line_and_column(tmp_path):
    bad = write(tmp_path / "bad.ttl", '@prefix : <http://e/> .\n:a :b :c .\n:a :b "x\n')
    with pytest.raises(sources.SourceSyntaxError) as caught:
        sources.load(sources.user_sources([bad]))
    error = caught.value
    assert (error.path, error.line, error.column) == (bad, 3, 7)
    assert str(error).startswith(f"{bad}:3:7: ")


def test_json_ld_syntax_error_names_file_line_and_column(tmp_path):
    bad = write(tmp_path / "bad.jsonld", '{\n  "@id": "http://e/a",\n  "x": \n}')
    with pytest.raises(sources.SourceSyntaxError) as caught:
        sources.load(sources.user_sources([bad]))
    assert caught.value.line == 4


def test_trig_keeps_its_own_named_graphs(tmp_path):
    trig = write(tmp_path / "d.trig", "<http://e/g> { <http://e/a> <http://e/p> <http://e/b> . }\n")
    store = sources.load(sources.user_sources([trig]))
    assert store.count("http://e/g") == 1


def test_missing_file_and_unknown_type_are_reported(tmp_path):
    with pytest.raises(sources.SourceSyntaxError, match="no such file"):
        sources.load(sources.user_sources([tmp_path / "nothing.ttl"]))
    odd = write(tmp_path / "data.csv", "a,b\n")
    with pytest.raises(sources.SourceSyntaxError, match="unknown RDF file type"):
        sources.load(sources.user_sources([odd]))


def test_folders_are_searched_for_rdf_files(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "x.ttl", "<http://e/a> <http://e/p> <http://e/b> .\n")
    write(tmp_path / "notes.txt", "not rdf")
    found = sources.user_sources([tmp_path])
    assert [s.path.name for s in found] == ["x.ttl"]
