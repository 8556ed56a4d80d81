"""The SPARQL editor (YASGUI, from npm) and the API explorer (Swagger UI, from npm) are served
from this origin: /sparql's page has its own policy, widened by exactly the two stylesheets
YASGUI's result table inserts (by hash), and /docs loads nothing from a CDN."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest

from treatygraph import queries
from treatygraph.api import edge, pages

NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
YASGUI = NODE_MODULES / "@zazuko" / "yasgui" / "build" / "yasgui.min.js"


def digest(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


@pytest.mark.skipif(not YASGUI.is_file(), reason="node_modules missing (make setup)")
def test_the_editor_policy_allows_exactly_the_stylesheets_yasgui_inserts():
    source = YASGUI.read_text(encoding="utf-8")
    fixed = re.findall(r"createStyle\(\w+,`([^`]*)`\)", source)
    cursor = re.findall(r"dragCursor:`([^`]*)`", source)
    assert len(fixed) == 1 and cursor == ["col-resize"]
    inserted = {digest(fixed[0]), digest("*{cursor:" + cursor[0] + "!important}")}
    assert inserted == set(pages.EDITOR_STYLE_HASHES)


def test_the_editor_page_and_its_policy(http):
    page = http.get("/sparql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert policy == pages.EDITOR_CSP
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert '<script src="/vendor/@zazuko/yasgui/build/yasgui.min.js"></script>' in page.text
    assert 'href="/vendor/@zazuko/yasgui/build/yasgui.min.css"' in page.text
    assert 'data-endpoint="/sparql"' in page.text
    # The other pages and the endpoint's own answers keep theirs.
    assert http.get("/").headers["content-security-policy"] == edge.PAGE_CSP
    turtle = http.get("/sparql", headers={"Accept": "text/turtle"})
    assert turtle.headers["content-security-policy"] == edge.DATA_CSP
    answer = http.get("/sparql", params={"query": "ASK {}"}, headers={"Accept": "text/html"})
    assert "sha256" not in answer.headers["content-security-policy"]


def test_the_editor_offers_the_named_questions_as_examples(http):
    examples = http.get("/sparql/examples").json()
    named = {q.name: q for q in queries.load_all().values() if not q.internal}
    assert {e["name"] for e in examples} == set(named)
    for example in examples:
        assert example["query"] == named[example["name"]].text
    page = http.get("/sparql", headers={"Accept": "text/html"}).text
    for name in named:
        assert f'<option value="{name}">' in page


def test_the_api_explorer_loads_swagger_ui_from_this_origin(http):
    page = http.get("/docs")
    assert page.status_code == 200
    assert "cdn.jsdelivr.net" not in page.text and "fastapi.tiangolo.com" not in page.text
    assert '<script src="/vendor/swagger-ui-dist/swagger-ui-bundle.js"></script>' in page.text
    assert 'href="/vendor/swagger-ui-dist/swagger-ui.css"' in page.text
    policy = page.headers["content-security-policy"]
    assert "https:" not in policy and "http:" not in policy
    assert '"validatorUrl": null' in page.text
    if (NODE_MODULES / "swagger-ui-dist").is_dir():
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"):
            assert http.get(f"/vendor/swagger-ui-dist/{asset}").status_code == 200, asset
