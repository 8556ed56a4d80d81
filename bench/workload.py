"""The fixed workload: what is asked, and how two systems' answers are compared.

SPARQL part (sent identically to every system, POSTed as application/sparql-query):
- every named cross-convention question (`queries/*.rq` without the `api-` prefix; `rules/` are
  updates, not questions) with its defaults, as `treatygraph.queries` binds it;
- DESCRIBE of single IRIs: a convention, an article, a decision, a meeting and a Party, taken from
  the last copy of the scaled graph so that the larger graphs are really searched.
Web part (treatygraph only): the same IRIs dereferenced as Turtle and as HTML, paginated JSON
lists and a search.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass

import rdflib

from treatygraph import queries
from treatygraph.namespaces import BASE

SELECT_ACCEPT = "application/sparql-results+json"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
# Resources that exist in every copy of the graph (paths under id/).
DESCRIBED = [
    "minamata",
    "basel/article/11",
    "decision/BC-14/12",
    "stockholm/meeting/cop-10",
    "party/DEU",
]


@dataclass(frozen=True)
class Request:
    """One request of the mix: a SPARQL query (to any system) or a GET (treatygraph only)."""

    kind: str  # question | describe | deref-turtle | deref-html | json-list | search | ...
    label: str
    sparql: str = ""
    accept: str = SELECT_ACCEPT
    path: str = ""
    # SPARQL: POSTed (application/sparql-query), or sent as GET /sparql?query= ("GET").
    method: str = "POST"
    headers: tuple[tuple[str, str], ...] = ()
    # Send If-None-Match with the ETag of this request's last answer (a 304 counts as answered).
    conditional: bool = False

    @property
    def is_sparql(self) -> bool:
        return bool(self.sparql)


def copy_prefix(scale: int) -> str:
    """The id/ prefix of the last copy of a graph grown `scale` times ("" for the real graph)."""
    return f"x{scale - 1}/" if scale > 1 else ""


def question_requests() -> list[Request]:
    found = []
    for query in queries.load_all().values():
        if query.path.stem.startswith("api-"):
            continue
        found.append(Request("question", query.name, sparql=query.bind({})))
    return sorted(found, key=lambda r: r.label)


def sparql_mix(scale: int) -> list[Request]:
    """The SPARQL requests, in a fixed order."""
    prefix = copy_prefix(scale)
    describes = [
        Request(
            "describe",
            f"DESCRIBE {path}",
            sparql=f"DESCRIBE <{BASE}id/{prefix}{path}>",
            accept=GRAPH_ACCEPT,
        )
        for path in DESCRIBED
    ]
    return question_requests() + describes


# The web mix measures evaluation: the service may answer a GET it answered before from memory
# (until the next write), and `no-cache` asks it not to.
NO_CACHE = (("Cache-Control", "no-cache"),)


def web_mix(scale: int) -> list[Request]:
    """The requests only treatygraph answers: linked data, pages, JSON lists, search; each sent
    with `Cache-Control: no-cache`, so that it is evaluated, not remembered."""
    prefix = copy_prefix(scale)
    found = []
    for path in DESCRIBED:
        found.append(
            Request(
                "deref-turtle",
                f"GET /id/{path} (Turtle)",
                accept="text/turtle",
                path=f"/id/{prefix}{path}",
                headers=NO_CACHE,
            )
        )
        found.append(
            Request(
                "deref-html",
                f"GET /id/{path} (HTML)",
                accept="text/html",
                path=f"/id/{prefix}{path}",
                headers=NO_CACHE,
            )
        )
    for path in (
        "/api/conventions",
        "/api/meetings?limit=20&offset=20",
        "/api/decisions?limit=50&offset=100",
        "/api/links?limit=50",
    ):
        found.append(
            Request(
                "json-list", f"GET {path}", accept="application/json", path=path, headers=NO_CACHE
            )
        )
    for text in ("mercury", "waste"):
        path = f"/api/search?q={text}&limit=20"
        found.append(
            Request("search", f"GET {path}", accept="application/json", path=path, headers=NO_CACHE)
        )
    return found


# Texts the search mix looks for: words found in a tenth of the graph (waste, article), rarer
# ones, several words, a text found nowhere, and a deep page; and (a kind of its own) a word too
# short for the trigram index, which is answered by reading every value.
SEARCHES = (
    ("waste", 0),
    ("mercury", 0),
    ("article", 0),
    ("basel convention", 0),
    ("guidelines mercury", 0),
    ("technical guidelines environmentally sound management", 0),
    ("zzzqq", 0),
    ("basel convention", 2000),
)
SHORT_WORD_SEARCHES = ("co",)


def search_mix(scale: int, short_words: bool = False) -> list[Request]:
    """GET /api/search (first pages of 20, and a deep one), with `Cache-Control: no-cache`; or,
    with `short_words`, the searches for words too short for the index (timed apart: each reads
    every value, and would hold the others up)."""
    if short_words:
        return [
            Request("search, words under 3 characters", f"search {text!r}",
                    accept="application/json", path=f"/api/search?q={text}&limit=20",
                    headers=NO_CACHE)
            for text in SHORT_WORD_SEARCHES
        ]  # fmt: skip
    found = []
    for text, offset in SEARCHES:
        path = f"/api/search?q={text.replace(' ', '%20')}&limit=20&offset={offset}"
        found.append(
            Request("search", f"search {text!r} from {offset}", accept="application/json",
                    path=path, headers=NO_CACHE)
        )  # fmt: skip
    return found


# -- comparing answers ---------------------------------------------------------------------------

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _term(binding: dict) -> tuple:
    kind = binding["type"]
    if kind == "bnode":
        return ("bnode",)
    if kind == "typed-literal":  # the SPARQL 1.0 spelling some servers still write
        kind = "literal"
    datatype = binding.get("datatype")
    if datatype == XSD_STRING:
        datatype = None
    lang = binding.get("xml:lang")
    return (kind, binding["value"], datatype, lang.lower() if lang else None)


def normalise_select(body: bytes) -> Counter:
    """SPARQL JSON results as a multiset of rows (order and blank node labels ignored)."""
    data = json.loads(body)
    if "boolean" in data:
        return Counter([("boolean", data["boolean"])])
    names = data["head"].get("vars", [])
    rows = Counter()
    for binding in data["results"]["bindings"]:
        rows[tuple((n, _term(binding[n])) if n in binding else (n, None) for n in names)] += 1
    return rows


RDF_PARSERS = {
    "application/n-triples": "nt",
    "text/plain": "nt",
    "text/turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/ld+json": "json-ld",
}


def normalise_graph(body: bytes, content_type: str) -> frozenset:
    """An RDF answer as a set of triples with blank nodes blanked (DESCRIBE has none here)."""
    media = content_type.split(";")[0].strip().lower()
    fmt = RDF_PARSERS.get(media, "turtle")
    if body.lstrip().startswith(b"<?xml") or body.lstrip().startswith(b"<rdf:RDF"):
        fmt = "xml"  # rdflib-endpoint answers DESCRIBE in RDF/XML under a results media type
    graph = rdflib.Graph()
    graph.parse(io.BytesIO(body), format=fmt)
    out = set()
    for triple in graph:
        out.add(tuple("_:" if isinstance(t, rdflib.BNode) else t.n3() for t in triple))
    return frozenset(out)


def normalise(request: Request, body: bytes, content_type: str):
    if request.accept == SELECT_ACCEPT:
        return normalise_select(body)
    return normalise_graph(body, content_type)


def difference(a, b) -> str:
    """'' when two normalised answers are the same, else a short account of how they differ."""
    if a == b:
        return ""
    if isinstance(a, Counter) and isinstance(b, Counter):
        only_a, only_b = a - b, b - a
        return (
            f"{sum(a.values())} vs {sum(b.values())} rows; "
            f"{sum(only_a.values())} only in the first (e.g. {next(iter(only_a), None)}), "
            f"{sum(only_b.values())} only in the second (e.g. {next(iter(only_b), None)})"
        )
    only_a, only_b = a - b, b - a
    return (
        f"{len(a)} vs {len(b)} triples; {len(only_a)} only in the first "
        f"(e.g. {next(iter(only_a), None)}), {len(only_b)} only in the second "
        f"(e.g. {next(iter(only_b), None)})"
    )
