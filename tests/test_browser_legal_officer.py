"""A legal officer at work, in a real browser: headless Debian Chromium driven by Playwright for
Python (never `playwright install`: the system's /usr/bin/chromium).

From the home page, each of three questions is answered in at most four clicks, and the answer on
the page is checked against the same question asked through the command line (the named question
on the same store) or the JSON API, never against answers written here. Every page is captured at
1280 and 390 px wide (under the test's temporary directory), axe-core (npm, injected by the test)
finds no serious or critical violation on the home, search, decision, article, Party and question
pages, the pages break no rule of their Content-Security-Policy, and no request goes to any host
but the service.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from conftest import mark_fresh

playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NODE_MODULES = Path(__file__).resolve().parents[1] / "node_modules"
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = (1280, 390)
ID = "https://w3id.org/treatygraph/id/"
CLICKS = 4  # at most, from the home page to the answer
# Reported by the page itself: any rule of its policy the browser had to enforce.
WATCH_POLICY = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (scripts/system-deps.sh)"),
    pytest.mark.skipif(
        not (NODE_MODULES / "cytoscape").is_dir() or not AXE.is_file(),
        reason="node_modules missing (make setup runs npm ci)",
    ),
]


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


class Officer:
    """One browser tab: counts the clicks, records every request, captures every page."""

    def __init__(self, browser, server, shots: Path, width: int):
        self.server = server
        self.origin = server.url
        self.shots = shots
        self.width = width
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.context.add_init_script(WATCH_POLICY)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.clicks = 0
        self.visited: list[str] = []

    def open(self, path: str) -> None:
        self.page.goto(self.origin + path)
        self.settle()

    def click(self, locator) -> None:
        self.clicks += 1
        locator.first.click()
        self.settle()

    def settle(self) -> None:
        self.page.wait_for_load_state("networkidle")
        url = urlsplit(self.page.url)
        self.visited.append(url.path + ("?" + url.query if url.query else ""))
        name = f"{len(self.visited):02d}{url.path.replace('/', '_') or '_home'}-{self.width}.png"
        self.page.screenshot(path=str(self.shots / name[:120]), full_page=True)
        violations = self.page.evaluate("window.__violations || []")
        assert not violations, (url.path, violations)

    def table(self, selector: str) -> list[list[dict]]:
        """The rows of a table: each cell's text and the links in it."""
        return self.page.eval_on_selector_all(
            f"{selector} tbody tr",
            """rows => rows.map(r => [...r.children].map(c => ({
                text: c.innerText.trim(),
                links: [...c.querySelectorAll('a')].map(a => a.getAttribute('href')),
            })))""",
        )

    def close(self) -> None:
        foreign = [
            u for u in self.requests if not u.startswith(self.origin + "/") and u != self.origin
        ]
        foreign = [u for u in foreign if not u.startswith(("data:", "blob:"))]
        assert not foreign, foreign
        assert not self.errors, self.errors
        self.context.close()


@pytest.fixture(params=WIDTHS, ids=lambda w: f"{w}px")
def officer(request, browser, server, tmp_path):
    shots = tmp_path / "screenshots"
    shots.mkdir()
    person = Officer(browser, server, shots, request.param)
    yield person
    person.close()
    assert list(shots.glob("*.png"))


