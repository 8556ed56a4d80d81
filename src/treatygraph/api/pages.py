"""Web pages for people: home with search, lists with facets, the named questions as forms, the
Parties, the link graph, resource and ontology pages.

Pages are plain HTML from Jinja2 templates over the same named queries as the JSON API. Every IRI
minted under the base links to this service, so a reader can follow links from page to page.

Every list keeps its filters, its sort order and its page in the URL (a list can be shared as a
link), says how many of how many it shows, and is also CSV (`?format=csv`, same filters). Nothing
here needs JavaScript except the pictures (the link maps, drawn with Cytoscape.js) and the SPARQL
editor (YASGUI); both libraries come from npm and are served from node_modules under /vendor
(`vendor_files`), never from another host, and load under the pages' strict policy.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import rdflib
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from treatygraph import coverage, ontology_doc, parameters, queries
from treatygraph.api import api
from treatygraph.api.app import TG, Service, safe_href, service
from treatygraph.api.errors import ServiceError
from treatygraph.api.parties import SOURCES  # the two sources of Party status, by short name
from treatygraph.api.worker import Job
from treatygraph.build import ONTOLOGY_GRAPH
from treatygraph.inference import INFERRED_GRAPH
from treatygraph.sources import REPO_ROOT

router = APIRouter(include_in_schema=False)
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
MEETING = TG + "Meeting"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
PAGE_SIZE = 100  # the search page
PER_PAGE = 50  # lists: rows per page unless ?per= says otherwise
PER_PAGE_CHOICES = (25, 50, 100, 200, 500)
CONVENTIONS = ("basel", "rotterdam", "stockholm", "minamata")
SOURCE_NAMES = {"ieadb": "IEADB", "ecolex": "ECOLEX"}
YEAR = re.compile(r"^\d{4}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_TEXT = 200

# The front-end libraries: installed from npm at set-up time (package.json), served from here.
NODE_MODULES = REPO_ROOT / "node_modules"
VENDORED = ("cytoscape/dist/", "@zazuko/yasgui/build/", "swagger-ui-dist/")

# The typed links the link maps draw, in the order of their legend, with the words people read.
LINK_NAMES = {
    "refersTo": "refers to",
    "cooperatesWith": "cooperates with",
    "implements": "implements",
    "recalls": "recalls",
    "supersedes": "supersedes",
    "amends": "amends",
    "requests": "requests",
    "adoptedBy": "adopted by",
    "versionOf": "version of",
    "previousVersion": "previous version",
    "adoptedAt": "adopted at",
    "partOf": "part of",
    "linksTo": "links to",
}

# Column names of the named questions' answers, as a person reads them.
HEADERS = {
    "iso3": "ISO code",
    "iso2": "ISO code (2 letters)",
    "inForceSince": "In force since",
    "linkType": "Link",
    "dateAdopted": "Adopted",
    "startDate": "From",
    "endDate": "To",
    "jointWith": "Adopted jointly with",
    "consentKind": "Consent",
    "inForce": "In force",
    "ieadbDate": "IEADB date",
    "ecolexDate": "ECOLEX date",
    "official": "Official count",
    "inGraph": "In the graph",
    "highestNumber": "Highest number",
    "decisionTitle": "Decision title",
    "withMinamata": "With Minamata",
    "parties": "Parties",
}


# -- rendering ---------------------------------------------------------------------------------


def render(
    request: Request, name: str, headers: dict | None = None, status: int = 200, **context
) -> HTMLResponse:
    svc = service(request)
    context.setdefault("title", "treatygraph")
    context = {
        "svc": svc,
        "link": lambda iri: safe_href(svc.local(iri)),
        "path": request.url.path,
        **context,
    }
    return svc.templates.TemplateResponse(
        request, name, context, status_code=status, headers=headers
    )


def bad_request(request: Request, message: str, title: str = "Not understood") -> HTMLResponse:
    """A page (422) saying which value of the address was not understood."""
    return render(request, "message.html", status=422, title=title, message=message)


def cell(svc: Service, term, label: str | None = None) -> dict:
    """A table cell: text, and a link when the value is an http(s) IRI (other IRIs, such as
    `javascript:...`, are shown as text). A Party links to its Party page."""
    if term is None:
        return {"text": ""}
    if term.type == "uri":
        iri = term.value
        local = iri.startswith(svc.base)
        if label is None and iri.startswith(TG) and iri[len(TG) :] in LINK_NAMES:
            label = LINK_NAMES[iri[len(TG) :]]
        text = label or (svc.short_id(iri) if local else ontology_doc.curie(iri))
        href = svc.local(iri)
        party = re.fullmatch(re.escape(svc.id_base) + r"party/([A-Z]{3})", iri)
        if party:
            href = f"/parties/{party.group(1)}"
        return {"text": text, "href": safe_href(href), "iri": iri}
    return {"text": term.value}


def text_cell(value) -> dict:
    return {"text": "" if value is None else str(value)}


def natural(text: str) -> list:
    """A sort key that puts "paragraph 2" before "paragraph 10"."""
    return [
        (0, int(part), "") if part.isdigit() else (1, 0, part.lower())
        for part in re.split(r"(\d+)", text or "")
    ]


def human(name: str) -> str:
    """A column name for people: `inForceSince` -> "In force since"."""
    if name in HEADERS:
        return HEADERS[name]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()
    return words[:1].upper() + words[1:]


def short_label(label: str | None) -> str | None:
    """A meeting's abbreviation when its label ends with one: "... (BC COP-16)" -> "BC COP-16"."""
    if not label:
        return label
    found = re.search(r"\(([^()]+)\)\s*$", label)
    return found.group(1) if found else label


def today() -> str:
    return date.today().isoformat()


# -- lists: filters in the address, sorting, pages, N of M, CSV ---------------------------------


@dataclass
class Column:
    key: str  # the sort key (?sort=key or -key); "" when the column does not sort
    header: str
    kind: str = ""  # "date": kept on one line


@dataclass
class Facet:
    name: str
    label: str
    kind: str  # select | text | date
    value: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    any_label: str = "any"  # the empty option of a select ("" for none)


@dataclass
class Listing:
    """What a list page shows: its rows (cells) and how they came to be."""

    title: str
    noun: str  # "decisions"
    columns: list[Column]
    rows: list[list[dict]]
    total: int  # rows matching the filters
    overall: int  # rows without filters
    page: int
    per: int
    sort: str
    facets: list[Facet]
    intro: str = ""
    coverage: dict | None = None
    extra: dict = field(default_factory=dict)
    paged: bool = False  # the rows are this page's already (the store paged them)


