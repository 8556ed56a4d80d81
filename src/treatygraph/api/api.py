"""The JSON API under /api: thin answers over the named `api-*.rq` queries.

Every resource appears as `{"iri": ..., "id": ..., "label": ...}`: the IRI the data mints, and a
short id (the path under the id base). Lists are pages (`total`, `limit`, `offset`, `items`). A
JSON-LD context at /api/context.jsonld, referenced by `@context`, makes every answer linked data.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date
from typing import Annotated, Generic, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from treatygraph import queries
from treatygraph.api.app import TG, Service, service
from treatygraph.api.errors import ServiceError

router = APIRouter(prefix="/api", tags=["JSON API"])
T = TypeVar("T")
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size (1 to 1000)")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip")]
IdParam = Annotated[
    str | None,
    Query(max_length=500, description="A short id (e.g. `minamata`) or the full IRI"),
]


# -- models ------------------------------------------------------------------------------------


class Ref(BaseModel):
    """A resource: its IRI, its short id and its label."""

    iri: str
    id: str
    label: str | None = None


class Convention(Ref):
    title: str | None = None
    shortName: str | None = None
    placeOfAdoption: str | None = None
    dateAdopted: date | None = None
    dateEntryIntoForce: date | None = None
    homepage: str | None = None


class Provision(Ref):
    number: str | None = None
    heading: str | None = None
    order: int | None = None


class Link(BaseModel):
    """A typed link from one text to another (or to a body, decision, guideline...)."""

    source: Ref
    type: Ref
    target: Ref
    sourceConvention: Ref | None = None
    targetConvention: Ref | None = None


class ArticleDetail(Provision):
    model_config = ConfigDict(populate_by_name=True)
    context: str = Field(alias="@context")
    instrument: Ref | None = None
    partOf: Ref | None = None
    paragraphs: list[Provision]
    linksOut: list[Link]
    linksIn: list[Link]


class ProvisionDetail(Provision):
    model_config = ConfigDict(populate_by_name=True)
    context: str = Field(alias="@context")
    instrument: Ref | None = None
    partOf: Ref | None = None
    parts: list[Provision]
    linksOut: list[Link]
    linksIn: list[Link]


class Meeting(Ref):
    body: Ref | None = None
    convention: Ref | None = None
    ordinal: int | None = None
    extraordinary: bool | None = None
    startDate: date | None = None
    endDate: date | None = None
    city: str | None = None
    country: str | None = None
    cluster: Ref | None = None


class Decision(Ref):
    symbol: str | None = None
    title: str | None = None
    conventions: list[Ref] = []
    meeting: Ref | None = None
    dateAdopted: date | None = None
    topics: list[Ref] = []


class GuidelineVersion(Ref):
    decision: Ref | None = None
    dateAdopted: date | None = None
    previousVersion: Ref | None = None


class Guideline(Ref):
    title: str | None = None
    conventions: list[Ref] = []
    topics: list[Ref] = []
    versions: list[GuidelineVersion] = []


class SearchHit(Ref):
    type: Ref | None = None
    matched: str | None = None


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    model_config = ConfigDict(populate_by_name=True)
    context: str = Field(alias="@context")
    total: int
    limit: int
    offset: int
    items: list[T]


# -- running the named queries -----------------------------------------------------------------


async def page_of(
    svc: Service, name: str, params: dict[str, str | None], limit: int, offset: int
) -> tuple[int, list[dict]]:
    """One page of a named query's answer and its total: read from the catalogue when it keeps
    this answer (unfiltered lists), else a LIMIT/OFFSET query and a COUNT, run concurrently."""
    text = bind(svc, name, params)
    kept = svc.current_catalogue()
    if kept is not None:
        page = await asyncio.to_thread(kept.page, text, limit, offset)
        if page is not None:
            return page.total, page.rows
    prologue, body = split_prologue(text)
    page = f"{text}\nLIMIT {limit} OFFSET {offset}"
    count = f"{prologue}\nSELECT (COUNT(*) AS ?total) WHERE {{ {body} }}"
    rows, totals = await asyncio.gather(svc.rows(page), svc.rows(count))
    return int(totals[0]["total"].value) if totals else 0, rows


async def search_rows(
    svc: Service, text: str, limit: int | None, offset: int = 0
) -> tuple[int, list[dict]]:
    """The answer of `api-search` for a text: from the catalogue's index when it is current."""
    if any(ord(character) < 32 for character in text):
        message = "the search text must not contain control characters"
        raise ServiceError(422, [{"parameter": "q", "message": message}])
    kept = svc.current_catalogue()
    if kept is not None:
        page = await asyncio.to_thread(kept.search, text, limit, offset)
        if page is not None:
            return page.total, page.rows
    if limit is None:
        rows = await all_of(svc, "api-search", {"text": text})
        return len(rows), rows[offset:]
    return await page_of(svc, "api-search", {"text": text}, limit, offset)


