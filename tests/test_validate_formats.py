"""`treatygraph validate --format json|junit` when a file cannot be validated (exit code 2): the
report is still machine-readable on stdout (a JSON object with file, line, column and message; a
JUnit testcase with an <error>), and the one-line message goes to stderr as with `--format text`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from treatygraph.validation import run

CLI = Path(sys.executable).parent / "treatygraph"
EX = "https://example.org/"
SYNTAX_ERROR = "@prefix e: <https://example.org/> .\ne:a e:p e:b .\ne:a e:p 4 4 .\n"


def _cases(tmp_path: Path) -> dict[str, tuple[Path, str, int | None]]:
    """name: (path, error kind, line), one per way a file cannot be validated."""
    syntax = tmp_path / "syntax.ttl"
    syntax.write_text(SYNTAX_ERROR)
    empty = tmp_path / "empty.ttl"
    empty.write_text("")
    folder = tmp_path / "nothing"
    folder.mkdir()
    deep = tmp_path / "deep.jsonld"
    deep.write_text("[" * 200 + "]" * 200)
    dtd = tmp_path / "dtd.rdf"
    dtd.write_text('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "b">]>\n<x/>\n')
    unknown = tmp_path / "notes.txt"
    unknown.write_text("hello")
    return {
        "syntax": (syntax, "syntax", 3),
        "empty": (empty, "empty", None),
        "empty-folder": (folder, "empty", None),
        "missing": (tmp_path / "missing.ttl", "unreadable", None),
        "deep": (deep, "too-deep", 1),
        "dtd": (dtd, "refused", 2),
        "unknown-type": (unknown, "unreadable", None),
    }


CASES = ["syntax", "empty", "empty-folder", "missing", "deep", "dtd", "unknown-type"]


@pytest.mark.parametrize("case", CASES)
def test_json_gives_one_object_with_file_line_column_and_message(tmp_path: Path, case: str):
    path, kind, line = _cases(tmp_path)[case]
    outcome = run([path], "json", standalone=True)
    assert outcome.code == 2
    record = json.loads(outcome.output)
    assert record["file"] == str(path)
    assert record["line"] == line
    assert (record["column"] is None) == (line is None)
    assert record["message"] and "\n" not in record["message"]
    assert record["error"] == kind and record["conforms"] is None
    assert outcome.error == (
        f"{path}:{line}:{record['column']}: {record['message']}"
        if line
        else f"{path}: {record['message']}"
    )


@pytest.mark.parametrize("case", CASES)
def test_junit_gives_a_testcase_with_an_error(tmp_path: Path, case: str):
    path, kind, line = _cases(tmp_path)[case]
    outcome = run([path], "junit", standalone=True)
    assert outcome.code == 2
    root = ET.fromstring(outcome.output)
    assert root.get("errors") == "1" and root.get("tests") == "1"
    cases = list(root.iter("testcase"))
    assert len(cases) == 1 and cases[0].get("classname") == str(path)
    error = cases[0].find("error")
    assert error is not None and error.get("type") == kind and error.get("message")
    assert error.text == outcome.error
    if line:
        assert error.text.startswith(f"{path}:{line}:")


def test_text_prints_nothing_on_stdout_and_one_line_for_stderr(tmp_path: Path):
    path, _, _ = _cases(tmp_path)["syntax"]
    outcome = run([path], "text", standalone=True)
    assert (outcome.code, outcome.output) == (2, "")
    assert outcome.error.startswith(f"{path}:3:") and "\n" not in outcome.error


@pytest.mark.parametrize("fmt", ["json", "junit"])
def test_the_console_script_writes_the_record_on_stdout(tmp_path: Path, fmt: str):
    path, _, _ = _cases(tmp_path)["syntax"]
    done = subprocess.run(
        [str(CLI), "validate", str(path), "--format", fmt],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    if fmt == "json":
        record = json.loads(done.stdout)
        assert (record["file"], record["line"]) == (str(path), 3)
    else:
        error = ET.fromstring(done.stdout).find("testsuite/testcase/error")
        assert error is not None and error.text.startswith(f"{path}:3:")
    assert done.stderr.startswith(f"{path}:3:") and done.stderr.count("\n") == 1
