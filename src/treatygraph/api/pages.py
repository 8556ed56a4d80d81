"""Web pages for people: home with search, lists, the named questions, resource and ontology pages.

Pages are plain HTML from Jinja2 templates over the same named queries as the JSON API. Every IRI
minted under the base links to this service, so a reader can follow links from page to page.
"""

from __future__ import annotations

import re
from collections import OrderedDict

import rdflib
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from treatygraph import coverage, ontology_doc, parameters, queries
from treatygraph.api import api
from treatygraph.api.app import Service, safe_href, service
from treatygraph.api.errors import ServiceError
from treatygraph.api.worker import Job
from treatygraph.build import ONTOLOGY_GRAPH

router = APIRouter(include_in_schema=False)
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
MEETING = "https://w3id.org/treatygraph/ontology#Meeting"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PAGE_SIZE = 100


def render(
    request: Request, name: str, headers: dict | None = None, status: int = 200, **context
) -> HTMLResponse:
    svc = service(request)
    context.setdefault("title", "treatygraph")
    context = {"svc": svc, "link": lambda iri: safe_href(svc.local(iri)), **context}
    return svc.templates.TemplateResponse(
        request, name, context, status_code=status, headers=headers
    )


def cell(svc: Service, term, label: str | None = None) -> dict:
    """A table cell: text, and a link when the value is an http(s) IRI (other IRIs, such as
    `javascript:...`, are shown as text)."""
    if term is None:
        return {"text": ""}
    if term.type == "uri":
        local = term.value.startswith(svc.base)
        text = label or (svc.short_id(term.value) if local else ontology_doc.curie(term.value))
        return {"text": text, "href": safe_href(svc.local(term.value))}
    return {"text": term.value}


def natural(text: str) -> list:
    """A sort key that puts "paragraph 2" before "paragraph 10"."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


@router.get("/", response_class=HTMLResponse)
async def home(request: Request):
    svc = service(request)
    stats = await svc.stats()
    questions = [q for q in svc.queries.values() if not q.internal]
    return render(request, "home.html", questions=questions, triples=stats.get("", 0))


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


@router.get("/conventions", response_class=HTMLResponse)
async def conventions_page(request: Request):
    svc = service(request)
    rows = await api.all_of(svc, "api-conventions", {})
    table = [
        [
            cell(svc, r.get("convention"), api.val(r, "label")),
            {"text": api.val(r, "title") or ""},
            {"text": api.val(r, "dateAdopted") or ""},
            {"text": api.val(r, "dateEntryIntoForce") or ""},
        ]
        for r in rows
    ]
    return render(
        request,
        "table.html",
        title="Conventions",
        rows=table,
        total=len(rows),
        columns=["Convention", "Title", "Adopted", "In force"],
    )


@router.get("/meetings", response_class=HTMLResponse)
async def meetings_page(request: Request, convention: str | None = None):
    svc = service(request)
    params = {"convention": api.iri_param(svc, convention, "convention")}
    rows = await api.all_of(svc, "api-meetings", params)
    table = [
        [
            cell(svc, r.get("meeting"), api.val(r, "label")),
            {"text": api.val(r, "startDate") or ""},
            {"text": api.val(r, "endDate") or ""},
            {"text": ", ".join(x for x in (api.val(r, "city"), api.val(r, "country")) if x)},
        ]
        for r in rows
    ]
    return render(
        request,
        "table.html",
        title="Meetings",
        rows=table,
        total=len(rows),
        columns=["Meeting", "From", "To", "Place"],
    )


@router.get("/decisions", response_class=HTMLResponse)
async def decisions_page(
    request: Request, convention: str | None = None, q: str | None = None, page: int = 1
):
    svc = service(request)
    if page < 1 or page > 100_000:
        raise ServiceError(422, "page must be a positive number")
    params = {"convention": api.iri_param(svc, convention, "convention"), "text": q or None}
    total, rows = await api.page_of(svc, "api-decisions", params, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    # How many decisions the meetings adopted, against how many are recorded.
    found = coverage.of_convention(await _coverage_rows(svc), params["convention"])
    table = [
        [
            cell(svc, r.get("decision"), api.val(r, "symbol")),
            {"text": api.val(r, "title") or api.val(r, "label") or ""},
            cell(svc, r.get("meeting"), api.val(r, "meetingLabel")),
            {"text": api.val(r, "date") or ""},
        ]
        for r in rows
    ]
    return render(
        request,
        "table.html",
        title="Decisions",
        rows=table,
        total=total,
        columns=["Symbol", "Title", "Meeting", "Date"],
        page=page,
        pages=(total + PAGE_SIZE - 1) // PAGE_SIZE,
        search=q or "",
        search_action="/decisions",
        coverage=_coverage_view(found),
    )


@router.get("/questions/{name}", response_class=HTMLResponse)
async def question_page(request: Request, name: str):
    """A named question: its form (each parameter with its kind and default), its answer and, for
    a list of decisions, how many are recorded against how many were adopted. A value that names
    nothing answers 422 with the form kept and the message beside it."""
    svc = service(request)
    query = svc.queries.get(name)
    if query is None:
        raise ServiceError(404, f"no named question {name!r}")
    given = {k: v for k, v in request.query_params.items() if k in query.params and v.strip()}
    try:
        resolved = await resolve(svc, query, given)
        text = query.bind(resolved)
    except queries.BadParameter as error:
        errors = getattr(error, "errors", None) or [error]
        return render(
            request,
            "question.html",
            status=422,
            title=query.title,
            query=query,
            given=given,
            errors=[{"parameter": e.parameter, "message": str(e)} for e in errors],
            columns=[],
            rows=[],
            total=0,
            text=query.bind({}),
            coverage=None,
        )
    rows = await svc.rows(text)
    variables = _variables(rows)
    table = [[cell(svc, r.get(v)) for v in variables] for r in rows]
    return render(
        request,
        "question.html",
        title=query.title,
        query=query,
        given=given,
        errors=[],
        columns=variables,
        rows=table,
        total=len(rows),
        text=text,
        coverage=await _coverage_of(svc, query, resolved),
    )


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


async def resource_page(request: Request, svc: Service, iri: str, headers: dict) -> Response:
    """The page of one resource: its facts, its typed links (also its parts'), what refers to it."""
    rows, links = await _gather(svc, iri)
    if not rows:
        raise ServiceError(404, f"no resource <{iri}> in this dataset")
    out: OrderedDict[str, dict] = OrderedDict()
    into: OrderedDict[str, dict] = OrderedDict()
    label, types = None, []
    for row in rows:
        p, o = row["p"].value, row["o"]
        if row["direction"].value == "out":
            if p == LABEL and label is None:
                label = o.value
            if p == RDF_TYPE:
                types.append(cell(svc, o, api.val(row, "ol")))
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
    is_meeting = any(
        row["direction"].value == "out" and row["p"].value == RDF_TYPE and row["o"].value == MEETING
        for row in rows
    )
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
    )


def _name(svc: Service, term) -> str | None:
    """A convention's name from its short id ("basel" -> "Basel")."""
    if term is None or not term.value.startswith(svc.id_base):
        return None
    return svc.short_id(term.value).replace("-", " ").capitalize()


async def _gather(svc: Service, iri: str):
    import asyncio

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