async def all_of(svc: Service, name: str, params: dict[str, str | None]) -> list[dict]:
    return await svc.rows(bind(svc, name, params))


def bind(svc: Service, name: str, params: dict[str, str | None]) -> str:
    try:
        return svc.queries[name].bind(params)
    except queries.BadParameter as error:
        raise ServiceError(
            422, [{"parameter": _param_of(str(error)), "message": str(error)}]
        ) from None


def _param_of(message: str) -> str:
    match = re.search(r"parameter '(\w+)'", message)
    return PUBLIC_NAMES.get(match.group(1), match.group(1)) if match else ""


PUBLIC_NAMES = {"atMeeting": "meeting", "text": "q", "from": "from", "to": "to"}


def split_prologue(text: str) -> tuple[str, str]:
    """Split PREFIX/BASE declarations (and comments) from the query proper."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip().upper()
        if stripped and not stripped.startswith(("#", "PREFIX", "BASE")):
            return "\n".join(lines[:index]), "\n".join(lines[index:])
    return text, ""


def iri_param(svc: Service, value: str | None, name: str) -> str | None:
    """A short id or IRI given by the client, as an IRI (None when absent)."""
    if value is None or value == "":
        return None
    value = value.strip()
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value) and not value.startswith("tg:"):
        return value
    if value.startswith("tg:"):
        return TG + value[3:]
    if not re.fullmatch(r"[\w\-.~/:%!$&'()*+,;=@]+", value):
        raise ServiceError(
            422, [{"parameter": name, "message": f"{name} must be a short id or an IRI"}]
        )
    return svc.id_base + value.lstrip("/")


def ref(svc: Service, row: dict, key: str, label_key: str | None = None) -> Ref | None:
    term = row.get(key)
    if term is None or term.type != "uri":
        return None
    label = row.get(label_key) if label_key else None
    return Ref(iri=term.value, id=svc.short_id(term.value), label=label.value if label else None)


def refs(svc: Service, value, labels: dict[str, str] | None = None) -> list[Ref]:
    iris = value.value.split() if value is not None else []
    return [Ref(iri=i, id=svc.short_id(i), label=(labels or {}).get(i)) for i in iris]


def val(row: dict, key: str):
    term = row.get(key)
    return term.value if term is not None else None


def context_url(request: Request) -> str:
    return str(request.url_for("jsonld_context"))


# -- endpoints ---------------------------------------------------------------------------------


@router.get("/context.jsonld", name="jsonld_context", summary="The JSON-LD context of the API")
async def jsonld_context(request: Request) -> JSONResponse:
    svc = service(request)
    iri = {"@type": "@id"}
    xsd_date = {"@type": "http://www.w3.org/2001/XMLSchema#date"}
    context = {
        "@context": {
            "@version": 1.1,
            "tg": TG,
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "dcterms": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "@base": svc.id_base,
            "iri": "@id",
            "id": None,
            "total": None,
            "limit": None,
            "offset": None,
            "matched": None,
            "items": "@graph",
            "label": "rdfs:label",
            "title": "dcterms:title",
            "shortName": "dcterms:alternative",
            "placeOfAdoption": "tg:placeOfAdoption",
            "dateAdopted": {"@id": "tg:dateAdopted", **xsd_date},
            "dateEntryIntoForce": {"@id": "tg:dateEntryIntoForce", **xsd_date},
            "homepage": {"@id": "foaf:homepage", **iri},
            "number": "tg:number",
            "heading": "tg:heading",
            "order": "tg:order",
            "instrument": {"@id": "tg:instrument", **iri},
            "partOf": {"@id": "tg:partOf", **iri},
            "paragraphs": {"@reverse": "tg:partOf"},
            "parts": {"@reverse": "tg:partOf"},
            "linksOut": None,
            "linksIn": None,
            "body": {"@id": "tg:meetingOf", **iri},
            "convention": None,
            "conventions": {"@id": "tg:convention", **iri},
            "ordinal": "tg:ordinal",
            "extraordinary": "tg:extraordinary",
            "startDate": {"@id": "tg:startDate", **xsd_date},
            "endDate": {"@id": "tg:endDate", **xsd_date},
            "city": "tg:city",
            "country": "tg:country",
            "cluster": {"@id": "tg:inCluster", **iri},
            "symbol": "tg:symbol",
            "meeting": {"@id": "tg:adoptedAt", **iri},
            "topics": {"@id": "tg:topic", **iri},
            "decision": {"@id": "tg:adoptedBy", **iri},
            "previousVersion": {"@id": "tg:previousVersion", **iri},
            "versions": {"@reverse": "tg:versionOf"},
            "type": {"@id": "@type", **iri},
            "source": None,
            "target": None,
            "sourceConvention": None,
            "targetConvention": None,
        }
    }
    return JSONResponse(context, media_type="application/ld+json")


@router.get("/conventions", response_model=Page[Convention], response_model_by_alias=True)
async def list_conventions(request: Request, limit: Limit = 100, offset: Offset = 0):
    """The conventions."""
    svc = service(request)
    total, rows = await page_of(svc, "api-conventions", {}, limit, offset)
    items = [convention(svc, row) for row in rows]
    return Page[Convention](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )


def convention(svc: Service, row: dict) -> Convention:
    return Convention(
        **ref(svc, row, "convention", "label").model_dump(),
        title=val(row, "title"),
        shortName=val(row, "shortName"),
        placeOfAdoption=val(row, "placeOfAdoption"),
        dateAdopted=val(row, "dateAdopted"),
        dateEntryIntoForce=val(row, "dateEntryIntoForce"),
        homepage=val(row, "homepage"),
    )


@router.get("/conventions/{convention_id}", response_model=Convention)
async def get_convention(request: Request, convention_id: str):
    """One convention."""
    svc = service(request)
    iri = iri_param(svc, convention_id, "convention_id")
    rows = await all_of(svc, "api-conventions", {"convention": iri})
    if not rows:
        raise ServiceError(404, f"no convention {convention_id!r}")
    return convention(svc, rows[0])


async def _provisions(request: Request, convention_id: str, kind: str, limit: int, offset: int):
    svc = service(request)
    iri = iri_param(svc, convention_id, "convention_id")
    if not await all_of(svc, "api-conventions", {"convention": iri}):
        raise ServiceError(404, f"no convention {convention_id!r}")
    params = {"convention": iri, "class": TG + kind}
    total, rows = await page_of(svc, "api-provisions", params, limit, offset)
    items = [provision(svc, row, "provision") for row in rows]
    return Page[Provision](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )


def provision(svc: Service, row: dict, key: str) -> Provision:
    order = val(row, "order")
    return Provision(
        **ref(svc, row, key, "label").model_dump(),
        number=val(row, "number"),
        heading=val(row, "heading"),
        order=int(order) if order is not None and order.lstrip("-").isdigit() else None,
    )


@router.get(
    "/conventions/{convention_id}/articles",
    response_model=Page[Provision],
    response_model_by_alias=True,
)
async def list_articles(
    request: Request, convention_id: str, limit: Limit = 100, offset: Offset = 0
):
    """The articles of a convention, in document order."""
    return await _provisions(request, convention_id, "Article", limit, offset)


@router.get(
    "/conventions/{convention_id}/annexes",
    response_model=Page[Provision],
    response_model_by_alias=True,
)
async def list_annexes(
    request: Request, convention_id: str, limit: Limit = 100, offset: Offset = 0
):
    """The annexes of a convention, in document order."""
    return await _provisions(request, convention_id, "Annex", limit, offset)


@router.get(
    "/articles/{convention_id}/{number}",
    response_model=ArticleDetail,
    response_model_by_alias=True,
)
async def get_article(request: Request, convention_id: str, number: str):
    """One article: its paragraphs, and every typed link into and out of it (or its paragraphs)."""
    svc = service(request)
    if not re.fullmatch(r"[\w\-.]+", number):
        raise ServiceError(422, [{"parameter": "number", "message": "not an article number"}])
    conv = iri_param(svc, convention_id, "convention_id")
    iri = f"{conv}/article/{number}"
    facts, paragraphs, links = await asyncio.gather(
        all_of(svc, "api-provision", {"provision": iri}),
        all_of(svc, "api-paragraphs", {"article": iri}),
        all_of(svc, "api-provision-links", {"provision": iri}),
    )
    if not facts:
        raise ServiceError(404, f"no article {number} of {convention_id!r}")
    row = facts[0]
    out = [link(svc, r) for r in links if val(r, "direction") == "out"]
    into = [link(svc, r) for r in links if val(r, "direction") == "in"]
    return ArticleDetail(
        **provision(svc, row, "provision").model_dump(),
        context=context_url(request),
        instrument=ref(svc, row, "instrument", "instrumentLabel"),
        partOf=ref(svc, row, "partOf"),
        paragraphs=[provision(svc, r, "paragraph") for r in paragraphs],
        linksOut=out,
        linksIn=into,
    )


@router.get(
    "/provisions/{provision_id:path}",
    response_model=ProvisionDetail,
    response_model_by_alias=True,
)
async def get_provision(request: Request, provision_id: str):
    """Any provision (article, paragraph, annex, annex part) by its short id, e.g.
    `stockholm/annex/A` or `minamata/article/11/paragraph/3`: its parts and its typed links."""
    svc = service(request)
    if not re.fullmatch(r"[\w\-.]+(/[\w\-.]+)+", provision_id):
        raise ServiceError(
            422, [{"parameter": "provision_id", "message": "not a provision id (a/b/c...)"}]
        )
    iri = svc.id_base + provision_id
    facts, parts, links = await asyncio.gather(
        all_of(svc, "api-provision", {"provision": iri}),
        all_of(svc, "api-parts", {"whole": iri}),
        all_of(svc, "api-provision-links", {"provision": iri}),
    )
    if not facts:
        raise ServiceError(404, f"no provision {provision_id!r}")
    row = facts[0]
    return ProvisionDetail(
        **provision(svc, row, "provision").model_dump(),
        context=context_url(request),
        instrument=ref(svc, row, "instrument", "instrumentLabel"),
        partOf=ref(svc, row, "partOf"),
        parts=[provision(svc, r, "part") for r in parts],
        linksOut=[link(svc, r) for r in links if val(r, "direction") == "out"],
        linksIn=[link(svc, r) for r in links if val(r, "direction") == "in"],
    )


def link(svc: Service, row: dict) -> Link:
    other = ref(svc, row, "otherConvention")
    outgoing = val(row, "direction") == "out"
    return Link(
        source=ref(svc, row, "source", "sourceLabel"),
        type=ref(svc, row, "linkType", "linkLabel"),
        target=ref(svc, row, "target", "targetLabel"),
        sourceConvention=ref(svc, row, "sourceConvention") or (None if outgoing else other),
        targetConvention=ref(svc, row, "targetConvention") or (other if outgoing else None),
    )


@router.get("/meetings", response_model=Page[Meeting], response_model_by_alias=True)
async def list_meetings(
    request: Request,
    convention: IdParam = None,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Meetings, oldest first; filter by convention and by the year they began."""
    svc = service(request)
    params = {
        "convention": iri_param(svc, convention, "convention"),
        "year": None if year is None else str(year),
    }
    total, rows = await page_of(svc, "api-meetings", params, limit, offset)
    items = [
        Meeting(
            **ref(svc, row, "meeting", "label").model_dump(),
            body=ref(svc, row, "body", "bodyLabel"),
            convention=ref(svc, row, "meetingConvention"),
            ordinal=val(row, "ordinal"),
            extraordinary=val(row, "extraordinary"),
            startDate=val(row, "startDate"),
            endDate=val(row, "endDate"),
            city=val(row, "city"),
            country=val(row, "country"),
            cluster=ref(svc, row, "cluster"),
        )
        for row in rows
    ]
    return Page[Meeting](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )


