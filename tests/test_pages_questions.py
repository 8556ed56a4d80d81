"""The named questions as forms a person fills: a dropdown, a date picker or a field with
suggestions per parameter (never an IRI to type), sensible defaults (today for dates), and the
answer as a table with human column names and links, and the same answer as CSV, JSON and SPARQL.

Answers are compared with the same question asked of the SPARQL endpoint (the named query bound
with the same values), not with numbers written here.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urlsplit

from treatygraph import queries

ID = "https://w3id.org/treatygraph/id/"
SOURCE = ID + "source/ieadb-2026-01"


class Form(HTMLParser):
    """The fields of a page's question form, and its answer table."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, dict] = {}
        self.datalists: dict[str, list[tuple[str, str]]] = {}
        self.head: list[str] = []
        self.rows: list[list[dict]] = []
        self._select: str | None = None
        self._datalist: str | None = None
        self._option: dict | None = None
        self._table = False
        self._row: list | None = None
        self._cell: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("id", "").startswith("p-"):
            self.fields[a["name"]] = {"tag": "input", **a}
        elif tag == "select" and a.get("id", "").startswith("p-"):
            self.fields[a["name"]] = {"tag": "select", "options": [], **a}
            self._select = a["name"]
        elif tag == "datalist":
            self._datalist = a["id"]
            self.datalists[a["id"]] = []
        elif tag == "option":
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}
        elif tag == "table" and a.get("id") == "answer":
            self._table = True
        elif self._table and tag == "tr":
            self._row = []
        elif self._table and tag in ("td", "th"):
            self._cell = {"text": "", "links": []}
        elif self._cell is not None and tag == "a":
            self._cell["links"].append(a.get("href"))

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            if self._select:
                self.fields[self._select]["options"].append(self._option)
            elif self._datalist:
                self.datalists[self._datalist].append(
                    (self._option["value"], self._option["text"].strip())
                )
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "datalist":
            self._datalist = None
        elif tag in ("td", "th") and self._cell is not None:
            self._cell["text"] = " ".join(self._cell["text"].split())
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row and not self.head and all(isinstance(c, dict) for c in self._row):
                self.head = [c["text"] for c in self._row]
            else:
                self.rows.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = False

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._cell is not None:
            self._cell["text"] += data


def form_of(html: str) -> Form:
    parser = Form()
    parser.feed(html)
    return parser


def ask(http, name: str, values: dict) -> list[dict]:
    """The question asked of the SPARQL endpoint, with values already IRIs or literals."""
    text = queries.get(name).bind(values)
    answer = http.get(
        "/sparql", params={"query": text}, headers={"Accept": "application/sparql-results+json"}
    )
    assert answer.status_code == 200, answer.text[:300]
    return answer.json()["results"]["bindings"]


def test_every_parameter_is_picked_never_typed_as_an_iri(http):
    for name in ("party-gaps", "articles-referring-to-convention", "guideline-versions",
                 "party-status", "cooperation-decisions-in-year", "parties-at-date"):  # fmt: skip
        page = http.get(f"/questions/{name}")
        assert page.status_code == 200, (name, page.text[:300])
        found = form_of(page.text)
        query = queries.get(name)
        assert set(found.fields) == set(query.params), name
        for param in query.params.values():
            field = found.fields[param.name]
            if param.type == "date":
                assert field["type"] == "date"
            elif param.type in ("year", "convention", "source"):
                assert field["tag"] == "select", (name, param.name)
                assert field["options"], (name, param.name)
            elif param.kind.looked_up:  # many values: a field with suggestions
                assert field["tag"] == "input" and field.get("list"), (name, param.name)
                options = found.datalists[field["list"]]
                assert options
            values = [o["value"] for o in field.get("options", [])]
            values += [v for v, _ in found.datalists.get(field.get("list", ""), [])]
            assert not [v for v in values if v and v.startswith(("http:", "https:"))], name
        # A label (or name) is shown for each choice, not only its id.
        for field in found.fields.values():
            for option in field.get("options", []):
                assert option["text"].strip()


