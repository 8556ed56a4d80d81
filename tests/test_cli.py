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


def test_query_list_names_every_named_query():
    result = run("query", "--list")
    assert result.returncode == 0
    assert "articles-referring-to-convention" in result.stdout
    assert "cooperation-decisions-in-year" in result.stdout


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
        (["query", "cooperation-decisions-in-year", "-p", "nope=1"], "no parameter nope"),
        (["query", "missing.rq"], "no such query file"),
    ],
)
def test_query_errors_exit_2_with_a_message(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr


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