@router.get("/decisions", response_model=Page[Decision], response_model_by_alias=True)
async def list_decisions(
    request: Request,
    convention: IdParam = None,
    meeting: IdParam = None,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    topic: IdParam = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="Text")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Decisions; filter by convention, meeting, year, topic and text (symbol, title...)."""
    svc = service(request)
    params = {
        "convention": iri_param(svc, convention, "convention"),
        "atMeeting": iri_param(svc, meeting, "meeting"),
        "year": None if year is None else str(year),
        "topic": iri_param(svc, topic, "topic"),
        "text": q,
    }
    total, rows = await page_of(svc, "api-decisions", params, limit, offset)
    items = [
        Decision(
            **ref(svc, row, "decision", "label").model_dump(),
            symbol=val(row, "symbol"),
            title=val(row, "title"),
            conventions=refs(svc, row.get("conventions")),
            meeting=ref(svc, row, "meeting", "meetingLabel"),
            dateAdopted=val(row, "date"),
            topics=refs(svc, row.get("topics")),
        )
        for row in rows
    ]
    return Page[Decision](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )


@router.get("/guidelines", response_model=Page[Guideline], response_model_by_alias=True)
async def list_guidelines(
    request: Request, convention: IdParam = None, limit: Limit = 100, offset: Offset = 0
):
    """Technical guidelines, each with its versions and the decisions that adopted them."""
    svc = service(request)
    params = {"convention": iri_param(svc, convention, "convention")}
    (total, rows), versions = await asyncio.gather(
        page_of(svc, "api-guidelines", params, limit, offset),
        all_of(svc, "api-guideline-versions", params),
    )
    by_guideline: dict[str, list[GuidelineVersion]] = {}
    for row in versions:
        by_guideline.setdefault(val(row, "guideline"), []).append(
            GuidelineVersion(
                **ref(svc, row, "version", "label").model_dump(),
                decision=ref(svc, row, "decision", "symbol"),
                dateAdopted=val(row, "dateAdopted"),
                previousVersion=ref(svc, row, "previous"),
            )
        )
    items = [
        Guideline(
            **ref(svc, row, "guideline", "label").model_dump(),
            title=val(row, "title"),
            conventions=refs(svc, row.get("conventions")),
            topics=refs(svc, row.get("topics")),
            versions=by_guideline.get(val(row, "guideline"), []),
        )
        for row in rows
    ]
    return Page[Guideline](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )


LinkType = Annotated[
    str | None,
    Query(
        alias="type",
        max_length=200,
        description="A link type: refersTo, implements, recalls, amends, supersedes, requests, "
        "cooperatesWith (or its IRI)",
    ),
]


@router.get("/links", response_model=Page[Link], response_model_by_alias=True)
async def list_links(
    request: Request,
    from_: Annotated[str | None, Query(alias="from", max_length=500)] = None,
    to: IdParam = None,
    link_type: LinkType = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Typed links between conventions; filter by source and target convention and link type."""
    svc = service(request)
    type_iri = None
    if link_type:
        name = link_type.removeprefix("tg:")
        type_iri = link_type if "://" in link_type else TG + name
        if not re.fullmatch(r"[\w:/#.\-]+", type_iri):
            raise ServiceError(422, [{"parameter": "type", "message": "not a link type"}])
    params = {
        "from": iri_param(svc, from_, "from"),
        "to": iri_param(svc, to, "to"),
        "type": type_iri,
    }
    total, rows = await page_of(svc, "api-links", params, limit, offset)
    items = [
        Link(
            source=ref(svc, row, "source", "sourceLabel"),
            type=ref(svc, row, "linkType", "linkLabel"),
            target=ref(svc, row, "target", "targetLabel"),
            sourceConvention=ref(svc, row, "sourceConvention"),
            targetConvention=ref(svc, row, "targetConvention"),
        )
        for row in rows
    ]
    return Page[Link](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )


@router.get("/search", response_model=Page[SearchHit], response_model_by_alias=True)
async def search(
    request: Request,
    q: Annotated[str, Query(min_length=2, max_length=200, description="Text to look for")],
    limit: Limit = 50,
    offset: Offset = 0,
):
    """Resources whose label, title, short name or symbol contains the text."""
    svc = service(request)
    total, rows = await search_rows(svc, q, limit, offset)
    items = [
        SearchHit(
            **ref(svc, row, "resource", "label").model_dump(),
            type=ref(svc, row, "type"),
            matched=val(row, "matched"),
        )
        for row in rows
    ]
    return Page[SearchHit](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )


class NamedQueryInfo(BaseModel):
    name: str
    title: str
    description: str
    parameters: dict[str, str]


@router.get("/queries", response_model=list[NamedQueryInfo])
async def list_queries(request: Request):
    """The named questions (the .rq files), with their parameters."""
    svc = service(request)
    return [
        NamedQueryInfo(
            name=q.name,
            title=q.title,
            description=q.description,
            parameters={p.name: f"{p.type}: {p.description}" for p in q.params.values()},
        )
        for q in svc.queries.values()
    ]
