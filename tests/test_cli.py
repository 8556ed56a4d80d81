"""The command line, run as a user runs it: the installed `treatygraph` console script."""

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "treatygraph"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    command = [str(SCRIPT), *args] if SCRIPT.exists() else [shutil.which("treatygraph"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=cwd)


def test_query_list_names_every_named_question_and_not_the_apis_own_queries():
    result = run("query", "--list")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines() if line.strip()]
    assert "articles-referring-to-convention" in names
    assert "cooperation-decisions-in-year" in names
    assert not [name for name in names if name.startswith("api-")]
    # Each parameter with its kind and default, as a person types it.
    assert "other=instrument (default minamata)" in result.stdout
    everything = run("query", "--list", "--all")
    assert everything.returncode == 0
    assert "api-search" in everything.stdout and "party-gaps" in everything.stdout


def test_query_takes_sparql_text_and_prints_csv():
    result = run(
        "query",
        "SELECT ?label WHERE { <https://w3id.org/treatygraph/ontology> ?p ?label "
        "FILTER(?p = <http://www.w3.org/2000/01/rdf-schema#label>) }",
        "--format",
        "csv",
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows == [{"label": "treatygraph ontology"}]


def test_query_prints_json():
    result = run("query", "class-counts", "--format", "json")
    assert result.returncode == 0, result.stderr
    labels = {row["label"] for row in json.loads(result.stdout)}
    assert {"Convention", "Article", "Decision", "Party"} <= labels


def test_query_from_a_file(tmp_path):
    file = tmp_path / "q.rq"
    file.write_text("ASK { ?s a <http://www.w3.org/2002/07/owl#Ontology> }")
    result = run("query", str(file))
    assert (result.returncode, result.stdout.strip()) == (0, "True")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "SELECT * WHERE { ?s ?p }"], "not valid SPARQL"),
        (["query", "cooperation-decisions-in-year", "-p", "year=soon"], "whole number"),
        (["query", "cooperation-decisions-in-year", "-p", "year=20231"], "must be a year"),
        (["query", "cooperation-decisions-in-year", "-p", "nope=1"], "no parameter nope"),
        (["query", "missing.rq"], "no such query file"),
    ],
)
def test_query_errors_exit_2_with_a_message(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr


def assert_one_line_error(result: subprocess.CompletedProcess, code: int = 2) -> str:
    """Exit `code`, one line on stderr, no traceback; the line is returned."""
    assert result.returncode == code, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    return result.stderr.strip()


def test_an_unknown_question_name_is_named_with_the_nearest_names():
    line = assert_one_line_error(run("query", "party-gapz"))
    assert "no such question: party-gapz" in line
    assert "party-gaps" in line and "not valid SPARQL" not in line


def test_an_unknown_question_far_from_any_name_points_to_the_list():
    line = assert_one_line_error(run("query", "zzzzzz"))
    assert "no such question: zzzzzz" in line and "--list" in line


@pytest.mark.parametrize(
    ("query", "clause"),
    [
        ("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", "SERVICE"),
        ("select * where { service <http://127.0.0.1:9/sparql> { ?s ?p ?o } }", "SERVICE"),
        ("LOAD <http://127.0.0.1:9/data.ttl>", "LOAD"),
        ("LOAD <http://127.0.0.1:9/data.ttl> INTO GRAPH <http://example.org/g>", "LOAD"),
    ],
)
def test_a_query_that_would_fetch_is_refused_in_one_line(query: str, clause: str):
    line = assert_one_line_error(run("query", query))
    assert clause in line and "refused" in line


def test_a_query_file_that_would_fetch_is_refused(tmp_path):
    file = tmp_path / "fetch.rq"
    file.write_text("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    assert "SERVICE" in assert_one_line_error(run("query", str(file)))


def test_an_unreadable_query_file_is_one_line(tmp_path):
    file = tmp_path / "binary.rq"
    file.write_bytes(b"\xff\xfe\x00 not text")
    assert "cannot read query file" in assert_one_line_error(run("query", str(file)))


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["frobnicate"],
        ["validate", "--format", "yaml"],
        ["query", "--format", "xml", "class-counts"],
        ["query", "class-counts", "-p", "novalue"],
        ["query"],
    ],
    ids=["no-command", "unknown-command", "bad-format", "bad-query-format", "bad-param", "none"],
)
def test_usage_errors_are_one_line_and_exit_2(args):
    assert_one_line_error(run(*args))


