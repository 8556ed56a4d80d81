"""Hostile uploads: a 4xx naming the limit, the server unharmed, nothing stored changed.

Uploads are parsed in a sandboxed worker, after checks made before parsing (JSON-LD nesting,
RDF/XML DTDs) and with bounds checked while parsing (triples, term length).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import WRITE_TOKEN, Server, _copy
from treatygraph import uploads

AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
GRAPH = "http://example.org/uploads"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE r [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">
 <rdf:Description rdf:about="http://a"><e:p>&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;</e:p></rdf:Description>
</rdf:RDF>"""

REMOTE_CONTEXT = b'{"@context": "http://127.0.0.1:9/ctx", "@id": "http://a"}'


def nested_jsonld(levels: int) -> bytes:
    return (
        '{"@id": "http://a", ' + '"http://b": {' * levels + '"@id": "http://c"' + "}" * levels + "}"
    ).encode()


@pytest.fixture(scope="module")
def writable(built_store, tmp_path_factory) -> Iterator[Server]:
    store = _copy(built_store, tmp_path_factory.mktemp("uploads") / "store")
    running = Server(store, store.parent / "server.log", write_token=WRITE_TOKEN).start()
    yield running
    running.stop()


def _count(http) -> int:
    answer = http.get("/sparql", params={"query": COUNT})
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize(
    ("body", "media_type", "status", "names"),
    [
        (nested_jsonld(5_000), "application/ld+json", 413, "deeper than the limit"),
        (b"[" * 20_000 + b"]" * 20_000, "application/ld+json", 413, "deeper than the limit"),
        (BILLION_LAUGHS, "application/rdf+xml", 400, "DOCTYPE"),
        (b"<http://a> <http://b> <http://c", "text/turtle", 400, "not valid text/turtle"),
        (b"\xff\xfe<http://a>", "application/n-triples", 400, "not valid"),
        (REMOTE_CONTEXT, "application/ld+json", 400, "context"),
    ],
    ids=["jsonld-objects", "jsonld-arrays", "entities", "turtle-cut", "bad-bytes", "remote-ctx"],
)  # fmt: skip
def test_a_hostile_upload_is_refused_and_nothing_changes(writable, body, media_type, status, names):
    with writable.client() as http:
        before = _count(http)
        for method in ("PUT", "POST"):
            answer = http.request(
                method,
                "/rdf-graphs/service",
                params={"graph": GRAPH},
                content=body,
                headers={**AUTH, "Content-Type": media_type},
            )
            assert answer.status_code == status, answer.text
            assert names in answer.text
        # Multipart, as a form upload would send it.
        answer = http.post(
            "/rdf-graphs/service",
            params={"graph": GRAPH},
            files={"file": ("x", body, media_type)},
            headers=AUTH,
        )
        assert answer.status_code == status, answer.text
        assert _count(http) == before
        assert http.get("/sparql", params={"query": "ASK {}"}).status_code == 200


def test_a_good_upload_still_lands(writable):
    with writable.client() as http:
        answer = http.put(
            "/rdf-graphs/service",
            params={"graph": GRAPH + "/good"},
            content=b'<http://a> <http://b> "c" .',
            headers={**AUTH, "Content-Type": "text/turtle"},
        )
        assert answer.status_code in (201, 204)
        got = http.get("/rdf-graphs/service", params={"graph": GRAPH + "/good"})
        assert '"c"' in got.text


def test_the_parsing_bounds_name_their_limit():
    """The bounds checked while parsing (a body within the HTTP limit rarely reaches them)."""
    limits = uploads.UploadLimits(max_depth=8, max_triples=3, max_term_bytes=100)
    many = b"".join(b"<http://a> <http://b> <http://c%d> .\n" % i for i in range(4))
    with pytest.raises(uploads.UploadRefused, match="limit of 3 triples") as refused:
        uploads.read(many, "application/n-triples", "http://base/", limits)
    assert refused.value.status == 413
    long = b'<http://a> <http://b> "' + b"x" * 101 + b'" .'
    with pytest.raises(uploads.UploadRefused, match="limit of 100 bytes"):
        uploads.read(long, "text/turtle", "http://base/", limits)
    with pytest.raises(uploads.UploadRefused, match="limit of 8 levels"):
        uploads.read(nested_jsonld(9), "application/ld+json", "http://base/", limits)
    # Brackets inside JSON strings are not nesting.
    text = b'{"@id": "http://a", "http://b": "[[[[[[[[[[{{{{{{{{{{"}'
    assert b"[[[[" in uploads.read(text, "application/ld+json", "http://base/", limits)
