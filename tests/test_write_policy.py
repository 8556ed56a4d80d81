"""The write policy on its own: which graphs an update writes, read from a real parse, and the
refusal of every write whose target is a curated graph."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from treatygraph import write_policy
from treatygraph.write_policy import (
    CuratedTarget,
    UnprovableTarget,
    UpdateUnreadable,
    check_graph_write,
    check_update,
    curated_targets,
)

G = "https://w3id.org/treatygraph/graph/"
CONVENTION = G + "data/basel/convention.ttl"
MEETINGS = G + "data/basel/meetings.ttl"
INFERRED = G + "inferred"
PROVENANCE = G + "provenance"
CURATED = {
    CONVENTION: "data/basel/convention.ttl",
    MEETINGS: "data/basel/meetings.ttl",
    G + "ontology/treatygraph.ttl": "ontology/treatygraph.ttl",
    INFERRED: write_policy.INFERENCE_ORIGIN,
    PROVENANCE: write_policy.PROVENANCE_ORIGIN,
}
MINE = "http://example.org/mine"
SP = "<http://example.org/s> <http://example.org/p>"
TRIPLE = SP + " <http://example.org/o>"
CONVENTION_TARGET = [(CONVENTION, "data/basel/convention.ttl")]


def targets(update: str, curated=CURATED, base: str | None = None) -> list[str]:
    return [iri for iri, _ in curated_targets(update, curated, base)]


# -- what is allowed: written data -------------------------------------------------------------


@pytest.mark.parametrize(
    "update",
    [
        f"INSERT DATA {{ {TRIPLE} }}",  # the default graph is written data
        f"insert data {{ {TRIPLE} }}",
        f"INSERT DATA {{ GRAPH <{MINE}> {{ {TRIPLE} }} }}",
        f"DELETE DATA {{ GRAPH <{MINE}> {{ {TRIPLE} }} }}",
        f"DELETE WHERE {{ GRAPH <{MINE}> {{ ?s ?p ?o }} }}",
        "DELETE WHERE { ?s ?p ?o }",
        # reading curated graphs is fine: in WHERE, USING, and a WITH that nothing is written to
        f"INSERT {{ GRAPH <{MINE}> {{ ?s ?p ?o }} }}\n"
        f"WHERE {{ GRAPH <{CONVENTION}> {{ ?s ?p ?o }} }}",
        f"INSERT {{ GRAPH <{MINE}> {{ ?s ?p ?o }} }} USING <{CONVENTION}> WHERE {{ ?s ?p ?o }}",
        f"WITH <{CONVENTION}> INSERT {{ GRAPH <{MINE}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}",
        "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
        f"CLEAR GRAPH <{MINE}>",
        f"DROP SILENT GRAPH <{MINE}>",
        "CLEAR DEFAULT",
        "drop default",
        f"CREATE GRAPH <{MINE}>",
        f"COPY <{CONVENTION}> TO <{MINE}>",
        f"ADD GRAPH <{CONVENTION}> TO DEFAULT",
        f"MOVE <{MINE}> TO DEFAULT",
        # words and IRIs in strings and comments are not operations
        f'INSERT DATA {{ {SP} "CLEAR GRAPH <{CONVENTION}>" }}',
        f"# DROP GRAPH <{CONVENTION}>\nINSERT DATA {{ {TRIPLE} }} # CLEAR ALL",
        f"INSERT DATA {{ GRAPH <{G}uploaded/1> {{ {TRIPLE} }} }}",
        "",  # an empty update does nothing
    ],
)
def test_writes_to_written_data_pass(update):
    assert curated_targets(update, CURATED) == []
    check_update(update, CURATED)


# -- what is refused: curated graphs as targets ------------------------------------------------


@pytest.mark.parametrize(
    "update",
    [
        f"INSERT DATA {{ GRAPH <{CONVENTION}> {{ {TRIPLE} }} }}",
        f"insert data {{ graph <{CONVENTION}> {{ {TRIPLE} }} }}",
        f"DELETE DATA {{ GRAPH <{CONVENTION}> {{ {TRIPLE} }} }}",
        f"DELETE WHERE {{ GRAPH <{CONVENTION}> {{ ?s ?p ?o }} }}",
        f"INSERT {{ GRAPH <{CONVENTION}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}",
        f"DELETE {{ GRAPH <{CONVENTION}> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}",
        f"WITH <{CONVENTION}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
        f"with <{CONVENTION}> insert {{ ?s ?p ?o }} where {{ GRAPH <{MINE}> {{ ?s ?p ?o }} }}",
        f"CLEAR GRAPH <{CONVENTION}>",
        f"clear silent graph <{CONVENTION}>",
        f"DROP GRAPH <{CONVENTION}>",
        f"CREATE SILENT GRAPH <{CONVENTION}>",
        f"ADD <{MINE}> TO <{CONVENTION}>",
        f"COPY DEFAULT TO GRAPH <{CONVENTION}>",
        f"MOVE <{MINE}> TO <{CONVENTION}>",
        f"MOVE <{CONVENTION}> TO <{MINE}>",  # MOVE empties its source
        f"LOAD <http://example.org/x.ttl> INTO GRAPH <{CONVENTION}>",
        # prefixed names, with and without escapes
        f"PREFIX d: <{G}data/basel/> INSERT DATA {{ GRAPH d:convention.ttl {{ {TRIPLE} }} }}",
        f"PREFIX d: <{G}data/basel/> CLEAR GRAPH d:convention\\.ttl",
        f"PREFIX : <{G}data/basel/> DROP GRAPH :convention.ttl",
        # BASE-relative IRIs, BASE resolved against an earlier BASE
        f"BASE <{G}data/basel/> CLEAR GRAPH <convention.ttl>",
        f"BASE <{G}x/y/> DROP GRAPH <../../data/basel/convention.ttl>",
        "BASE <https://w3id.org/treatygraph/x/> BASE <../graph/data/>\n"
        "DROP GRAPH <basel/convention.ttl>",
        f"BASE <{G}x/> PREFIX d: <../data/basel/> DROP GRAPH d:convention.ttl",
        f"BASE <{G}x/> DROP GRAPH <a/b:c/../../../data/basel/convention.ttl>",
        # comments, line breaks and a harmless operation first
        f"# a comment\nINSERT DATA {{ {TRIPLE} }} ;\n# another\nDROP GRAPH <{CONVENTION}> # end",
        f"INSERT DATA {{ GRAPH <{MINE}> {{ {TRIPLE} }} }} ;\n"
        f"DELETE DATA {{ GRAPH <{CONVENTION}> {{ {TRIPLE} }} }}",
        # an escape in the IRI (the engine decodes it)
        f"DROP GRAPH <{G}data/basel/convention\\u002Ettl>",
    ],
)
def test_a_curated_target_is_refused_naming_its_file(update):
    assert curated_targets(update, CURATED) == CONVENTION_TARGET
    with pytest.raises(CuratedTarget) as refused:
        check_update(update, CURATED)
    assert refused.value.status == 409
    assert (
        f"graph <{CONVENTION}> comes from data/basel/convention.ttl; curated graphs change only "
        "through data/ and a rebuild"
    ) in str(refused.value)


def test_a_relative_iri_is_resolved_against_the_base_the_service_gives():
    assert targets("CLEAR GRAPH <convention.ttl>", base=G + "data/basel/") == [CONVENTION]
    assert targets("CLEAR GRAPH <convention.ttl>", base="http://127.0.0.1:8000/sparql") == []


@pytest.mark.parametrize("update", ["CLEAR ALL", "DROP ALL", "clear named", "DROP SILENT NAMED"])
def test_all_and_named_are_refused_while_there_are_curated_graphs(update):
    assert set(targets(update)) == set(CURATED)
    with pytest.raises(CuratedTarget, match="would change all 5 curated graphs"):
        check_update(update, CURATED)
    assert targets(update, curated={}) == []  # a store of written data only


def test_derived_graphs_and_names_kept_for_files_are_curated():
    assert targets(f"CLEAR GRAPH <{INFERRED}>") == [INFERRED]
    assert targets(f"DROP GRAPH <{PROVENANCE}>", curated={}) == [PROVENANCE]
    with pytest.raises(CuratedTarget, match="queries/rules"):
        check_update(f"INSERT DATA {{ GRAPH <{INFERRED}> {{ {TRIPLE} }} }}", CURATED)
    # A graph under graph/data/ is a file's, even before the file exists.
    future = G + "data/basel/later.ttl"
    assert curated_targets(f"CREATE GRAPH <{future}>", {}) == [
        (future, "data/basel/later.ttl (a graph name kept for that file)")
    ]


def test_every_curated_target_is_listed_in_order():
    update = (
        f"COPY <{MINE}> TO <{MEETINGS}> ; INSERT DATA {{ {TRIPLE} }} ; "
        f"MOVE <{CONVENTION}> TO <{MEETINGS}>"
    )
    assert targets(update) == [MEETINGS, CONVENTION]
    with pytest.raises(CuratedTarget, match="and 1 more curated graph"):
        check_update(update, CURATED)


@pytest.mark.parametrize(
    "update",
    [
        f"INSERT {{ GRAPH ?g {{ {TRIPLE} }} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        "DELETE { GRAPH ?g { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } }",
        "delete where { graph ?g { ?s ?p ?o } }",
        f"INSERT {{ GRAPH $g {{ {TRIPLE} }} }} WHERE {{ VALUES ?g {{ <{MINE}> }} }}",
    ],
)
def test_a_variable_graph_name_in_a_template_cannot_be_proven_safe(update):
    with pytest.raises(UnprovableTarget, match="cannot be proven") as refused:
        curated_targets(update, CURATED)
    assert refused.value.status == 409


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { oops }",
        "CLEAR EVERYTHING",
        f"INSERT DATA {{ GRAPH nope:x {{ {TRIPLE} }} }}",  # an undeclared prefix
        "INSERT DATA {",
    ],
)
def test_an_update_the_parser_cannot_read_is_refused_with_400(update):
    with pytest.raises(UpdateUnreadable) as refused:
        check_update(update, CURATED)
    assert refused.value.status == 400
    assert "parse" in str(refused.value) or "prefix" in str(refused.value)


def test_the_parse_problem_is_named():
    with pytest.raises(UpdateUnreadable) as refused:
        check_update("INSERT DATA { oops }", CURATED)
    message = str(refused.value)
    assert "could not be parsed" in message and "rdflib" in message and "char" in message


def test_a_long_insert_data_is_checked():
    lines = " ".join(
        f'<http://example.org/s{i}> <http://example.org/p> "{i}" .' for i in range(500)
    )
    assert curated_targets(f"INSERT DATA {{ GRAPH <{MINE}> {{ {lines} }} }}", CURATED) == []


def test_deep_nesting_is_parsed():
    where = "{ " * 100 + "?s ?p ?o " + "} " * 100
    update = f"DELETE {{ GRAPH <{CONVENTION}> {{ ?s ?p ?o }} }} WHERE {where}"
    assert targets(update) == [CONVENTION]


# -- the parser reads what the engine runs -----------------------------------------------------

# Updates that a parser decoding \u escapes before it splits strings and comments (as rdflib does
# on its own) reads as harmless, while the engine runs their CLEAR, or the other way round.
TRICKS = [
    f'INSERT DATA {{ {SP} "\\u0022" }} ; CLEAR GRAPH <{CONVENTION}> ; '
    f'INSERT DATA {{ {SP} "\\u0022" }}',
    f"INSERT DATA {{ {SP} '\\u0027' }} ; CLEAR GRAPH <{CONVENTION}> ; "
    f"INSERT DATA {{ {SP} '\\u0027' }}",
    f'INSERT DATA {{ {SP} "\\u005C" }} ; CLEAR GRAPH <{CONVENTION}> ; '
    f'INSERT DATA {{ {SP} "\\u005C" }}',
    f'INSERT DATA {{ {SP} "\\u00000022" }} ; CLEAR GRAPH <{CONVENTION}> ; '
    f'INSERT DATA {{ {SP} "\\u00000022" }}',
    f'INSERT DATA {{ {SP} """a\\u0022""" }} ; CLEAR GRAPH <{CONVENTION}>',
    f"INSERT DATA {{ {TRIPLE} }} ; # a comment\rCLEAR GRAPH <{CONVENTION}>",
    f"INSERT DATA {{ {TRIPLE} }} # \\u000A ; CLEAR GRAPH <{CONVENTION}>\n",
    f'INSERT DATA {{ {SP} "\\\\u0022" }} ; CLEAR GRAPH <{CONVENTION}> ; '
    f'INSERT DATA {{ {SP} "\\\\u0022" }}',
]


@pytest.mark.parametrize("update", TRICKS)
def test_what_passes_the_policy_never_changes_a_curated_graph_in_the_engine(update):
    store = ox.Store()
    quad = ox.Quad(
        ox.NamedNode("http://example.org/a"),
        ox.NamedNode("http://example.org/b"),
        ox.Literal("curated"),
        ox.NamedNode(CONVENTION),
    )
    store.add(quad)
    try:
        check_update(update, CURATED)
    except (CuratedTarget, UpdateUnreadable):
        return  # refused: nothing runs
    try:
        store.update(update)
    except SyntaxError:
        return  # the engine refuses it too
    assert quad in store, "the policy let through an update that changed a curated graph"


def test_the_escape_tricks_would_run_their_clear_in_the_engine():
    """The tricks are real: the engine runs the CLEAR that a naive reading hides in a string."""
    store = ox.Store()
    store.update(f"INSERT DATA {{ GRAPH <{CONVENTION}> {{ {TRIPLE} }} }}")
    store.update(TRICKS[0])
    assert not list(store.quads_for_pattern(None, None, None, ox.NamedNode(CONVENTION)))
    assert curated_targets(TRICKS[0], CURATED) == CONVENTION_TARGET


# -- the Graph Store Protocol, and the record of curated graphs ---------------------------------


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_a_graph_store_write_of_a_curated_graph_is_refused(method):
    with pytest.raises(CuratedTarget) as refused:
        check_graph_write(CONVENTION, CURATED, method)
    assert str(refused.value).startswith(
        f"graph <{CONVENTION}> comes from data/basel/convention.ttl; curated graphs change only "
        "through data/ and a rebuild"
    )
    check_graph_write(MINE, CURATED, method)  # written data: no refusal


def test_the_curated_graphs_are_read_from_the_build_record(tmp_path):
    assert write_policy.curated_for(tmp_path) == {}
    record = {"fingerprint": "x", "quads": 1, "curated": {CONVENTION: "data/basel/convention.ttl"}}
    (tmp_path / write_policy.MARKER).write_text(json.dumps(record))
    assert write_policy.curated_for(tmp_path) == {CONVENTION: "data/basel/convention.ttl"}
    (tmp_path / write_policy.MARKER).write_text(json.dumps({"fingerprint": "x", "quads": 2}))
    assert write_policy.curated_for(tmp_path) == {}  # an old record lists none