def test_defaults_are_sensible_today_for_dates(http):
    today = date.today().isoformat()
    found = form_of(http.get("/questions/party-gaps").text)
    assert found.fields["date"]["value"] == today
    assert found.fields["instrument"]["placeholder"] == "basel"
    assert found.fields["other"]["placeholder"] == "minamata"
    source = [o for o in found.fields["source"]["options"] if o["selected"]]
    assert [o["value"] for o in source] == ["ieadb-2026-01"]
    year = form_of(http.get("/questions/cooperation-decisions-in-year").text).fields["year"]
    assert [o["value"] for o in year["options"] if o["selected"]] == ["2023"]
    convention = form_of(http.get("/questions/articles-referring-to-convention").text)
    chosen = [o["text"] for o in convention.fields["from"]["options"] if o["selected"]]
    assert chosen and "Minamata" in chosen[0]


def test_a_suggested_name_is_what_the_field_sends_back(http):
    # The field shows the instrument's name; sent back, the name answers as the short id does.
    by_id = http.get("/questions/party-gaps", params={"instrument": "basel", "other": "minamata"})
    found = form_of(by_id.text)
    assert found.fields["instrument"]["value"] == "Basel Convention"
    by_name = http.get(
        "/questions/party-gaps",
        params={"instrument": "Basel Convention", "other": "Minamata Convention"},
    )
    assert form_of(by_name.text).rows == found.rows


def test_the_answer_has_human_column_names_and_links(http):
    today = date.today().isoformat()
    page = http.get("/questions/party-gaps", params={"instrument": "basel", "other": "minamata"})
    found = form_of(page.text)
    assert found.head == ["Party", "ISO code", "In force since"]
    expected = ask(
        http,
        "party-gaps",
        {"instrument": ID + "basel", "other": ID + "minamata", "date": today, "source": SOURCE},
    )
    assert len(found.rows) == len(expected) > 0
    assert re.search(rf"<p>{len(expected)} results?</p>", page.text)
    links = sorted(row[0]["links"][0] for row in found.rows)
    assert links == sorted("/parties/" + b["party"]["value"].rsplit("/", 1)[-1] for b in expected)
    assert [row[0]["text"] for row in found.rows] == [b["partyLabel"]["value"] for b in expected]


def test_the_same_answer_as_csv_json_and_sparql(http):
    params = {"year": "2023", "partner": "minamata"}
    page = http.get("/questions/cooperation-decisions-in-year", params=params)
    found = form_of(page.text)
    expected = ask(
        http, "cooperation-decisions-in-year", {"year": "2023", "partner": ID + "minamata"}
    )
    assert [r[0]["text"] for r in found.rows] == [b["symbol"]["value"] for b in expected]
    assert "Coverage:" in page.text
    links = dict(
        re.findall(
            r'<a href="([^"]+)">(CSV|JSON|SPARQL|open it in the SPARQL editor)</a>', page.text
        )
    )
    by_name = {v: k.replace("&amp;", "&") for k, v in links.items()}
    as_csv = http.get(by_name["CSV"])
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["Decision"] for r in rows] == [b["symbol"]["value"] for b in expected]
    assert [r["Decision IRI"] for r in rows] == [b["decision"]["value"] for b in expected]
    as_json = http.get(by_name["JSON"])
    assert as_json.headers["content-type"].startswith("application/sparql-results+json")
    assert as_json.json()["results"]["bindings"] == expected
    as_sparql = http.get(by_name["SPARQL"])
    assert as_sparql.headers["content-type"].startswith("application/sparql-query")
    text = queries.get("cooperation-decisions-in-year").bind(
        {"year": "2023", "partner": ID + "minamata"}
    )
    assert as_sparql.text == text
    editor = urlsplit(by_name["open it in the SPARQL editor"])
    assert editor.path == "/sparql"
    assert parse_qs(unquote(editor.fragment))["query"] == [text] or (
        parse_qs(editor.fragment)["query"] == [text]
    )


def test_an_unknown_name_in_a_suggested_field_is_kept_with_the_message(http):
    page = http.get("/questions/party-gaps", params={"instrument": "Basle Convnetion"})
    assert page.status_code == 422
    assert form_of(page.text).fields["instrument"]["value"] == "Basle Convnetion"
    assert "did you mean" in page.text


def test_the_questions_index_lists_every_question(http):
    page = http.get("/questions").text
    for query in queries.load_all().values():
        if not query.internal:
            assert f'href="/questions/{query.name}"' in page
