"""`treatygraph validate`: exit codes, and reports that name the resource, the file and the problem.

Exercised through `validation.run` and through the installed console script. The fixture world
(`tests/fixtures/shapes/valid.ttl`) is self-contained, so it is validated `standalone` (without the
shipped graph as context; see test_validate_context.py for the default).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rdflib import Graph

from treatygraph.sources import user_sources
from treatygraph.validation import ontology_sources, run, validate_sources

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
CLI = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "treatygraph"
ID = "https://w3id.org/treatygraph/id/"

# Three mistakes a curator makes: a symbol typed with a hyphen, a forgotten source, and an
# article number used twice in the same convention.
BROKEN_ADDITIONS = """
<decision/BC-16-22> a tg:Decision ;
    tg:symbol "BC-16-22" ; tg:session 16 ; tg:decisionNumber 22 ;
    rdfs:label "BC-16-22: Test decision"@en ; dcterms:title "Test decision"@en ;
    tg:convention <basel> ; tg:adoptedAt <basel/meeting/cop-16> ;
    dcterms:source <https://example.org/d> .

<basel/article/12> a tg:Article ;
    rdfs:label "Basel Convention, Article 12"@en ;
    tg:partOf <basel> ; tg:instrument <basel> ; tg:number "12" .

<basel/copy/article/4> a tg:Article ;
    rdfs:label "Basel Convention, Article 4 (again)"@en ;
    tg:partOf <basel> ; tg:instrument <basel> ; tg:number "4" ;
    dcterms:source <https://example.org/t> .