def cli(server, *arguments: str) -> list[dict]:
    """The named question asked on the command line, of the store the service serves."""
    mark_fresh(server.store)  # data/ may have changed since: ask the store as it was built
    script = Path(sys.executable).with_name("treatygraph")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "treatygraph.cli"]
    done = subprocess.run(
        [*command, "query", *arguments, "--format", "json", "--store", str(server.store)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# -- three questions, from the home page --------------------------------------------------------


def test_which_2023_decisions_concern_cooperation_with_minamata(officer, server):
    officer.open("/")
    officer.click(
        officer.page.get_by_role(
            "link", name="Which 2023 decisions concern cooperation with the Minamata Convention?"
        )
    )
    expected = cli(
        server, "cooperation-decisions-in-year", "-p", "year=2023", "-p", "partner=minamata"
    )
    rows = officer.table("#answer")
    assert [r[0]["text"] for r in rows] == [e["symbol"] for e in expected]
    assert [r[0]["links"][0] for r in rows] == [
        "/id/" + e["decision"].removeprefix(ID) for e in expected
    ]
    assert officer.page.locator("p.coverage").first.is_visible()
    # The first decision, its map drawn and its citation offered.
    officer.click(officer.page.locator("#answer tbody tr a").first)
    assert urlsplit(officer.page.url).path == "/id/decision/" + expected[0]["symbol"]
    officer.page.wait_for_selector("#linkmap.drawn")
    assert int(officer.page.get_attribute("#linkmap", "data-nodes")) >= 2
    assert expected[0]["decision"] in officer.page.inner_text("#citation-text")
    assert officer.clicks <= CLICKS


def test_which_parties_to_basel_are_not_parties_to_minamata_today(officer, server):
    today = date.today().isoformat()
    officer.open("/")
    officer.click(
        officer.page.get_by_role(
            "link",
            name="Which Parties to the Basel Convention are not Parties to the Minamata "
            "Convention today?",
        )
    )
    assert officer.page.input_value("#p-date") == today
    expected = cli(
        server,
        "party-gaps",
        "-p",
        "instrument=basel",
        "-p",
        "other=minamata",
        "-p",
        f"date={today}",
    )
    rows = officer.table("#answer")
    assert sorted(r[0]["links"][0] for r in rows) == sorted(
        "/parties/" + e["iso3"] for e in expected
    )
    assert [r[1]["text"] for r in rows] == [e["iso3"] for e in expected]
    # The same through the Parties list: two filters chosen, one click on Show.
    officer.click(
        officer.page.get_by_role("navigation", name="Main").get_by_role("link", name="Parties")
    )
    officer.page.select_option("#f-party-to", "basel")
    officer.page.select_option("#f-not-party-to", "minamata")
    officer.click(officer.page.get_by_role("button", name="Show"))
    listed = officer.table("#list")
    assert sorted(r[1]["text"] for r in listed) == sorted(e["iso3"] for e in expected)
    # One of them: its Party page says it is bound by Basel and not by Minamata today.
    officer.click(officer.page.locator("#list tbody tr a").first)
    basel = officer.page.locator(f'#status tr[data-instrument="{ID}basel"] td.today')
    assert basel.inner_text().strip() == "bound"
    minamata = officer.page.locator(f'#status tr[data-instrument="{ID}minamata"] td.today')
    assert minamata.count() == 0 or minamata.inner_text().strip() == "not bound"
    assert officer.clicks <= CLICKS


def test_which_article_points_to_which_guideline_and_what_adopted_its_current_version(
    officer, server, http
):
    officer.open("/")
    officer.click(
        officer.page.get_by_role(
            "link",
            name="Which article of which convention points to which technical guideline, and "
            "which decision adopted its current version?",
        )
    )
    rows = officer.table("#list")
    # The same question through the JSON API: every article's links to a guideline (or to one of
    # its versions), and each guideline's versions with the decisions that adopted them.
    guidelines = {
        g["iri"]: g for g in http.get("/api/guidelines", params={"limit": 500}).json()["items"]
    }
    version_of = {v["iri"]: g for g in guidelines.values() for v in g["versions"]}
    expected: dict[str, set[str]] = {}
    for convention in ("basel", "rotterdam", "stockholm", "minamata"):
        articles = http.get(f"/api/conventions/{convention}/articles", params={"limit": 500})
        for article in articles.json()["items"]:
            number = article["number"]
            detail = http.get(f"/api/articles/{convention}/{quote(number)}").json()
            for link in detail["linksOut"]:
                target = link["target"]["iri"]
                guideline = guidelines.get(target) or version_of.get(target)
                if guideline:
                    expected.setdefault(guideline["iri"], set()).add(article["iri"])
    assert expected, "no article points to a technical guideline"
    shown = {"https://w3id.org/treatygraph" + r[0]["links"][0]: r for r in rows}
    assert set(shown) == set(expected)
    for iri, articles in expected.items():
        row = shown[iri]
        assert {"https://w3id.org/treatygraph" + h for h in row[5]["links"]} == articles
        versions = guidelines[iri]["versions"]
        replaced = {(v.get("previousVersion") or {}).get("iri") for v in versions}
        current = max(
            (v for v in versions if v["iri"] not in replaced),
            key=lambda v: (v.get("dateAdopted") or "", v["iri"]),
        )
        assert row[3]["links"] == ["/id/" + current["id"]]
        if current.get("decision"):
            assert row[4]["links"][0] == "/id/" + current["decision"]["id"]
        else:
            assert "adopting decision not recorded" in row[4]["text"]
    # Follow it: the article, then the guideline on the article's map (a node is clickable).
    guideline, articles = next(iter(expected.items()))
    officer.click(
        officer.page.locator(f'#list a[href="/id/{sorted(articles)[0].removeprefix(ID)}"]')
    )
    officer.page.wait_for_selector("#linkmap.drawn")
    officer.page.locator("#linkmap").scroll_into_view_if_needed()
    box = officer.page.locator("#linkmap").bounding_box()
    at = officer.page.evaluate(
        "(id) => window.treatygraphMap.getElementById(id).renderedPosition()", guideline
    )
    officer.clicks += 1
    with officer.page.expect_navigation():
        officer.page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
    officer.settle()
    assert urlsplit(officer.page.url).path == "/id/" + guideline.removeprefix(ID)
    assert officer.clicks <= CLICKS


# -- accessibility -----------------------------------------------------------------------------

AXE_PAGES = {
    "home": "/",
    "search": "/search?q=mercury",
    "decision": "/id/decision/BC-16/21",
    "article": "/id/minamata/article/11",
    "Party": "/parties/JPN",
    "question": "/questions/party-gaps",
}


def test_no_serious_or_critical_accessibility_violations(officer):
    source = AXE.read_text(encoding="utf-8")
    found = {}
    for name, path in AXE_PAGES.items():
        officer.open(path)
        officer.page.evaluate(source + "\n;true")  # injected by the test, not served
        violations = officer.page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
                .map(v => ({
                    id: v.id,
                    impact: v.impact,
                    nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5),
                }))"""
        )
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        if bad:
            found[name] = bad
    assert not found, found


# -- the SPARQL editor and the API explorer -----------------------------------------------------


def test_the_sparql_editor_runs_a_named_question_and_shows_a_table(officer, http):
    officer.open("/")
    officer.click(
        officer.page.get_by_role(
            "link", name="Which 2023 decisions concern cooperation with the Minamata Convention?"
        )
    )
    officer.click(officer.page.get_by_role("link", name="open it in the SPARQL editor"))
    assert urlsplit(officer.page.url).path == "/sparql"
    officer.page.wait_for_selector(
        ".yasr table.dataTable tbody tr, .yasr .dataTables_empty", timeout=20000
    )
    text = officer.page.evaluate("window.treatygraphEditor.getTab().getQuery()")
    assert "cooperation" in text.lower() and "VALUES ?year" in text
    expected = http.get(
        "/sparql", params={"query": text}, headers={"Accept": "application/sparql-results+json"}
    ).json()["results"]["bindings"]
    shown = officer.page.locator(".yasr table.dataTable tbody tr").count()
    assert shown == len(expected) > 0
    # Resizing a column (YASGUI adds a stylesheet meanwhile: allowed by its hash alone).
    grip = officer.page.locator(".grip-handle").first
    if grip.count():
        box = grip.bounding_box()
        officer.page.mouse.move(box["x"] + 2, box["y"] + 2)
        officer.page.mouse.down()
        officer.page.mouse.move(box["x"] + 40, box["y"] + 2)
        officer.page.mouse.up()
    assert officer.page.evaluate("window.__violations") == []
    # The examples are the named questions.
    officer.page.select_option("#example", "party-gaps")
    assert "party-gaps" in officer.page.evaluate("window.treatygraphEditor.getTab().getQuery()")


def test_the_api_explorer_works_offline(officer):
    officer.open("/docs")
    officer.page.wait_for_selector(".swagger-ui .info .title", timeout=20000)
    assert "treatygraph" in officer.page.inner_text(".swagger-ui .info .title")
    assert officer.page.locator(".opblock").count() > 10
