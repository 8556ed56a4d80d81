"""`treatygraph validate FILE` validates the file together with the shipped graph (data/), so a new
file may link to the meetings, conventions and topics that exist; only the problems of what the
file describes (or links to without anything describing it) are reported. `--standalone`
validates the file alone, as before.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import Graph

from treatygraph.sources import REPO_ROOT
from treatygraph.validation import run

CLI = Path(sys.executable).parent / "treatygraph"
ID = "https://w3id.org/treatygraph/id/"
PREFIXES = """@base <https://w3id.org/treatygraph/id/> .
@prefix tg:      <https://w3id.org/treatygraph/ontology#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
"""


def decision(number: int, **changes: str) -> str:
    """A decision of the 16th Basel COP, adopted at the meeting that data/ describes."""
    fields = {
        "symbol": f'"BC-16/{number}"',
        "meeting": "<basel/meeting/cop-16>",
        "topic": "<topic/compliance>",
    } | changes
    return f"""
<decision/BC-16/{number}> a tg:Decision ;
    tg:symbol {fields["symbol"]} ;
    tg:session 16 ;
    tg:decisionNumber {number} ;
    rdfs:label "BC-16/{number}: a decision for the tests"@en ;
    dcterms:title "A decision for the tests"@en ;
    tg:convention <basel> ;
    tg:adoptedAt {fields["meeting"]} ;
    tg:topic {fields["topic"]} ;
    dcterms:source <https://www.basel.int/> .
"""


@pytest.fixture
def new_decision(tmp_path: Path) -> Path:
    path = tmp_path / "new.ttl"
    path.write_text(PREFIXES + decision(90))
    return path


def test_a_correct_new_file_linking_to_the_shipped_graph_conforms(new_decision: Path):
    outcome = run([new_decision], "json")
    assert outcome.code == 0, outcome.output
    report = json.loads(outcome.output)
    assert report["conforms"] is True and report["results"] == []
    assert report["counts"]["resources_checked"] == 1  # the new decision only, not data/


def test_standalone_validates_the_file_alone_as_before(new_decision: Path):
    """Alone, the meeting, the convention and the topic it links to are described nowhere."""
    outcome = run([new_decision], "json", standalone=True)
    assert outcome.code == 1
    results = json.loads(outcome.output)["results"]
    assert {r["focus_node"] for r in results} == {f"{ID}decision/BC-16/90"}
    assert {"tg:adoptedAt", "tg:convention", "tg:topic"} <= {r["path"] for r in results}


def test_the_new_file_s_own_mistakes_are_reported_with_context(tmp_path: Path):
    path = tmp_path / "new.ttl"
    path.write_text(
        PREFIXES
        + decision(91, symbol='"BC-16-91"')  # a hyphen for the slash
        + decision(92, meeting="<basel/meeting/cop-99>")  # a meeting that does not exist
        + decision(93, topic="<topic/no-such-topic>")  # nor does this topic
    )
    outcome = run([path], "json")
    assert outcome.code == 1
    results = json.loads(outcome.output)["results"]
    found = {(r["focus_node"].removeprefix(ID), r["path"]) for r in results}
    assert ("decision/BC-16/91", "tg:symbol") in found
    assert ("decision/BC-16/92", "tg:adoptedAt") in found
    assert ("decision/BC-16/93", "tg:topic") in found
    assert all(r["focus_node"].startswith(f"{ID}decision/BC-16/9") for r in results)
    assert all(r["files"] == [str(path)] for r in results)


def test_problems_of_the_shipped_graph_are_not_reported_as_the_file_s(new_decision: Path):
    """data/ has warnings of its own (guideline versions without their adopting decision)."""
    whole = json.loads(run([], "json").output)
    assert whole["counts"]["warnings"] > 0
    report = json.loads(run([new_decision], "json").output)
    assert report["counts"]["warnings"] == 0


def test_a_link_to_a_resource_nothing_describes_is_reported(tmp_path: Path):
    """The link's subject is described by the file (it adds a triple to a shipped paragraph);
    its target is described nowhere."""
    path = tmp_path / "link.ttl"
    path.write_text(
        PREFIXES + "<minamata/article/11/paragraph/3> tg:refersTo <basel/article/999> .\n"
    )
    outcome = run([path], "text")
    assert outcome.code == 1
    assert f"{ID}minamata/article/11/paragraph/3" in outcome.output
    assert "basel/article/999" in outcome.output


def test_a_problem_on_a_target_that_nothing_describes_is_the_file_s(tmp_path: Path):
    """With a shape on the objects of a link, the focus node is the link's target: it is in no
    file's subjects, but the given file refers to it and nothing describes it, so it is reported;
    a shipped resource the file refers to is not, nor are the shipped graph's own targets that
    are not instruments (articles, guidelines...)."""
    shapes = Graph().parse(
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix tg: <https://w3id.org/treatygraph/ontology#> .
        <https://example.org/TargetIsAnInstrument> a sh:NodeShape ;
            sh:targetObjectsOf tg:refersTo ;
            sh:class tg:Instrument ;
            sh:message "the target of tg:refersTo must be an instrument" .
        """,
        format="turtle",
    )
    path = tmp_path / "link.ttl"
    path.write_text(
        PREFIXES + "<https://example.org/note> tg:refersTo <basel/article/999> , <basel> .\n"
    )
    results = json.loads(run([path], "json", shapes=shapes).output)["results"]
    assert {r["focus_node"] for r in results} == {f"{ID}basel/article/999"}
    assert results[0]["files"] == [str(path)]


def test_a_duplicate_of_a_shipped_resource_is_caught_only_with_context(tmp_path: Path):
    """A second Article 4 of the Basel Convention, under another IRI: alone it looks fine."""
    path = tmp_path / "again.ttl"
    path.write_text(
        PREFIXES
        + """
<basel/copy/article/4> a tg:Article ;
    rdfs:label "Basel Convention, Article 4 (again)"@en ;
    tg:partOf <basel> ; tg:instrument <basel> ; tg:number "4" ; tg:order 4 ;
    dcterms:source <https://www.basel.int/> .
"""
    )
    with_context = run([path], "text")
    assert with_context.code == 1
    assert "Article number 4 is used twice" in with_context.output
    assert f"{ID}basel/article/4  (" not in with_context.output  # data/'s own is not listed


def test_a_shipped_file_named_on_the_command_line_is_validated_once(tmp_path: Path):
    meetings = REPO_ROOT / "data" / "basel" / "meetings.ttl"
    outcome = run([meetings], "json")
    assert outcome.code == 0, outcome.output
    report = json.loads(outcome.output)
    assert report["counts"]["resources_checked"] > 10
    assert all(r["files"] == ["data/basel/meetings.ttl"] for r in report["results"])


@pytest.mark.parametrize(("flag", "expected"), [(None, 0), ("--standalone", 1)])
def test_the_console_script(new_decision: Path, flag: str | None, expected: int):
    args = [str(CLI), "validate", str(new_decision)] + ([flag] if flag else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == expected, done.stdout + done.stderr
    if expected == 0:
        assert "with the shipped graph (data/) as context" in done.stdout