def _rows(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "value", ["minamata", "Minamata", "id:minamata", "https://w3id.org/treatygraph/id/minamata"]
)
def test_a_convention_is_named_by_short_id_prefixed_name_or_iri(value):
    """`id:minamata` is how the command line prints the convention: it once gave no rows."""
    expected = _rows(run("query", "articles-referring-to-convention", "--format", "json"))
    rows = _rows(
        run("query", "articles-referring-to-convention", "-p", f"from={value}", "--format", "json")
    )
    assert rows == expected and rows


def test_a_party_is_named_by_iso_code_in_any_case():
    rows = _rows(run("query", "party-status", "-p", "party=jpn", "--format", "json"))
    assert rows and rows == _rows(run("query", "party-status", "--format", "json"))


def test_an_unknown_convention_is_one_line_naming_the_parameter_and_the_nearest():
    line = assert_one_line_error(
        run("query", "articles-referring-to-convention", "-p", "from=minamta")
    )
    assert "parameter 'from': no convention 'minamta'" in line
    assert "did you mean: minamata" in line


def test_an_unknown_partner_lists_the_conventions():
    line = assert_one_line_error(
        run("query", "cooperation-decisions-in-year", "-p", "partner=Frobnia")
    )
    assert "parameter 'partner'" in line
    assert "basel, minamata, rotterdam, stockholm" in line


def test_party_gaps_by_default_answers_which_basel_parties_are_not_parties_to_minamata():
    default = _rows(run("query", "party-gaps", "--format", "json"))
    explicit = _rows(
        run("query", "party-gaps", "-p", "instrument=basel", "-p", "other=minamata",
            "--format", "json")
    )  # fmt: skip
    ban = _rows(run("query", "party-gaps", "-p", "other=basel/amendment/ban", "--format", "json"))
    assert default == explicit and default != ban and default


def test_disagreements_take_an_instrument_by_name_in_any_case():
    result = run("disagreements", "--instrument", "Minamata")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if " minamata " in line]
    assert lines, result.stdout


def test_disagreements_refuse_an_unknown_instrument_instead_of_answering_nothing():
    line = assert_one_line_error(run("disagreements", "--instrument", "minamta"))
    assert "--instrument: no instrument 'minamta'" in line and "minamata" in line


def test_stats_counts_resources_per_class():
    result = run("stats", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["quads"] > 0 and "Topic" in report["classes"]


def test_stats_coverage_reports_totals_and_missing_meetings():
    result = run("stats", "--coverage")
    assert result.returncode == 0, result.stderr
    assert "Meetings missing:" in result.stdout


def test_export_writes_every_format(tmp_path):
    result = run("export", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for name in ("treatygraph.trig", "treatygraph.nq", "treatygraph.ttl", "treatygraph.jsonld"):
        assert (tmp_path / name).stat().st_size > 0
    from rdflib import Dataset, Graph

    Dataset().parse(tmp_path / "treatygraph.trig", format="trig")
    Graph().parse(tmp_path / "treatygraph.jsonld", format="json-ld")


def test_export_refuses_an_unknown_format(tmp_path):
    result = run("export", "--out", str(tmp_path), "--formats", "ttl,docx")
    assert result.returncode == 2
    assert "docx" in result.stderr


def test_disagreements_report_lists_state_instrument_kind_and_both_dates():
    result = run("disagreements", "--instrument", "basel")
    assert result.returncode == 0, result.stderr
    afghanistan = [line for line in result.stdout.splitlines() if line.startswith("Afghanistan")]
    assert any(
        "entry-into-force" in line and "2013-06-23" in line and "2013-03-25" in line
        for line in afghanistan
    )
    assert "dates differ between IEADB (primary) and ECOLEX" in result.stdout


def test_an_internal_error_is_one_line_with_exit_3(monkeypatch, capsys):
    """A failure of ours (here a simulated one) is reported in one line, not a traceback."""
    from treatygraph import cli

    def broken(path):
        raise RuntimeError("the store\nis broken")

    monkeypatch.setattr(cli, "open_store", broken)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    assert cli.main(["stats"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: RuntimeError: the store is broken" in err
