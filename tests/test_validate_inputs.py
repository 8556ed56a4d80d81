"""`treatygraph validate` on inputs that used to crash, hang, fetch or pass silently.

Every unreadable, too large, too deep or empty input gives exit code 2 and one line naming the
file (with line and column when they are known); large valid files validate. Most cases run
`validation.run` in this process; those where a regression would take the machine down (deep JSON
nesting used gigabytes, then aborted) run the console script under a memory bound.
"""

from __future__ import annotations

import http.server
import json
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from treatygraph.validation import InputLimits, run

CLI = Path(sys.executable).parent / "treatygraph"
EX = "https://example.org/"
TURTLE_TRIPLE = f"<{EX}a> <{EX}p> 1 .\n"


def validate(*paths: Path, fmt: str = "text", **options):
    options.setdefault("standalone", True)  # these files stand alone: no need for data/
    return run(list(paths), fmt, **options)


def cli(*args: str, memory_mb: int = 2048, timeout: float = 120) -> subprocess.CompletedProcess:
    """The console script, bounded in memory (a regression fails instead of swapping)."""

    def bound():
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run(
        [str(CLI), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=bound,
    )


def assert_refused(outcome, path: Path, *words: str) -> None:
    """Exit 2, one line that names the file first, and says `words`."""
    assert outcome.code == 2, outcome.output
    assert outcome.output == ""  # text format: nothing on stdout
    assert outcome.error.startswith(f"{path}:") and "\n" not in outcome.error
    for word in words:
        assert word in outcome.error


# -- large valid input ---------------------------------------------------------------------------


def test_a_file_with_more_than_100k_subjects_validates(tmp_path: Path):
    """The row bound is for clients' queries; the validator's own queries are not bounded."""
    path = tmp_path / "many.nt"
    with path.open("w") as handle:
        for i in range(100_500):
            handle.write(f'<{EX}s{i}> <{EX}p> "x" .\n')
    outcome = validate(path)
    assert outcome.code == 0, outcome.error
    assert outcome.output.rstrip().endswith("conforms.")


# -- too large -----------------------------------------------------------------------------------


def test_a_literal_over_16_mib_is_refused_naming_the_limit(tmp_path: Path):
    path = tmp_path / "huge-literal.ttl"
    path.write_text(f'<{EX}a> <{EX}p> "' + "x" * (16 * 1024 * 1024 + 10) + '" .\n')
    assert_refused(validate(path), path, "16 MiB", "literal")


def test_a_literal_over_16_mib_in_rdf_xml_is_refused_too(tmp_path: Path):
    path = tmp_path / "huge-literal.rdf"
    path.write_text(
        f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="{EX}">'
        f'<rdf:Description rdf:about="{EX}a"><e:p>'
        + "x" * (16 * 1024 * 1024 + 10)
        + "</e:p></rdf:Description></rdf:RDF>"
    )
    assert_refused(validate(path), path, "16 MiB")


def test_a_file_over_the_size_bound_is_refused_before_parsing(tmp_path: Path):
    path = tmp_path / "big.ttl"
    path.write_text(TURTLE_TRIPLE * 100)
    outcome = validate(path, limits=InputLimits(max_file_bytes=1000))
    assert_refused(outcome, path, "limit of 1000 bytes")


def test_more_triples_than_the_bound_are_refused_while_parsing(tmp_path: Path):
    """A few bytes of Turtle can stand for many triples: the parse stops at the bound."""
    path = tmp_path / "list.ttl"
    path.write_text(f"<{EX}a> <{EX}p> (" + " 1" * 5000 + " ) .\n")
    outcome = validate(path, limits=InputLimits(max_triples=1000))
    assert_refused(outcome, path, "more than 1000 triples")
    assert outcome.error.count(str(path)) == 1


# -- too deep ------------------------------------------------------------------------------------


def test_json_ld_nested_20000_deep_is_refused_quickly_and_in_bounded_memory(tmp_path: Path):
    path = tmp_path / "deep.jsonld"
    depth = 20_000
    path.write_text(
        f'{{"@id": "{EX}a", ' + f'"{EX}p": {{' * depth + f'"@id": "{EX}b"' + "}" * depth + "}"
    )
    done = cli("validate", "--standalone", str(path), memory_mb=1024, timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.startswith(f"{path}:1:") and done.stderr.count("\n") == 1
    assert "limit of 100" in done.stderr and "Traceback" not in done.stderr


def test_json_nesting_counts_brackets_outside_strings_only(tmp_path: Path):
    """Brackets inside a JSON string are text: a value full of them validates."""
    path = tmp_path / "brackets.jsonld"
    path.write_text(json.dumps({"@id": f"{EX}a", f"{EX}p": "[{" * 500 + '\\"' + "}]" * 500}))
    assert validate(path).code == 0


def test_json_ld_at_the_nesting_bound_is_accepted_one_past_it_refused(tmp_path: Path):
    def nested(depth: int) -> str:  # the outer object is level 1
        return f'{{"@id": "{EX}a", ' + f'"{EX}p": {{' * (depth - 1) + "}" * (depth - 1) + "}"

    ok, deep = tmp_path / "ok.jsonld", tmp_path / "deep.jsonld"
    ok.write_text(nested(100))
    deep.write_text(nested(101))
    assert validate(ok).code == 0
    assert_refused(validate(deep), deep, "limit of 100")


def test_rdf_xml_nested_deeper_than_the_bound_is_refused(tmp_path: Path):
    """The RDF/XML parser's time grows with the square of the depth (40,000 levels: 12 s)."""
    path = tmp_path / "deep.rdf"
    depth = 20_000
    path.write_text(
        f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="{EX}">'
        + "<rdf:Description><e:p>" * depth
        + "</e:p></rdf:Description>" * depth
        + "</rdf:RDF>"
    )
    assert_refused(validate(path), path, "limit of 100")


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE rdf:RDF [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
        '<!DOCTYPE rdf:RDF [<!ENTITY a SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE rdf:RDF SYSTEM "http://127.0.0.1:9/rdf.dtd">',
    ],
    ids=["internal-entities", "external-entity", "external-dtd"],
)
def test_rdf_xml_with_a_dtd_is_refused(tmp_path: Path, doctype: str):
    path = tmp_path / "entities.rdf"
    path.write_text(
        f'<?xml version="1.0"?>\n{doctype}\n'
        f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="{EX}">'
        f'<rdf:Description rdf:about="{EX}a"><e:p>x</e:p></rdf:Description></rdf:RDF>'
    )
    outcome = validate(path)
    assert_refused(outcome, path, "DOCTYPE")
    assert outcome.error.startswith(f"{path}:2:")


def test_turtle_nested_deeply_parses_without_recursion(tmp_path: Path):
    """Oxigraph's Turtle parser does not recurse on [ ] and ( ): deep nesting validates."""
    path = tmp_path / "deep.ttl"
    depth = 20_000
    path.write_text(
        f"<{EX}a> <{EX}p> "
        + f"[ <{EX}p> " * depth
        + "(" * depth
        + ")" * depth
        + " ]" * depth
        + ".\n"
    )
    outcome = validate(path)
    assert outcome.code == 0, outcome.error


# -- nothing to validate -------------------------------------------------------------------------


def test_an_empty_file_is_nothing_to_validate(tmp_path: Path):
    path = tmp_path / "empty.ttl"
    path.write_text("")
    assert_refused(validate(path), path, "nothing to validate")


def test_a_file_with_only_comments_is_nothing_to_validate(tmp_path: Path):
    path = tmp_path / "comments.ttl"
    path.write_text(f"# no triples here\n@prefix e: <{EX}> .\n")
    assert_refused(validate(path), path, "no triples", "nothing to validate")


def test_an_empty_json_ld_file_is_nothing_to_validate_not_a_syntax_error(tmp_path: Path):
    path = tmp_path / "empty.jsonld"
    path.write_text("  \n")
    assert_refused(validate(path), path, "empty file: nothing to validate")


@pytest.mark.parametrize("content", [None, "readme.txt"], ids=["empty", "no-rdf-files"])
def test_a_folder_without_rdf_files_is_nothing_to_validate(tmp_path: Path, content):
    folder = tmp_path / "folder"
    folder.mkdir()
    if content:
        (folder / content).write_text("not RDF")
    assert_refused(validate(folder), folder, "no RDF file", "nothing to validate")


def test_a_folder_of_empty_rdf_files_is_nothing_to_validate(tmp_path: Path):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.ttl").write_text("")
    (folder / "b.jsonld").write_text("")
    assert_refused(validate(folder), folder, "nothing to validate")


def test_an_empty_file_among_others_in_a_folder_is_allowed(tmp_path: Path):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.ttl").write_text(TURTLE_TRIPLE)
    (folder / "placeholder.ttl").write_text("")
    assert validate(folder).code == 0


def test_the_default_mode_refuses_empty_input_too(tmp_path: Path):
    path = tmp_path / "empty.ttl"
    path.write_text("")
    assert_refused(validate(path, standalone=False), path, "nothing to validate")


# -- unreadable ----------------------------------------------------------------------------------


def test_a_fifo_is_refused_without_reading_it(tmp_path: Path):
    """Reading a FIFO nobody writes to would block for ever."""
    path = tmp_path / "pipe.ttl"
    os.mkfifo(path)
    assert_refused(validate(path), path, "not a regular file")


def test_a_symbolic_link_loop_is_refused(tmp_path: Path):
    path = tmp_path / "loop.ttl"
    path.symlink_to(tmp_path / "loop.ttl")
    assert validate(path).code == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_read_permission_is_refused(tmp_path: Path):
    path = tmp_path / "secret.ttl"
    path.write_text(TURTLE_TRIPLE)
    path.chmod(0)
    assert_refused(validate(path), path, "cannot read")


def test_a_file_name_with_a_space_validates(tmp_path: Path):
    """The file's named graph IRI is percent-encoded (a space is not allowed in an IRI)."""
    path = tmp_path / "with space.ttl"
    path.write_text(TURTLE_TRIPLE)
    outcome = validate(path)
    assert outcome.code == 0, outcome.error


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("binary.ttl", b"\x00\xff\xfe garbage \x80\x81"),
        ("latin1.ttl", f'<{EX}a> <{EX}p> "caf\xe9" .\n'.encode("latin-1")),
        ("binary.jsonld", b"\x00\xff{[\x80"),
        ("unterminated.jsonld", b'{"@id": "' + b"[" * 5000),
        ("array.jsonld", b"[[[[[]]]]]"),
        ("scalar.jsonld", b"42"),
        ("binary.rdf", b"\x00\xff<\x80"),
        ("not-rdf.rdf", b"<html><body>hello</body></html>"),
        ("binary.nq", b"\x00\xff\xfe"),
        ("bad-iri.nt", b"<not an iri> <p> <o> .\n"),
        ("bad-base.ttl", b"@base <relative> . <a> <b> <c> .\n"),
    ],
)
def test_garbage_never_raises(tmp_path: Path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    outcome = validate(path)
    assert outcome.code in (0, 1, 2)
    if outcome.code == 2:
        assert outcome.error.startswith(f"{path}") and "\n" not in outcome.error


# -- nothing fetched -----------------------------------------------------------------------------


@pytest.fixture
def recording_server():
    """An HTTP server on a loopback port that records every request and serves a context."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the name http.server calls
            hits.append(self.path)
            body = json.dumps({"@context": {"p": f"{EX}p"}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/ld+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", hits
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    "context",
    [
        lambda url: f"{url}/context.jsonld",
        lambda url: [f"{url}/context.jsonld"],
        lambda url: {"@import": f"{url}/context.jsonld", "q": f"{EX}q"},
    ],
    ids=["string", "array", "import"],
)
def test_a_remote_json_ld_context_is_never_fetched(tmp_path: Path, recording_server, context):
    url, hits = recording_server
    path = tmp_path / "remote.jsonld"
    path.write_text(json.dumps({"@context": context(url), "@id": f"{EX}a", "p": "x"}))
    outcome = validate(path)
    done = cli("validate", "--standalone", str(path))
    assert hits == []
    assert_refused(outcome, path, "never fetched")
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_the_console_script_prints_no_traceback_for_any_refusal(tmp_path: Path):
    cases = {
        "empty.ttl": b"",
        "bad.ttl": b"<a> <b> .\n",
        "deep.jsonld": b"[" * 500 + b"]" * 500,
        "dtd.rdf": b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>',
        "notes.txt": b"hello",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "empty-folder").mkdir()
    for name in [*cases, "empty-folder", "missing.ttl"]:
        done = cli("validate", str(tmp_path / name))
        assert done.returncode == 2, (name, done.stdout, done.stderr)
        assert done.stderr.startswith(str(tmp_path / name)), (name, done.stderr)
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, name
