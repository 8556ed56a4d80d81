"""Web pages for people: home with search, lists, the named questions, resource and ontology pages.

Pages are plain HTML from Jinja2 templates over the same named queries as the JSON API. Every IRI
minted under the base links to this service, so a reader can follow links from page to page.
"""

from __future__ import annotations

import re
from collections import OrderedDict

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from treatygraph import queries
from treatygraph.api import api
from treatygraph.api.app import TG, Service, service
from treatygraph.api.errors import ServiceError
from treatygraph.build import ONTOLOGY_GRAPH

router = APIRouter(include_in_schema=False)
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PAGE_SIZE = 100


def render(request: Request, name: str, headers: dict | None = None, **context) -> HTMLResponse:
    svc = service(request)
    context.setdefault("title", "treatygraph")
    return svc.templates.TemplateResponse(
        request, name, {"svc": svc, "link": svc.local, **context}, headers=headers
    )


def cell(svc: Service, term, label: str | None = None) -> dict:
    """A table cell: text, and a link when the value is an IRI."""
    if term is None:
        return {"text": ""}
    if term.type == "uri":
        text = label or (
            svc.short_id(term.value) if term.value.startswith(svc.base) else _curie(term.value)
        )
        return {"text": text, "href": svc.local(term.value)}
    return {"text": term.value}


def natural(text: str) -> list:
    """A sort key that puts "paragraph 2" before "paragraph 10"."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


@router.get("/", response_class=HTMLResponse)
async def home(request: Request):
    svc = service(request)
    stats = await svc.stats()
    questions = [q for q in svc.queries.values() if not q.name.startswith("api-")]
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
            {"text": api.val(r, "matched") or ""},
        ]
        for r in rows
    ]
    return render(
        request,
        "table.html",
        title=f"Search: {q}" if q else "Search",
        search=q,
        columns=["Resource", "Type", "Matched text"],
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
    )


@router.get("/questions/{name}", response_class=HTMLResponse)
async def question_page(request: Request, name: str):
    svc = service(request)
    query = svc.queries.get(name)
    if query is None:
        raise ServiceError(404, f"no named question {name!r}")
    given = {k: v for k, v in request.query_params.items() if k in query.params and v.strip()}
    try:
        text = query.bind(given)
    except queries.BadParameter as error:
        raise ServiceError(422, str(error)) from None
    rows = await svc.rows(text)
    variables = _variables(rows)
    table = [[cell(svc, r.get(v)) for v in variables] for r in rows]
    return render(
        request,
        "question.html",
        title=query.title,
        query=query,
        given=given,
        columns=variables,
        rows=table,
        total=len(rows),
        text=text,
    )


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


ONTOLOGY_TERMS = """PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?term ?kind ?label ?definition ?super ?domain ?range ?inverse WHERE {
  GRAPH <{graph}> {
    ?term a ?kind .
    FILTER(?kind IN (owl:Class, owl:ObjectProperty, owl:DatatypeProperty))
    OPTIONAL { ?term rdfs:label ?label }
    OPTIONAL { ?term skos:definition ?definition }
    OPTIONAL { ?term rdfs:subClassOf|rdfs:subPropertyOf ?super }
    OPTIONAL { ?term rdfs:domain ?domain }
    OPTIONAL { ?term rdfs:range ?range }
    OPTIONAL { ?term owl:inverseOf ?inverse }
  }
}"""
ONTOLOGY_META = """PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT ?title ?description ?version WHERE { GRAPH <{graph}> {
  ?o a owl:Ontology . OPTIONAL { ?o dcterms:title ?title }
  OPTIONAL { ?o dcterms:description ?description }
  OPTIONAL { ?o owl:versionInfo ?version } } }"""
KINDS = {
    "http://www.w3.org/2002/07/owl#Class": "Classes",
    "http://www.w3.org/2002/07/owl#ObjectProperty": "Object properties",
    "http://www.w3.org/2002/07/owl#DatatypeProperty": "Datatype properties",
}


async def ontology_page(request: Request, svc: Service, headers: dict) -> Response:
    import asyncio

    graph = str(ONTOLOGY_GRAPH)
    rows, meta = await asyncio.gather(
        svc.rows(ONTOLOGY_TERMS.replace("{graph}", graph)),
        svc.rows(ONTOLOGY_META.replace("{graph}", graph)),
    )
    terms: OrderedDict[str, dict] = OrderedDict()
    for row in sorted(rows, key=lambda r: r["term"].value):
        iri = row["term"].value
        if not iri.startswith(TG):
            continue
        term = terms.setdefault(
            iri,
            {
                "iri": iri,
                "anchor": iri[len(TG) :],
                "kind": KINDS[row["kind"].value],
                "label": api.val(row, "label"),
                "definition": api.val(row, "definition"),
                "super": [],
                "domain": [],
                "range": [],
                "inverse": [],
            },
        )
        for key in ("super", "domain", "range", "inverse"):
            value = row.get(key)
            if value is not None and value.type == "uri":
                entry = {"text": _curie(value.value), "href": svc.local(value.value)}
                if entry not in term[key]:
                    term[key].append(entry)
    groups = OrderedDict((kind, []) for kind in KINDS.values())
    for term in terms.values():
        groups[term["kind"]].append(term)
    info = meta[0] if meta else {}
    return render(
        request,
        "ontology.html",
        headers=headers,
        title=api.val(info, "title") or "treatygraph ontology",
        description=api.val(info, "description"),
        version=api.val(info, "version"),
        groups=groups,
        iri=svc.ontology_iri,
    )


CURIES = {
    TG: "tg:",
    "http://data.europa.eu/eli/ontology#": "eli:",
    "https://schema.org/": "schema:",
    "http://purl.org/dc/terms/": "dcterms:",
    "http://www.w3.org/2004/02/skos/core#": "skos:",
    "http://www.w3.org/ns/prov#": "prov:",
    "http://xmlns.com/foaf/0.1/": "foaf:",
    "http://www.w3.org/2001/XMLSchema#": "xsd:",
    "http://www.w3.org/2002/07/owl#": "owl:",
    "http://www.w3.org/2000/01/rdf-schema#": "rdfs:",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf:",
}


def _curie(iri: str) -> str:
    for namespace, prefix in CURIES.items():
        if iri.startswith(namespace):
            return prefix + iri[len(namespace) :]
    return iri