"""


@pytest.fixture
def valid_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "valid"
    folder.mkdir()
    shutil.copy(FIXTURES / "valid.ttl", folder / "world.ttl")
    return folder


@pytest.fixture
def broken_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "broken"
    folder.mkdir()
    shutil.copy(FIXTURES / "valid.ttl", folder / "world.ttl")
    with (folder / "world.ttl").open("a") as handle:
        handle.write(BROKEN_ADDITIONS)
    return folder


@pytest.fixture
def unreadable(tmp_path: Path) -> Path:
    path = tmp_path / "bad.ttl"
    path.write_text(
        "@prefix tg: <https://w3id.org/treatygraph/ontology#> .\n"
        "<https://w3id.org/treatygraph/id/basel> a tg:Convention ;\n"
        "    tg:number 4 4 .\n"
    )
    return path


def run_alone(paths: list[Path], fmt: str) -> tuple[int, str]:
    """The exit code, and stdout (or, when empty, the line for stderr)."""
    outcome = run(paths, fmt, standalone=True)
    return outcome.code, outcome.output or outcome.error


def test_a_valid_dataset_passes(valid_copy: Path):
    code, output = run_alone([valid_copy], "text")
    assert code == 0
    assert "0 violation(s)" in output and "conforms" in output


def test_a_broken_dataset_fails_naming_each_problem(broken_copy: Path):
    code, output = run_alone([broken_copy], "text")
    assert code == 1
    # grouped by resource: each group is headed by the IRI and the file it came from
    for iri in ("decision/BC-16-22", "basel/article/12", "basel/copy/article/4", "basel/article/4"):
        assert f"{ID}{iri}  (" in output
    assert "world.ttl)" in output
    assert "tg:symbol: A decision needs exactly one symbol" in output and '"BC-16-22"' in output
    assert "dcterms:source: This provision does not say where it comes from" in output
    assert "Article number 4 is used twice" in output
    assert output.rstrip().endswith("does not conform.")


def test_warnings_do_not_fail(valid_copy: Path):
    with (valid_copy / "world.ttl").open("a") as handle:  # a decision without its title
        handle.write(
            '<decision/BC-16/22> a tg:Decision ; tg:symbol "BC-16/22" ; tg:session 16 ;'
            ' tg:decisionNumber 22 ; rdfs:label "BC-16/22"@en ; tg:convention <basel> ;'
            " tg:adoptedAt <basel/meeting/cop-16> ; dcterms:source <https://example.org/d> .\n"
        )
    code, output = run_alone([valid_copy], "text")
    assert code == 0
    assert "Warning   dcterms:title" in output and "1 warning(s)" in output


def test_an_unreadable_file_gives_exit_2_with_file_line_and_column(unreadable: Path):
    code, output = run_alone([unreadable], "text")
    assert code == 2
    assert output.startswith(f"{unreadable}:3:")
    where, _, message = output.partition(": ")
    assert where.count(":") == 2 and message.strip()


def test_a_missing_file_gives_exit_2(tmp_path: Path):
    code, output = run_alone([tmp_path / "nowhere.ttl"], "text")
    assert code == 2 and "no such file" in output


def test_json_report_parses_with_documented_keys(broken_copy: Path):
    code, output = run_alone([broken_copy], "json")
    assert code == 1
    report = json.loads(output)
    assert report["conforms"] is False
    assert report["counts"]["violations"] == len(
        [r for r in report["results"] if r["severity"] == "Violation"]
    )
    symbol = next(r for r in report["results"] if r["focus_node"] == f"{ID}decision/BC-16-22")
    assert set(symbol) == {
        "focus_node", "files", "severity", "path", "value", "message", "shape", "constraint"
    }  # fmt: skip
    assert symbol["shape"] == "tgsh:DecisionShape-symbol"
    assert symbol["path"] == "tg:symbol" and symbol["value"] == "BC-16-22"
    assert symbol["files"][0].endswith("world.ttl")


def test_junit_report_parses_with_one_testcase_per_resource(broken_copy: Path):
    code, output = run_alone([broken_copy], "junit")
    assert code == 1
    root = ET.fromstring(output)
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert int(root.get("tests")) == len(cases) > 30
    failed = {name for name, case in cases.items() if case.find("failure") is not None}
    assert failed == {
        f"{ID}decision/BC-16-22",
        f"{ID}basel/article/12",
        f"{ID}basel/copy/article/4",
        f"{ID}basel/article/4",
    }
    assert int(root.get("failures")) == 4
    assert cases[f"{ID}basel/article/4"].get("classname").endswith("world.ttl")


def test_unknown_format_is_refused(valid_copy: Path):
    with pytest.raises(ValueError, match="junit"):
        run([valid_copy], "yaml", standalone=True)


@pytest.mark.parametrize(
    ("folder", "fmt", "expected"),
    [("valid_copy", "text", 0), ("broken_copy", "json", 1), ("unreadable", "text", 2)],
)
def test_console_script(folder: str, fmt: str, expected: int, request: pytest.FixtureRequest):
    path = request.getfixturevalue(folder)
    done = subprocess.run(
        [str(CLI), "validate", "--standalone", str(path), "--format", fmt],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == expected, done.stderr
    if fmt == "json":
        assert json.loads(done.stdout)["conforms"] is False
    if expected == 2:
        assert done.stderr.startswith(f"{path}:3:") and done.stderr.count("\n") == 1


def test_shapes_the_compiler_does_not_handle_go_to_pyshacl(valid_copy: Path):
    """A shape with sh:not (not compiled to SPARQL) is still checked, by pyshacl."""
    shapes = Graph().parse(
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix tg: <https://w3id.org/treatygraph/ontology#> .
        <https://example.org/NotAMeeting> a sh:NodeShape ;
            sh:targetClass tg:Decision ;
            sh:not [ sh:path tg:symbol ; sh:hasValue "BC-16/21" ] ;
            sh:message "no decision BC-16/21, please" .
        """,
        format="turtle",
    )
    report = validate_sources(ontology_sources() + user_sources([valid_copy]), shapes=shapes)
    assert [str(r.focus_node) for r in report.results] == [f"{ID}decision/BC-16/21"]
    assert report.results[0].files[0].endswith("world.ttl")