def address(request: Request, **changes) -> str:
    """This page's address with some parameters changed (None or "" removes one)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v not in (None, "")]
    params = [(k, v) for k, v in params if v != ""]
    query = urlencode(params)
    return request.url.path + ("?" + query if query else "")


def check_paging(page: int, per: int) -> None:
    if page < 1 or page > 100_000:
        raise ServiceError(422, "page must be a positive number")
    if per not in PER_PAGE_CHOICES:
        choices = ", ".join(map(str, PER_PAGE_CHOICES))
        raise ServiceError(422, f"per (rows per page) must be one of {choices}")


def check_sort(sort: str, columns: list[Column]) -> str:
    keys = {c.key for c in columns if c.key}
    if sort.lstrip("-") not in keys:
        raise ServiceError(422, f"sort must be one of {', '.join(sorted(keys))} (or -key)")
    return sort


def check_text(value: str | None, name: str) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > MAX_TEXT:
        raise ServiceError(422, f"{name} is longer than {MAX_TEXT} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ServiceError(422, f"{name} must not contain control characters")
    return value


def check_year(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not YEAR.match(value):
        raise ServiceError(422, f"year must be a year such as 2023, got {value!r}")
    return value


def check_date(value: str | None, name: str = "at") -> str:
    if value is None or value == "":
        return today()
    try:
        if not ISO_DATE.match(value):
            raise ValueError
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise ServiceError(422, f"{name} must be a date YYYY-MM-DD, got {value!r}") from None


def sort_rows(rows: list, sort: str, keys: dict) -> list:
    """Rows (any objects) sorted by one of `keys` (name -> key function); `-name` descends."""
    key = keys[sort.lstrip("-")]
    return sorted(rows, key=key, reverse=sort.startswith("-"))


def respond(request: Request, listing: Listing, fmt: str | None) -> Response:
    """The list as a page, or as CSV (every row, the same filters and order)."""
    if fmt == "csv":
        return csv_response(listing)
    if fmt not in (None, "", "html"):
        raise ServiceError(422, "format must be csv (or html)")
    start = (listing.page - 1) * listing.per
    pages = max(1, (listing.total + listing.per - 1) // listing.per)
    heads = []
    for column in listing.columns:
        sorted_as = None
        if column.key and listing.sort.lstrip("-") == column.key:
            sorted_as = "descending" if listing.sort.startswith("-") else "ascending"
        flip = ("" if sorted_as == "descending" else "-") if sorted_as else ""
        heads.append(
            {
                "header": column.header,
                "href": address(request, sort=flip + column.key, page=None) if column.key else None,
                "sorted": sorted_as,
                "kind": column.kind,
            }
        )
    return render(
        request,
        "list.html",
        title=listing.title,
        listing=listing,
        heads=heads,
        rows=listing.rows if listing.paged else listing.rows[start : start + listing.per],
        first=start + 1 if listing.total else 0,
        last=min(start + listing.per, listing.total),
        pages=pages,
        previous=address(request, page=listing.page - 1) if listing.page > 1 else None,
        next=address(request, page=listing.page + 1) if listing.page < pages else None,
        csv=address(request, format="csv", page=None),
        per_choices=PER_PAGE_CHOICES,
        reset=request.url.path,
    )


def csv_response(listing: Listing) -> Response:
    """Every row of the list as CSV: the text people read, and beside each column of links the
    full IRIs (`<column> IRI`)."""
    with_iris = [any(_iris(row[i]) for row in listing.rows) for i in range(len(listing.columns))]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = []
    for column, iris in zip(listing.columns, with_iris, strict=True):
        header.append(column.header)
        if iris:
            header.append(f"{column.header} IRI")
    writer.writerow(header)
    for row in listing.rows:
        line = []
        for value, iris in zip(row, with_iris, strict=True):
            line.append(_text(value))
            if iris:
                line.append(" ".join(_iris(value)))
        writer.writerow(line)
    name = re.sub(r"[^a-z0-9]+", "-", listing.noun.lower()).strip("-") or "list"
    return Response(
        out.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _text(value: dict) -> str:
    if "many" in value:
        return "; ".join(_text(v) for v in value["many"])
    return value.get("text", "")


def _iris(value: dict) -> list[str]:
    if "many" in value:
        return [i for v in value["many"] for i in _iris(v)]
    return [value["iri"]] if value.get("iri") else []


# -- choices for the forms ----------------------------------------------------------------------


async def choices(svc: Service, kind_name: str) -> list[tuple[str, str, str]]:
    """The valid values of a kind of resource as (IRI, short id, label), sorted by label."""
    kind = parameters.kind_of(kind_name)
    found = parameters.candidates(kind, await svc.rows(parameters.lookup_query(kind) or ""))
    every = sorted({i for iris in found.ids.values() for i in iris})
    listed = [
        (iri, parameters.short(kind, iri), found.labels.get(iri) or parameters.short(kind, iri))
        for iri in every
    ]
    return sorted(listed, key=lambda c: natural(c[2]))


async def convention_options(svc: Service) -> list[tuple[str, str]]:
    rows = await api.all_of(svc, "api-conventions", {})
    return [(svc.short_id(r["convention"].value), api.val(r, "label") or "") for r in rows]


async def meeting_options(svc: Service, convention: str | None) -> list[tuple[str, str]]:
    rows = await api.all_of(svc, "api-meetings", {"convention": convention})
    options = []
    for r in rows:
        when = (api.val(r, "startDate") or "")[:4]
        name = short_label(api.val(r, "label")) or svc.short_id(r["meeting"].value)
        options.append((svc.short_id(r["meeting"].value), f"{name} ({when})" if when else name))
    return options


async def year_options(svc: Service) -> list[tuple[str, str]]:
    rows = await api.all_of(svc, "api-meetings", {})
    years = {(api.val(r, "startDate") or "")[:4] for r in rows} - {""}
    return [(y, y) for y in sorted(years, reverse=True)]


async def topic_options(svc: Service) -> list[tuple[str, str]]:
    return [(svc.short_id(iri), label) for iri, _, label in await choices(svc, "topic")]


async def instrument_options(svc: Service) -> list[tuple[str, str]]:
    rows = await api.all_of(svc, "api-instruments", {})
    options = [(svc.short_id(r["instrument"].value), api.val(r, "label") or "") for r in rows]
    # The conventions first, then their amendments and protocols.
    return sorted(options, key=lambda o: ("/" in o[0], natural(o[1])))


# -- home and search ----------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def home(request: Request):
    svc = service(request)
    stats = await svc.stats()
    questions = [q for q in svc.queries.values() if not q.internal]
    return render(
        request,
        "home.html",
        title="treatygraph",
        questions=questions,
        triples=stats.get("", 0),
        today=today(),
    )


@router.get("/search", response_class=HTMLResponse)
async def search_page(request: Request, q: str = ""):
    svc = service(request)
    q = q.strip()
    rows: list[dict] = []
    total = 0
    if len(q) >= 2:
        if len(q) > 200:
            raise ServiceError(422, "the search text is longer than 200 characters")
        total, rows = await api.search_rows(svc, q, PAGE_SIZE)
    table = [
        [
            cell(svc, r.get("resource"), api.val(r, "label")),
            cell(svc, r.get("type")),
            {"text": api.val(r, "field") or ""},
            {"text": api.val(r, "matched") or ""},
        ]
        for r in rows
    ]
    return render(
        request,
        "table.html",
        title=f"Search: {q}" if q else "Search",
        search=q,
        columns=["Resource", "Type", "Matched in", "Matched text"],
        rows=table,
        total=total,
    )


CONVENTION_COLUMNS = [
    Column("name", "Convention"),
    Column("title", "Title"),
    Column("adopted", "Adopted", "date"),
    Column("force", "In force", "date"),
]


@router.get("/conventions", response_class=HTMLResponse)
async def conventions_page(
    request: Request,
    sort: str = "name",
    page: int = 1,
    per: int = PER_PAGE,
    format: str | None = None,
):
    svc = service(request)
    try:
        check_paging(page, per)
        check_sort(sort, CONVENTION_COLUMNS)
    except ServiceError as error:
        return bad_request(request, error.message)
    rows = await api.all_of(svc, "api-conventions", {})
    keys = {
        "name": lambda r: natural(api.val(r, "label") or ""),
        "title": lambda r: natural(api.val(r, "title") or ""),
        "adopted": lambda r: api.val(r, "dateAdopted") or "",
        "force": lambda r: api.val(r, "dateEntryIntoForce") or "",
    }
    table = [
        [
            cell(svc, r.get("convention"), api.val(r, "label")),
            text_cell(api.val(r, "title")),
            text_cell(api.val(r, "dateAdopted")),
            text_cell(api.val(r, "dateEntryIntoForce")),
        ]
        for r in sort_rows(rows, sort, keys)
    ]
    listing = Listing(
        title="Conventions",
        noun="conventions",
        columns=CONVENTION_COLUMNS,
        rows=table,
        total=len(table),
        overall=len(table),
        page=page,
        per=per,
        sort=sort,
        facets=[],
        intro="The four conventions. Each page shows its articles, its typed links (a map and a "
        "table) and how to cite it; the link graph shows how they cooperate.",
    )
    return respond(request, listing, format)


# -- meetings -----------------------------------------------------------------------------------

MEETING_COLUMNS = [
    Column("name", "Meeting"),
    Column("date", "From", "date"),
    Column("", "To", "date"),
    Column("place", "Place"),
    Column("decisions", "Decisions recorded"),
    Column("", "Adopted (official count)"),
]


@router.get("/meetings", response_class=HTMLResponse)
async def meetings_page(
    request: Request,
    convention: str | None = None,
    year: str | None = None,
    sort: str = "date",
    page: int = 1,
    per: int = PER_PAGE,
    format: str | None = None,
):
    """Meetings by convention and year, oldest first, with their decisions recorded against the
    official count."""
    svc = service(request)
    try:
        check_paging(page, per)
        check_sort(sort, MEETING_COLUMNS)
        params = {
            "convention": api.iri_param(svc, convention, "convention"),
            "year": check_year(year),
        }
    except ServiceError as error:
        return bad_request(request, error.message)
    rows, every, conventions, years, counts = await asyncio.gather(
        api.all_of(svc, "api-meetings", params),
        api.all_of(svc, "api-meetings", {}),
        convention_options(svc),
        year_options(svc),
        _coverage_rows(svc),
    )
    per_meeting = {m.meeting: m for m in coverage.meetings(counts)}

    def recorded(r):
        m = per_meeting.get(r["meeting"].value)
        return m.recorded if m else -1

    keys = {
        "name": lambda r: natural(api.val(r, "label") or ""),
        "date": lambda r: api.val(r, "startDate") or "",
        "place": lambda r: (api.val(r, "city") or "", api.val(r, "country") or ""),
        "decisions": recorded,
    }
    ordered = sort_rows(rows, sort, keys)
    table = []
    for r in ordered:
        m = per_meeting.get(r["meeting"].value)
        adopted = ""
        if m is not None:
            adopted = str(m.adopted) if m.confirmed else f"not confirmed (at least {m.at_least})"
        table.append(
            [
                cell(svc, r.get("meeting"), api.val(r, "label")),
                text_cell(api.val(r, "startDate")),
                text_cell(api.val(r, "endDate")),
                text_cell(", ".join(x for x in (api.val(r, "city"), api.val(r, "country")) if x)),
                _decisions_link(svc, r["meeting"].value, m),
                text_cell(adopted),
            ]
        )
    listing = Listing(
        title="Meetings",
        noun="meetings",
        columns=MEETING_COLUMNS,
        rows=table,
        total=len(rows),
        overall=len(every),
        page=page,
        per=per,
        sort=sort,
        facets=[
            Facet("convention", "Convention", "select", convention or "", conventions),
            Facet("year", "Year it began", "select", year or "", years),
        ],
        intro="The meetings of the conferences of the Parties and other bodies, with the "
        "decisions the graph records for each against the official count where one is known.",
    )
    return respond(request, listing, format)


def _decisions_link(svc: Service, meeting: str, found: coverage.MeetingCoverage | None) -> dict:
    if found is None:
        return text_cell("")
    return {
        "text": str(found.recorded),
        "href": "/decisions?" + urlencode({"meeting": svc.short_id(meeting)}),
    }


# -- decisions ----------------------------------------------------------------------------------

DECISION_COLUMNS = [
    Column("symbol", "Symbol"),
    Column("title", "Title"),
    Column("meeting", "Meeting"),
    Column("date", "Date", "date"),
    Column("", "Topics"),
]
DECISION_ORDER = {
    "symbol": None,  # the query's own order: convention, session, number
    "-symbol": "DESC(?conventions) DESC(?session) DESC(?number) DESC(?symbol)",
    "title": "LCASE(STR(COALESCE(?title, ?label))) ?symbol",
    "-title": "DESC(LCASE(STR(COALESCE(?title, ?label)))) ?symbol",
    "meeting": "?date ?meeting ?number",
    "-meeting": "DESC(?date) ?meeting ?number",
    "date": "?date ?conventions ?session ?number",
    "-date": "DESC(?date) ?conventions ?session ?number",
}


@router.get("/decisions", response_class=HTMLResponse)
async def decisions_page(
    request: Request,
    convention: str | None = None,
    meeting: str | None = None,
    year: str | None = None,
    topic: str | None = None,
    q: str | None = None,
    sort: str = "symbol",
    page: int = 1,
    per: int = PER_PAGE,
    format: str | None = None,
):
    """Decisions by convention, meeting, year, topic and text, with how complete the list is."""
    svc = service(request)
    try:
        check_paging(page, per)
        check_sort(sort, DECISION_COLUMNS)
        params = {
            "convention": api.iri_param(svc, convention, "convention"),
            "atMeeting": api.iri_param(svc, meeting, "meeting"),
            "year": check_year(year),
            "topic": api.iri_param(svc, topic, "topic"),
            "text": check_text(q, "q"),
        }
    except ServiceError as error:
        return bad_request(request, error.message)
    order = DECISION_ORDER[sort]
    if format == "csv":
        total, rows = None, await svc.rows(_ordered(svc, "api-decisions", params, order))
        offset = 0
    else:
        offset = (page - 1) * per
        total, rows = await sorted_page(svc, "api-decisions", params, order, per, offset)
    (overall, _), counts, conventions, meetings, years, topics = await asyncio.gather(
        api.page_of(svc, "api-decisions", {}, 1, 0),
        _coverage_rows(svc),
        convention_options(svc),
        meeting_options(svc, params["convention"]),
        year_options(svc),
        topic_options(svc),
    )
    topic_names = {svc.id_base + value: label for value, label in topics}
    table = [
        [
            cell(svc, r.get("decision"), api.val(r, "symbol")),
            text_cell(api.val(r, "title") or api.val(r, "label")),
            cell(svc, r.get("meeting"), short_label(api.val(r, "meetingLabel"))),
            text_cell(api.val(r, "date")),
            {
                "many": [
                    {"text": topic_names.get(t, svc.short_id(t)), "href": svc.local(t), "iri": t}
                    for t in (api.val(r, "topics") or "").split()
                ]
            },
        ]
        for r in rows
    ]
    if params["atMeeting"] is None and params["year"] is None:  # one convention's COP, or all
        found = coverage.of_convention(counts, params["convention"])
    else:
        found = coverage.of_filters(
            counts,
            convention=params["convention"],
            meeting=params["atMeeting"],
            year=params["year"],
        )
    listing = Listing(
        title="Decisions",
        noun="decisions",
        columns=DECISION_COLUMNS,
        rows=table,
        total=len(rows) if total is None else total,
        overall=overall,
        page=page,
        per=per,
        sort=sort,
        facets=[
            Facet("convention", "Convention", "select", convention or "", conventions),
            Facet("meeting", "Meeting", "select", meeting or "", meetings),
            Facet("year", "Year", "select", year or "", years),
            Facet("topic", "Topic", "select", topic or "", topics),
            Facet("q", "Text in symbol or title", "text", q or ""),
        ],
        intro="Decisions of the conferences of the Parties, as the graph records them.",
        coverage=_coverage_view(found),
        paged=format != "csv",
    )
    return respond(request, listing, format)


def _ordered(svc: Service, name: str, params: dict, order: str | None) -> str:
    text = api.bind(svc, name, params)
    if order is None:
        return text
    head, sep, _ = text.rpartition("ORDER BY")
    return f"{head if sep else text}\nORDER BY {order}"


async def sorted_page(
    svc: Service, name: str, params: dict, order: str | None, limit: int, offset: int
) -> tuple[int, list[dict]]:
    """One page of a named list query in another order than its own (its own: api.page_of, which
    reads the catalogue when it can)."""
    if order is None:
        return await api.page_of(svc, name, params, limit, offset)
    text = _ordered(svc, name, params, order)
    prologue, body = api.split_prologue(api.bind(svc, name, params))
    count = f"{prologue}\nSELECT (COUNT(*) AS ?total) WHERE {{ {body} }}"
    rows, totals = await asyncio.gather(
        svc.rows(f"{text}\nLIMIT {limit} OFFSET {offset}"), svc.rows(count)
    )
    return int(totals[0]["total"].value) if totals else 0, rows


# -- guidelines ---------------------------------------------------------------------------------

# Which article (or paragraph of one) points to a technical guideline (or one of its versions).
ARTICLES_TO_GUIDELINES = """PREFIX tg:   <https://w3id.org/treatygraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?guideline ?provision ?provisionLabel ?article ?articleLabel ?linkType ?convention
WHERE {
  ?guideline a tg:TechnicalGuideline .
  { GRAPH ?g { ?provision ?linkType ?guideline } }
  UNION { ?target tg:versionOf ?guideline . GRAPH ?g { ?provision ?linkType ?target } }
  FILTER(?g != <{inferred}>)
  ?linkType rdfs:subPropertyOf+ tg:linksTo .
  ?provision tg:partOf* ?article .
  ?article a tg:Article .
  OPTIONAL { ?article tg:instrument ?convention }
  OPTIONAL { ?provision rdfs:label ?provisionLabel }
  OPTIONAL { ?article rdfs:label ?articleLabel }
}
ORDER BY ?guideline ?article ?provision"""

GUIDELINE_COLUMNS = [
    Column("title", "Guideline"),
    Column("convention", "Convention"),
    Column("", "Versions"),
    Column("current", "Current version"),
    Column("", "Current version adopted by"),
    Column("", "Articles pointing to it"),
]


@router.get("/guidelines", response_class=HTMLResponse)
async def guidelines_page(
    request: Request,
    convention: str | None = None,
    topic: str | None = None,
    referred: str | None = None,
    q: str | None = None,
    sort: str = "title",
    page: int = 1,
    per: int = PER_PAGE,
    format: str | None = None,
):
    """Technical guidelines with their versions, the current one and what adopted it, and the
    articles of any convention that point to them."""
    svc = service(request)
    try:
        check_paging(page, per)
        check_sort(sort, GUIDELINE_COLUMNS)
        conv = api.iri_param(svc, convention, "convention")
        topic_iri = api.iri_param(svc, topic, "topic")
        text = check_text(q, "q")
        if referred not in (None, "", "article"):
            raise ServiceError(422, "referred must be 'article' (or empty)")
    except ServiceError as error:
        return bad_request(request, error.message)
    guidelines, versions, meetings_of, pointing, conventions, topics = await asyncio.gather(
        api.all_of(svc, "api-guidelines", {"convention": conv}),
        api.all_of(svc, "api-guideline-versions", {}),
        svc.rows(svc.queries["guideline-versions"].bind({"guideline": None})),
        svc.rows(ARTICLES_TO_GUIDELINES.replace("{inferred}", INFERRED_GRAPH)),
        convention_options(svc),
        topic_options(svc),
    )
    overall = len(await api.all_of(svc, "api-guidelines", {}))
    meeting_of = {r["version"].value: r for r in meetings_of}
    by_guideline: dict[str, list[dict]] = {}
    for r in versions:
        by_guideline.setdefault(r["guideline"].value, []).append(r)
    articles: dict[str, list[dict]] = {}
    for r in pointing:
        articles.setdefault(r["guideline"].value, []).append(r)
    conv_names = {svc.id_base + value: label for value, label in conventions}

    chosen = []
    for r in guidelines:
        iri = r["guideline"].value
        if topic_iri and topic_iri not in (api.val(r, "topics") or "").split():
            continue
        if referred == "article" and iri not in articles:
            continue
        label = api.val(r, "title") or api.val(r, "label") or svc.short_id(iri)
        if text and text.casefold() not in label.casefold():
            continue
        own = by_guideline.get(iri, [])
        current = _current_version(own)
        chosen.append((r, label, own, current))

    keys = {
        "title": lambda c: natural(c[1]),
        "convention": lambda c: (api.val(c[0], "conventions") or "", natural(c[1])),
        "current": lambda c: (api.val(c[3], "dateAdopted") or "") if c[3] else "",
    }
    table = []
    for r, label, own, current in sort_rows(chosen, sort, keys):
        iri = r["guideline"].value
        table.append(
            [
                cell(svc, r.get("guideline"), label),
                {
                    "many": [
                        {"text": conv_names.get(c, svc.short_id(c)), "href": svc.local(c), "iri": c}
                        for c in (api.val(r, "conventions") or "").split()
                    ]
                },
                {"many": [_version_cell(svc, v) for v in own]},
                _version_cell(svc, current) if current else text_cell("none recorded"),
                _adopted_cell(svc, current, meeting_of) if current else text_cell(""),
                {"many": _article_cells(svc, articles.get(iri, []))},
            ]
        )
    listing = Listing(
        title="Technical guidelines",
        noun="guidelines",
        columns=GUIDELINE_COLUMNS,
        rows=table,
        total=len(table),
        overall=overall,
        page=page,
        per=per,
        sort=sort,
        facets=[
            Facet("convention", "Convention", "select", convention or "", conventions),
            Facet("topic", "Topic", "select", topic or "", topics),
            Facet(
                "referred",
                "Pointed to by an article",
                "select",
                referred or "",
                [("article", "yes: an article or paragraph points to it")],
            ),
            Facet("q", "Text in the title", "text", q or ""),
        ],
        intro="Technical guidelines and guidance adopted under the conventions, each with its "
        "adopted versions (the current one is the latest), the decision that adopted it where "
        "the graph records one (else the meeting), and the articles of any convention whose "
        "text points to it.",
    )
    return respond(request, listing, format)


def _current_version(versions: list[dict]) -> dict | None:
    """The version no other version replaces (the latest adopted when several are left)."""
    if not versions:
        return None
    replaced = {api.val(v, "previous") for v in versions}
    left = [v for v in versions if v["version"].value not in replaced] or versions
    return max(left, key=lambda v: (api.val(v, "dateAdopted") or "", v["version"].value))


def _version_cell(svc: Service, row: dict) -> dict:
    year = (api.val(row, "dateAdopted") or "")[:4]
    iri = row["version"].value
    return {
        "text": year or svc.short_id(iri).rsplit("/", 1)[-1],
        "href": svc.local(iri),
        "iri": iri,
    }


def _adopted_cell(svc: Service, row: dict, meeting_of: dict[str, dict]) -> dict:
    """The adopting decision, else the meeting, saying that the decision is not recorded."""
    if row.get("decision") is not None:
        return cell(svc, row["decision"], api.val(row, "symbol"))
    found = meeting_of.get(row["version"].value)
    if found is not None and found.get("meeting") is not None:
        meeting = cell(svc, found["meeting"], short_label(api.val(found, "meetingLabel")))
        return {
            "many": [
                meeting,
                {"text": "(adopting decision not recorded in the graph)", "note": True},
            ]
        }
    return text_cell("not recorded in the graph")


def _article_cells(svc: Service, rows: list[dict]) -> list[dict]:
    seen: OrderedDict[str, dict] = OrderedDict()
    for r in rows:
        article = r["article"].value
        entry = seen.setdefault(
            article,
            {
                "text": api.val(r, "articleLabel") or svc.short_id(article),
                "href": svc.local(article),
                "iri": article,
                "via": [],
            },
        )
        if r["provision"].value != article:
            part = svc.short_id(r["provision"].value).rsplit("/", 1)[-1]
            link = LINK_NAMES.get(r["linkType"].value.removeprefix(TG), "links to")
            entry["via"].append(f"paragraph {part} {link} it")
    for entry in seen.values():
        if entry["via"]:
            entry["text"] += " (" + "; ".join(entry.pop("via")) + ")"
        else:
            entry.pop("via")
    return list(seen.values())


# -- Parties ------------------------------------------------------------------------------------

# A Party's dated events on every instrument, as both sources record them.
PARTY_EVENTS = """PREFIX tg:   <https://w3id.org/treatygraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
SELECT ?event ?instrument ?instrumentLabel ?kind ?kindLabel ?date ?source WHERE {
  ?event tg:party <{party}> ;
         tg:onInstrument ?instrument ;
         tg:eventKind ?kind ;
         tg:eventDate ?date ;
         prov:wasDerivedFrom ?source .
  OPTIONAL { ?instrument rdfs:label ?instrumentLabel }
  OPTIONAL { ?kind rdfs:label ?kindLabel }
}
ORDER BY ?instrument ?date ?kind ?source"""

# Every event that decides whether a Party is bound (see parties-at-date), of one source.
BINDING_EVENTS = """PREFIX tg:   <https://w3id.org/treatygraph/ontology#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX kind: <https://w3id.org/treatygraph/id/participation-kind/>
SELECT ?party ?instrument ?kind ?date WHERE {
  VALUES ?instrument { {instruments} }
  VALUES ?kind { kind:entry-into-force kind:entry-into-force-tacit-acceptance kind:objection
                 kind:withdrawal kind:objection-withdrawn }
  ?event tg:onInstrument ?instrument ;
         prov:wasDerivedFrom <{source}> ;
         tg:eventKind ?kind ;
         tg:party ?party ;
         tg:eventDate ?date .
}"""

# The ranks parties-at-date gives each kind of event: on one day an objection or a withdrawal
# outweighs an entry into force, and the removal of an objection outweighs the objection.
RANKS = {
    "entry-into-force": "1",
    "entry-into-force-tacit-acceptance": "1",
    "objection": "2",
    "withdrawal": "2",
    "objection-withdrawn": "3",
}


def bound_on(events: list[tuple[str, str]], day: str) -> bool:
    """Whether a Party is bound on `day` by its (date, rank) events on one instrument, by the
    rule of the named question parties-at-date: among the events up to that day, the latest (on
    one day, the higher rank) is an entry into force or the removal of an objection, and one of
    them is an entry into force."""
    before = [d + r for d, r in events if d <= day]
    if not before:
        return False
    lowest = min(x[-1] for x in before)
    latest = max(before)
    return lowest == "1" and latest[-1] in ("1", "3")


def source_iri(svc: Service, name: str) -> str:
    if name not in SOURCES:
        raise ServiceError(422, f"source must be one of {', '.join(SOURCES)}")
    return svc.id_base + SOURCES[name]


async def binding_events(
    svc: Service, instruments: list[str], source: str
) -> dict[str, dict[str, list[tuple[str, str]]]]:
    """instrument IRI -> party IRI -> [(date, rank)]."""
    text = BINDING_EVENTS.replace("{instruments}", " ".join(f"<{i}>" for i in instruments)).replace(
        "{source}", source
    )
    found: dict[str, dict[str, list[tuple[str, str]]]] = {i: {} for i in instruments}
    for r in await svc.rows(text):
        rank = RANKS[r["kind"].value.rsplit("/", 1)[-1]]
        found[r["instrument"].value].setdefault(r["party"].value, []).append(
            (r["date"].value, rank)
        )
    return found


async def bound_parties(svc: Service, instrument: str, day: str, source: str) -> dict[str, str]:
    """party IRI -> in force since, from the named question parties-at-date."""
    text = svc.queries["parties-at-date"].bind(
        {"instrument": instrument, "date": day, "source": source}
    )
    return {r["party"].value: api.val(r, "inForceSince") or "" for r in await svc.rows(text)}


PARTY_COLUMNS = [
    Column("name", "Party"),
    Column("iso3", "ISO code"),
    Column("region", "Region"),
]


@router.get("/parties", response_class=HTMLResponse)
async def parties_page(
    request: Request,
    q: str | None = None,
    region: str | None = None,
    at: str | None = None,
    party_to: str | None = Query(None, alias="party-to"),
    not_party_to: str | None = Query(None, alias="not-party-to"),
    source: str = "ieadb",
    sort: str = "name",
    page: int = 1,
    per: int = 100,
    format: str | None = None,
):
    """The States and the European Union, with their status under each convention on a date
    (today unless chosen), and the chart of the Parties bound over time."""
    svc = service(request)
    conventions = [svc.id_base + c for c in CONVENTIONS]
    columns = PARTY_COLUMNS + [Column(c, f"{c.capitalize()} (at the date)") for c in CONVENTIONS]
    try:
        check_paging(page, per)
        check_sort(sort, columns)
        day = check_date(at)
        text = check_text(q, "q")
        region = check_text(region, "region")
        src = source_iri(svc, source)
        wanted = {
            "party-to": api.iri_param(svc, party_to, "party-to"),
            "not-party-to": api.iri_param(svc, not_party_to, "not-party-to"),
        }
    except ServiceError as error:
        return bad_request(request, error.message)
    instruments = sorted({*conventions, *(i for i in wanted.values() if i)})
    rows, every, instrument_choices, *bound = await asyncio.gather(
        api.all_of(svc, "api-parties", {"text": text, "region": region}),
        api.all_of(svc, "api-parties", {}),
        instrument_options(svc),
        *(bound_parties(svc, i, day, src) for i in instruments),
    )
    status = dict(zip(instruments, bound, strict=True))
    if wanted["party-to"]:
        rows = [r for r in rows if r["party"].value in status[wanted["party-to"]]]
    if wanted["not-party-to"]:
        rows = [r for r in rows if r["party"].value not in status[wanted["not-party-to"]]]
    regions = sorted({api.val(r, "regionName") for r in every} - {None})
    keys = {
        "name": lambda r: natural(api.val(r, "label") or ""),
        "iso3": lambda r: api.val(r, "iso3") or "",
        "region": lambda r: (api.val(r, "regionName") or "", natural(api.val(r, "label") or "")),
        **{
            c: (lambda r, i=svc.id_base + c: status[i].get(r["party"].value) or "9999")
            for c in CONVENTIONS
        },
    }
    table = []
    for r in sort_rows(rows, sort, keys):
        party = r["party"].value
        line = [
            cell(svc, r.get("party"), api.val(r, "label")),
            text_cell(api.val(r, "iso3")),
            text_cell(api.val(r, "regionName")),
        ]
        for c in conventions:
            since = status[c].get(party)
            line.append(
                {"text": f"Party (in force since {since})", "bound": True}
                if since is not None
                else {"text": "not bound", "bound": False}
            )
        table.append(line)
    listing = Listing(
        title="Parties",
        noun="parties",
        columns=columns,
        rows=table,
        total=len(table),
        overall=len(every),
        page=page,
        per=per,
        sort=sort,
        facets=[
            Facet("q", "Name or ISO code", "text", q or ""),
            Facet("region", "Region", "select", region or "", [(x, x) for x in regions]),
            Facet("at", "Status on", "date", day),
            Facet("party-to", "Bound by", "select", party_to or "", instrument_choices),
            Facet("not-party-to", "Not bound by", "select", not_party_to or "", instrument_choices),
            Facet(
                "source",
                "Source",
                "select",
                source,
                [(k, f"{SOURCE_NAMES[k]}") for k in SOURCES],
                any_label="",
            ),
        ],
        intro=f"States and the European Union, with whether each convention is in force for "
        f"them on {day} according to {SOURCE_NAMES[source]} (derived from the dated events, as "
        "the question parties-at-date does). The UN Treaty Collection is the legal authority.",
    )
    if format == "csv":
        return csv_response(listing)
    listing.extra["chart"] = await parties_chart(svc, conventions, src)
    return respond(request, listing, format)


async def parties_chart(
    svc: Service, instruments: list[str], source: str, party: str | None = None
) -> dict:
    """The number of Parties bound over time per instrument: on 1 January of each year and today
    (with, for a Party's page, the dates it became bound)."""
    events = await binding_events(svc, instruments, source)
    labels = {svc.id_base + value: label for value, label in await instrument_options(svc)}
    first = min(
        (d[:4] for per_party in events.values() for evs in per_party.values() for d, _ in evs),
        default=str(date.today().year),
    )
    days = [f"{y}-01-01" for y in range(int(first), date.today().year + 1)] + [today()]
    series = []
    for instrument in instruments:
        per_party = events[instrument]
        counts = [sum(bound_on(evs, day) for evs in per_party.values()) for day in days]
        joined = []
        if party is not None:
            evs = per_party.get(party, [])
            joined = [d for d, r in sorted(evs) if r == "1"]
        series.append(
            {
                "instrument": instrument,
                "label": labels.get(instrument, svc.short_id(instrument)),
                "counts": counts,
                "joined": joined,
            }
        )
    return svg_chart(days, series)


PALETTE = ("#1b6180", "#b35806", "#4d7c0f", "#7b3294", "#b2182b", "#35978f")


def svg_chart(days: list[str], series: list[dict]) -> dict:
    """A line chart as SVG elements (no script, no style attributes: presentation attributes
    only), with the figures for a table beside it."""
    width, height, left, right, top, bottom = 720, 300, 48, 16, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((c for s in series for c in s["counts"]), default=0)
    ceiling = max(10, ((peak + 24) // 25) * 25)
    first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    span = max(1, (last - first).days)

    def x(day: str) -> float:
        return round(left + plot_w * (date.fromisoformat(day) - first).days / span, 1)

    def y(count: float) -> float:
        return round(top + plot_h * (1 - count / ceiling), 1)

    lines = []
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        points = " ".join(f"{x(d)},{y(c)}" for d, c in zip(days, s["counts"], strict=True))
        marks = [
            {"x": x(d), "y": y(_count_on(days, s["counts"], d)), "day": d} for d in s["joined"]
        ]
        lines.append({**s, "colour": colour, "points": points, "marks": marks})
    yticks = [{"y": y(v), "value": v} for v in range(0, ceiling + 1, max(1, ceiling // 5))]
    step = max(1, len(days) // 8)
    xticks = [{"x": x(d), "label": d[:4]} for d in days[:-1][::step]]
    return {
        "width": width,
        "height": height,
        "left": left,
        "top": top,
        "bottom": top + plot_h,
        "right": left + plot_w,
        "lines": lines,
        "yticks": yticks,
        "xticks": xticks,
        "days": days,
        "table": [
            {"day": d, "counts": [s["counts"][k] for s in series]} for k, d in enumerate(days)
        ],
    }


def _count_on(days: list[str], counts: list[int], day: str) -> float:
    """The height of the line at `day`: interpolated between the points around it."""
    when = date.fromisoformat(day)
    points = [(date.fromisoformat(d), c) for d, c in zip(days, counts, strict=True)]
    for (d0, c0), (d1, c1) in zip(points, points[1:], strict=False):
        if d0 <= when <= d1:
            span = (d1 - d0).days or 1
            return c0 + (c1 - c0) * (when - d0).days / span
    return counts[-1] if points and when > points[-1][0] else (counts[0] if counts else 0)


@router.get("/parties/{code}", response_class=HTMLResponse)
async def party_page(request: Request, code: str, at: str | None = None, source: str = "ieadb"):
    """One Party: per instrument its dated events, whether it is bound today and on a chosen
    date, where the two sources disagree, and the Parties bound over time."""
    svc = service(request)
    if not re.fullmatch(r"[A-Za-z]{3}", code):
        raise ServiceError(404, f"no Party with code {code!r}")
    iri = f"{svc.id_base}party/{code.upper()}"
    try:
        day = check_date(at)
        src = source_iri(svc, source)
    except ServiceError as error:
        return bad_request(request, error.message)
    facts = await api.all_of(svc, "api-parties", {"party": iri})
    if not facts:
        raise ServiceError(404, f"no Party with code {code.upper()!r}")
    events, disagreements = await asyncio.gather(
        svc.rows(PARTY_EVENTS.replace("{party}", iri)),
        api.all_of(svc, "source-disagreements", {"instrument": None}),
    )
    by_instrument: OrderedDict[str, dict] = OrderedDict()
    now = today()
    for r in events:
        instrument = r["instrument"].value
        entry = by_instrument.setdefault(
            instrument,
            {
                "instrument": cell(svc, r["instrument"], api.val(r, "instrumentLabel")),
                "events": [],
                "ranked": [],
            },
        )
        source_name = "IEADB" if "ieadb" in r["source"].value else "ECOLEX"
        entry["events"].append(
            {
                "date": r["date"].value,
                "kind": cell(svc, r["kind"], api.val(r, "kindLabel")),
                "source": source_name,
            }
        )
        kind = r["kind"].value.rsplit("/", 1)[-1]
        if r["source"].value == src and kind in RANKS:
            entry["ranked"].append((r["date"].value, RANKS[kind]))
    instruments = []
    for instrument, entry in by_instrument.items():
        entry["events"].sort(key=lambda e: (e["date"], e["source"]))
        entry["today"] = bound_on(entry["ranked"], now)
        entry["at"] = bound_on(entry["ranked"], day)
        entry["iri"] = instrument
        instruments.append(entry)
    conventions = [svc.id_base + c for c in CONVENTIONS]
    instruments.sort(
        key=lambda e: (e["iri"] not in conventions, "/" in svc.short_id(e["iri"]), e["iri"])
    )
    disagree = [
        {
            "instrument": cell(svc, r.get("instrument")),
            "kind": cell(svc, r.get("kind")),
            "ieadb": api.val(r, "ieadbDate") or "",
            "ecolex": api.val(r, "ecolexDate") or "",
        }
        for r in disagreements
        if r["party"].value == iri
    ]
    labels = {svc.id_base + v: label for v, label in await instrument_options(svc)}
    for d in disagree:
        iri_i = d["instrument"].get("iri")
        if iri_i in labels:
            d["instrument"]["text"] = labels[iri_i]
    row = facts[0]
    chart = await parties_chart(svc, conventions, src, party=iri)
    return render(
        request,
        "party.html",
        title=api.val(row, "label") or code.upper(),
        party=row,
        iri=iri,
        code=code.upper(),
        instruments=instruments,
        disagreements=disagree,
        day=day,
        now=now,
        source=source,
        sources=[(k, SOURCE_NAMES[k]) for k in SOURCES],
        source_name=SOURCE_NAMES[source],
        chart=chart,
        status_question="/questions/party-status?" + urlencode({"party": code.upper()}),
    )


# -- the named questions, as forms --------------------------------------------------------------

SELECT_AT_MOST = 12  # more values than this: a text field with suggestions (autocomplete)
SUGGEST_AT_MOST = 5000


@router.get("/questions", response_class=HTMLResponse)
async def questions_index(request: Request):
    svc = service(request)
    questions = [q for q in svc.queries.values() if not q.internal]
    return render(request, "questions.html", title="Questions", questions=questions)


@router.get("/questions/{name}", response_class=HTMLResponse)
async def question_page(request: Request, name: str, format: str | None = None):
    """A named question: its form (a dropdown, a date picker or a field with suggestions per
    parameter, defaults filled in: today for dates), its answer as a table with column names
    for people, and the same answer as CSV, JSON and SPARQL. A value that names nothing answers
    422 with the form kept and the message beside it."""
    svc = service(request)
    query = svc.queries.get(name)
    if query is None:
        raise ServiceError(404, f"no named question {name!r}")
    if format not in (None, "", "html", "csv", "json", "sparql"):
        raise ServiceError(422, "format must be html, csv, json or sparql")
    given = {k: v for k, v in request.query_params.items() if k in query.params and v.strip()}
    values = dict(given)
    for p in query.params.values():  # a date not given is today's
        if p.type == "date" and p.name not in values:
            values[p.name] = today()
    form = await question_form(svc, query, given, values)
    try:
        resolved = await resolve(svc, query, values)
        text = query.bind(resolved)
    except queries.BadParameter as error:
        errors = getattr(error, "errors", None) or [error]
        return render(
            request,
            "question.html",
            status=422,
            title=query.title,
            query=query,
            form=form,
            given=given,
            errors=[{"parameter": e.parameter, "message": str(e)} for e in errors],
            columns=[],
            rows=[],
            total=0,
            text=query.bind({}),
            coverage=None,
            links={},
        )
    if format == "sparql":
        return Response(text, media_type="application/sparql-query; charset=utf-8")
    outcome_rows = await svc.rows(text)
    variables = projected(text) or _variables(outcome_rows)
    for v in _variables(outcome_rows):
        if v not in variables:
            variables.append(v)
    if format == "json":
        return JSONResponse(
            sparql_json(variables, outcome_rows),
            media_type="application/sparql-results+json",
        )
    shown, label_of = answer_columns(variables)
    table = [
        [
            answer_cell(svc, r.get(v), api.val(r, label_of[v]) if v in label_of else None)
            for v in shown
        ]
        for r in outcome_rows
    ]
    columns = [human(v) for v in shown]
    if format == "csv":
        listing = Listing(
            title=query.title,
            noun=query.name,
            columns=[Column("", c) for c in columns],
            rows=table,
            total=len(table),
            overall=len(table),
            page=1,
            per=len(table) or 1,
            sort="",
            facets=[],
        )
        return csv_response(listing)
    here = {k: v for k, v in values.items() if v}
    return render(
        request,
        "question.html",
        title=query.title,
        query=query,
        form=form,
        given=given,
        errors=[],
        columns=columns,
        rows=table,
        total=len(outcome_rows),
        text=text,
        coverage=await _coverage_of(svc, query, resolved),
        links={
            "csv": f"/questions/{name}?" + urlencode({**here, "format": "csv"}),
            "json": f"/questions/{name}?" + urlencode({**here, "format": "json"}),
            "sparql": f"/questions/{name}?" + urlencode({**here, "format": "sparql"}),
            "editor": "/sparql#" + urlencode({"query": text}),
            "share": f"/questions/{name}?" + urlencode(here),
        },
    )


async def question_form(
    svc: Service, query: queries.NamedQuery, given: dict[str, str], values: dict[str, str]
) -> list[dict]:
    """One field per parameter: what a person picks from, never an IRI to type."""
    fields = []
    for p in query.params.values():
        kind = parameters.kind_of(p.type)
        value = given.get(p.name, "")
        entry = {
            "name": p.name,
            "label": human(p.name),
            "kind": p.type,
            "description": p.description,
            "placeholder": p.shown_default,
            "value": value,
            "options": [],
            "widget": "text",
            "default_label": "",
        }
        if kind.looked_up:
            listed = await choices(svc, p.type)
            by_iri = {iri: (short, label) for iri, short, label in listed}
            if p.default in by_iri:
                entry["default_label"] = by_iri[p.default][1]
            if len(listed) <= SELECT_AT_MOST:
                entry["widget"] = "select"
                chosen = _chosen(kind, value, listed) if value else p.default
                entry["options"] = [
                    {"value": short, "label": label, "selected": iri == chosen}
                    for iri, short, label in listed
                ]
                if value and chosen is None:  # kept as typed, beside the message
                    entry["options"].insert(
                        0, {"value": value, "label": f"{value} (unknown)", "selected": True}
                    )
                entry["optional"] = p.default is None
            else:
                entry["widget"] = "suggest"
                names = [label for _, _, label in listed]
                # A name a person recognises is what goes in the field (the service looks it up);
                # where two share a name, their short ids tell them apart.
                shown = {
                    iri: label if names.count(label) == 1 else short for iri, short, label in listed
                }
                entry["options"] = [
                    {"value": shown[iri], "label": short}
                    for iri, short, _ in listed[:SUGGEST_AT_MOST]
                ]
                chosen = _chosen(kind, value, listed) if value else None
                if chosen is not None:  # shown by its name, which the form sends back
                    entry["value"] = shown[chosen]
        elif p.type == "date":
            entry["widget"] = "date"
            entry["value"] = values.get(p.name, "")
        elif p.type == "year":
            entry["widget"] = "select"
            current = value or p.shown_default
            years = [str(y) for y in range(date.today().year, 1988, -1)]
            if current and current not in years:
                years.insert(0, current)
            entry["options"] = [{"value": y, "label": y, "selected": y == current} for y in years]
            entry["optional"] = p.default is None
        elif p.type == "integer":
            entry["widget"] = "number"
        fields.append(entry)
    return fields


def _chosen(kind: parameters.Kind, value: str, listed) -> str | None:
    """The IRI a typed value names among the listed ones (None when none or several)."""
    found = parameters.Candidates(kind)
    for iri, short, label in listed:
        found.add_id(iri, iri)
        found.add_id(short, iri)
        found.add_id(iri.removeprefix(parameters.ID), iri)
        found.add_id("id:" + iri.removeprefix(parameters.ID), iri)
        found.add_name(label, iri)
    try:
        return found.match(value, "")
    except parameters.BadParameter:
        return None


def projected(text: str) -> list[str]:
    """The variables a SELECT query projects, in order (empty for SELECT * or another form)."""
    _, body = api.split_prologue(text)
    found = re.search(r"\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?(.*?)\s*(?:WHERE\s*)?\{", body, re.S)
    if not found or found.group(1).strip().startswith("*"):
        return []
    names, depth, clause = [], 0, found.group(1)
    for token in re.finditer(r"\(|\)|\bAS\s+\?(\w+)|\?(\w+)", clause, re.I):
        if token.group(0) == "(":
            depth += 1
        elif token.group(0) == ")":
            depth -= 1
        elif token.group(1) and depth == 1:
            names.append(token.group(1))
        elif token.group(2) and depth == 0:
            names.append(token.group(2))
    return names


def answer_columns(variables: list[str]) -> tuple[list[str], dict[str, str]]:
    """The columns to show, and for each the variable that holds its label (shown as the link's
    text, not as a column of its own)."""
    label_of = {v: v + "Label" for v in variables if v + "Label" in variables}
    if "decision" in variables and "symbol" in variables and "decision" not in label_of:
        label_of["decision"] = "symbol"
    if "version" in variables and "versionLabel" in variables:
        label_of["version"] = "versionLabel"
    hidden = set(label_of.values())
    return [v for v in variables if v not in hidden], label_of


def answer_cell(svc: Service, term, label: str | None) -> dict:
    if (
        term is not None
        and term.type == "literal"
        and term.datatype
        and term.value
        in (
            "true",
            "false",
        )
    ):
        return {"text": "yes" if term.value == "true" else "no"}
    return cell(svc, term, label)


def sparql_json(variables: list[str], rows: list[dict]) -> dict:
    """The answer in the SPARQL 1.1 Query Results JSON Format."""
    bindings = []
    for row in rows:
        binding = {}
        for name, term in row.items():
            value = {"type": term.type, "value": term.value}
            if term.lang:
                value["xml:lang"] = term.lang
            elif term.datatype and term.datatype != XSD_STRING:
                value["datatype"] = term.datatype
            binding[name] = value
        bindings.append(binding)
    return {"head": {"vars": variables}, "results": {"bindings": bindings}}


async def resolve(
    svc: Service, query: queries.NamedQuery, given: dict[str, str]
) -> dict[str, str | None]:
    """The given values as the question runs with them: resources looked up by short id,
    prefixed name, IRI or name (see treatygraph.parameters); BadParameter when one does not fit."""
    answers = {
        kind: await svc.rows(lookup) for kind, lookup in parameters.lookups(query, given).items()
    }
    return parameters.resolve_with(query, given, answers)


async def _coverage_rows(svc: Service) -> list[dict]:
    return await svc.rows(svc.queries[coverage.QUERY].bind())


async def _coverage_of(svc: Service, query: queries.NamedQuery, values: dict) -> dict | None:
    if not query.coverage:
        return None
    found = coverage.for_question(query, values, await _coverage_rows(svc))
    return _coverage_view(found) if found is not None else None


def _coverage_view(found: coverage.Coverage) -> dict:
    return found.to_dict()  # "text" is the sentence a person reads, "complete" says if it is


def _variables(rows: list[dict]) -> list[str]:
    seen: OrderedDict[str, None] = OrderedDict()
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


# -- the link graph -----------------------------------------------------------------------------


@router.get("/graph", response_class=HTMLResponse)
async def graph_page(request: Request, type: str = "cooperatesWith"):
    """The four conventions and the typed links among them (cooperation by default), drawn."""
    svc = service(request)
    if type not in LINK_TYPES_BETWEEN:
        return bad_request(request, f"type must be one of {', '.join(LINK_TYPES_BETWEEN)}")
    data = await convention_graph(svc, type)
    return render(
        request,
        "graph.html",
        title="How the conventions link to each other",
        kind=type,
        kind_label=LINK_NAMES[type],
        kinds=[(k, LINK_NAMES[k]) for k in LINK_TYPES_BETWEEN],
        data_url="/graph/data?" + urlencode({"type": type}),
        pairs=data["pairs"],
    )


LINK_TYPES_BETWEEN = (
    "cooperatesWith",
    "refersTo",
    "implements",
    "recalls",
    "requests",
    "supersedes",
    "amends",
)


@router.get("/graph/data")
async def graph_data(request: Request, type: str = "cooperatesWith"):
    """The data of the link graph (Cytoscape.js elements): the conventions, and one edge per
    pair of conventions with the number of links of the type from texts of one to the other."""
    svc = service(request)
    if type not in LINK_TYPES_BETWEEN:
        raise ServiceError(422, f"type must be one of {', '.join(LINK_TYPES_BETWEEN)}")
    data = await convention_graph(svc, type)
    return JSONResponse({"elements": data["elements"], "legend": data["legend"]})


async def convention_graph(svc: Service, kind: str) -> dict:
    rows, conventions = await asyncio.gather(
        api.all_of(svc, "api-links", {"type": TG + kind}), convention_options(svc)
    )
    names = {svc.id_base + value: label for value, label in conventions}
    pairs: OrderedDict[tuple[str, str], int] = OrderedDict()
    for r in rows:
        a, b = api.val(r, "sourceConvention"), api.val(r, "targetConvention")
        if a in names and b in names and a != b:
            pairs[(a, b)] = pairs.get((a, b), 0) + 1
    elements = [
        {
            "data": {
                "id": iri,
                "label": label,
                "kind": "Convention",
                "href": svc.local(iri),
            }
        }
        for iri, label in names.items()
    ]
    listed = []
    for (a, b), count in sorted(pairs.items()):
        href = "/links?" + urlencode({"from": svc.short_id(a), "to": svc.short_id(b), "type": kind})
        elements.append(
            {
                "data": {
                    "id": f"{a}->{b}",
                    "source": a,
                    "target": b,
                    "kind": kind,
                    "label": f"{count}",
                    "href": href,
                }
            }
        )
        listed.append(
            {"from": names[a], "to": names[b], "count": count, "href": href, "kind": kind}
        )
    return {
        "elements": elements,
        "pairs": listed,
        "legend": [{"kind": kind, "label": LINK_NAMES[kind]}],
    }


LINK_COLUMNS = [
    Column("source", "From"),
    Column("", "Link"),
    Column("target", "To"),
    Column("from", "From convention"),
    Column("to", "To convention"),
]


@router.get("/links", response_class=HTMLResponse)
async def links_page(
    request: Request,
    from_: str | None = Query(None, alias="from"),
    to: str | None = None,
    type: str | None = None,
    sort: str = "source",
    page: int = 1,
    per: int = PER_PAGE,
    format: str | None = None,
):
    """Typed links from texts of one convention to another, by source, target and type."""
    svc = service(request)
    try:
        check_paging(page, per)
        check_sort(sort, LINK_COLUMNS)
        if type and type not in LINK_NAMES:
            raise ServiceError(422, f"type must be one of {', '.join(LINK_TYPES_BETWEEN)}")
        params = {
            "from": api.iri_param(svc, from_, "from"),
            "to": api.iri_param(svc, to, "to"),
            "type": TG + type if type else None,
        }
    except ServiceError as error:
        return bad_request(request, error.message)
    rows, every, conventions = await asyncio.gather(
        api.all_of(svc, "api-links", params),
        api.page_of(svc, "api-links", {}, 1, 0),
        convention_options(svc),
    )
    names = {svc.id_base + value: label for value, label in conventions}
    keys = {
        "source": lambda r: natural(api.val(r, "sourceLabel") or ""),
        "target": lambda r: natural(api.val(r, "targetLabel") or ""),
        "from": lambda r: api.val(r, "sourceConvention") or "",
        "to": lambda r: api.val(r, "targetConvention") or "",
    }
    table = [
        [
            cell(svc, r.get("source"), api.val(r, "sourceLabel")),
            cell(svc, r.get("linkType")),
            cell(svc, r.get("target"), api.val(r, "targetLabel")),
            cell(svc, r.get("sourceConvention"), names.get(api.val(r, "sourceConvention"))),
            cell(svc, r.get("targetConvention"), names.get(api.val(r, "targetConvention"))),
        ]
        for r in sort_rows(rows, sort, keys)
    ]
    listing = Listing(
        title="Links between the conventions",
        noun="links",
        columns=LINK_COLUMNS,
        rows=table,
        total=len(table),
        overall=every[0],
        page=page,
        per=per,
        sort=sort,
        facets=[
            Facet("from", "From convention", "select", from_ or "", conventions),
            Facet("to", "To convention", "select", to or "", conventions),
            Facet(
                "type",
                "Link",
                "select",
                type or "",
                [(k, LINK_NAMES[k]) for k in LINK_TYPES_BETWEEN],
            ),
        ],
        intro="Typed links from a text (article, paragraph, decision) of one convention to a "
        "text, body or guideline of another, as the data states them.",
    )
    return respond(request, listing, format)


# -- the SPARQL editor's examples ---------------------------------------------------------------


@router.get("/sparql/examples")
async def sparql_examples(request: Request):
    """The named questions, as the SPARQL editor offers them (title and text with defaults)."""
    svc = service(request)
    return JSONResponse(
        [
            {"name": q.name, "title": q.title, "query": q.text}
            for q in svc.queries.values()
            if not q.internal
        ]
    )


# -- the SPARQL editor's own policy ------------------------------------------------------------

# YASGUI's result table (the npm column-resizer bundled in @zazuko/yasgui 4.6.2) inserts two fixed
# <style> elements: its grip rules when a table is drawn, and `*{cursor:col-resize!important}`
# while a column is being resized. The pages' policy refuses any inline style; /sparql's page
# allows exactly these two stylesheets, by hash, and nothing else more than the other pages
# (tests/test_pages_editor.py recomputes the hashes from the installed library).
EDITOR_STYLE_HASHES = (
    "sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk=",  # the grips
    "sha256-c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg=",  # the cursor while resizing
)
_EDITOR_STYLES = " ".join("'" + h + "'" for h in EDITOR_STYLE_HASHES)
EDITOR_CSP = (
    "default-src 'self'; script-src 'self'; "
    f"style-src 'self' {_EDITOR_STYLES}; "
    "img-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'"
)


class EditorPolicy:
    """ASGI middleware: the HTML page of /sparql (the SPARQL editor) gets EDITOR_CSP; every other
    answer keeps the policy edge.SecurityHeaders gives it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path") != "/sparql":
            return await self.app(scope, receive, send)

        async def send_with_policy(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                media = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                html = media.split(b";")[0].strip().lower() == b"text/html"
                if html and b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", EDITOR_CSP.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_policy)


# -- front-end libraries ------------------------------------------------------------------------


class VendorFiles(StaticFiles):
    """node_modules, but only the built files of the libraries the pages use."""

    async def get_response(self, path: str, scope):
        normal = path.replace("\\", "/")
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(status_code=405)
        if ".." in normal.split("/") or not normal.startswith(VENDORED):
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)


def vendor_files(directory: Path = NODE_MODULES) -> StaticFiles:
    """The static mount for /vendor (missing until `npm install`: then every file is a 404 and the
    pages still work, without their pictures and editor)."""
    return VendorFiles(directory=str(directory), check_dir=False)


# -- resource and ontology pages ----------------------------------------------------------------


async def resource_page(request: Request, svc: Service, iri: str, headers: dict) -> Response:
    """The page of one resource: its facts, its typed links (also its parts') as a map and a
    table, what refers to it, and for what people cite, a citation."""
    from treatygraph.api import resources

    rows, links = await _gather(svc, iri)
    if not rows:
        raise ServiceError(404, f"no resource <{iri}> in this dataset")
    out: OrderedDict[str, dict] = OrderedDict()
    into: OrderedDict[str, dict] = OrderedDict()
    label, types, type_iris = None, [], []
    for row in rows:
        p, o = row["p"].value, row["o"]
        if row["direction"].value == "out":
            if p == LABEL and label is None:
                label = o.value
            if p == RDF_TYPE:
                types.append(cell(svc, o, api.val(row, "ol")))
                type_iris.append(o.value)
        group = out if row["direction"].value == "out" else into
        entry = group.setdefault(
            p, {"property": cell(svc, row["p"], api.val(row, "pl")), "values": []}
        )
        value = cell(svc, o, api.val(row, "ol"))
        if o.type == "literal" and o.lang:
            value["lang"] = o.lang
        if value not in entry["values"]:
            entry["values"].append(value)
    for entry in (*out.values(), *into.values()):
        entry["values"].sort(key=lambda v: natural(v["text"]))
    is_meeting = MEETING in type_iris
    decisions = None
    if is_meeting:
        found = coverage.of_meeting(await _coverage_rows(svc), iri)
        decisions = _coverage_view(found) if found.meetings else None
    link_rows = [
        {
            "direction": api.val(r, "direction"),
            "source": cell(svc, r.get("source"), api.val(r, "sourceLabel")),
            "type": cell(svc, r.get("linkType"), api.val(r, "linkLabel")),
            "target": cell(svc, r.get("target"), api.val(r, "targetLabel")),
            "convention": cell(svc, r.get("otherConvention"), _name(svc, r.get("otherConvention"))),
        }
        for r in links
    ]
    kinds = {t.removeprefix(TG) for t in type_iris if t.startswith(TG)}
    mapped = bool(kinds & resources.MAPPED)
    party = re.fullmatch(re.escape(svc.id_base) + r"party/([A-Z]{3})", iri)
    citation = None
    if kinds & resources.CITED:
        citation = await resources.citation_for(svc, iri, rows, kinds)
    return render(
        request,
        "resource.html",
        headers=headers,
        title=label or svc.short_id(iri),
        iri=iri,
        types=types,
        out=list(out.values()),
        into=list(into.values()),
        links=link_rows,
        coverage=decisions,
        linkmap="/linkmap/" + iri[len(svc.id_base) :] if mapped else None,
        legend=resources.legend(),
        party_page=f"/parties/{party.group(1)}" if party else None,
        citation=citation,
        cite_path=iri[len(svc.id_base) :],
        decisions_of=(
            "/decisions?" + urlencode({"meeting": svc.short_id(iri)}) if is_meeting else None
        ),
    )


def _name(svc: Service, term) -> str | None:
    """A convention's name from its short id ("basel" -> "Basel")."""
    if term is None or not term.value.startswith(svc.id_base):
        return None
    return svc.short_id(term.value).replace("-", " ").capitalize()


async def _gather(svc: Service, iri: str):
    from treatygraph.api.resources import facts

    return await asyncio.gather(
        facts(svc, iri), api.all_of(svc, "api-provision-links", {"provision": iri})
    )


async def ontology_page(request: Request, svc: Service, headers: dict) -> Response:
    """The ontology's documentation, made by `ontology_doc` from the ontology graph as stored,
    with links into this service (remembered until the next write)."""
    generation = svc.executor.generation
    if svc.ontology_doc is None or svc.ontology_doc[0] != generation:
        outcome = await svc.run(Job("dump", graph=str(ONTOLOGY_GRAPH), media_type="text/turtle"))
        graph = rdflib.Graph().parse(data=outcome.body, format="turtle")
        doc = ontology_doc.document(graph, href=lambda iri: safe_href(svc.local(iri)))
        svc.ontology_doc = (generation, doc)
    return render(
        request,
        "ontology.html",
        headers=headers,
        title=svc.ontology_doc[1].title,
        doc=svc.ontology_doc[1],
    )
