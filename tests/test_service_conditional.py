"""Conditional GET: every answer carries an ETag and Last-Modified from the dataset's version; a
matching If-None-Match or If-Modified-Since gets 304; a write changes the version."""

from __future__ import annotations

from tests.conftest import WRITE_TOKEN

AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def test_answers_carry_validators_and_a_match_gets_304(http):
    for path, params in (
        ("/api/decisions", {"limit": "5"}),
        ("/sparql", {"query": COUNT}),
        ("/id/minamata/article/11", {}),
        ("/", {}),
    ):
        first = http.get(path, params=params)
        assert first.status_code == 200
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        again = http.get(path, params=params)
        assert again.headers["etag"] == etag
        assert again.content == first.content
        same = http.get(path, params=params, headers={"If-None-Match": etag})
        assert same.status_code == 304 and same.content == b""
        assert same.headers["etag"] == etag
        since = http.get(path, params=params, headers={"If-Modified-Since": modified})
        assert since.status_code == 304
        other = http.get(path, params=params, headers={"If-None-Match": '"something-else"'})
        assert other.status_code == 200


def test_each_representation_has_its_own_etag(http):
    query = {"query": COUNT}
    json = http.get("/sparql", params=query, headers={"Accept": "application/sparql-results+json"})
    csv = http.get("/sparql", params=query, headers={"Accept": "text/csv"})
    assert json.headers["etag"] != csv.headers["etag"]
    assert csv.headers["content-type"].startswith("text/csv")
    # A remembered answer is served with its own media type and the security headers.
    again = http.get("/sparql", params=query, headers={"Accept": "text/csv"})
    assert again.headers["content-type"].startswith("text/csv")
    assert again.headers["x-content-type-options"] == "nosniff"


def test_an_answer_that_may_change_between_runs_has_no_etag(http):
    answer = http.get("/sparql", params={"query": "SELECT (NOW() AS ?t) (RAND() AS ?r) {}"})
    assert answer.status_code == 200
    assert "etag" not in answer.headers


def test_a_write_changes_the_version_and_the_answer(writable_server):
    with writable_server.client() as http:
        before = http.get("/sparql", params={"query": COUNT})
        etag = before.headers["etag"]
        n = int(before.json()["results"]["bindings"][0]["n"]["value"])
        insert = 'INSERT DATA { GRAPH <http://example.org/w> { <http://a> <http://b> "c" } }'
        assert http.post("/update", data={"update": insert}, headers=AUTH).status_code == 204
        after = http.get("/sparql", params={"query": COUNT}, headers={"If-None-Match": etag})
        assert after.status_code == 200
        assert after.headers["etag"] != etag
        assert int(after.json()["results"]["bindings"][0]["n"]["value"]) == n + 1
