"""The JSON API under /api: thin answers over the named `api-*.rq` queries.

Every resource appears as `{"iri": ..., "id": ..., "label": ...}`: the IRI the data mints, and a
short id (the path under the id base); described resources also carry their `description`. Lists
are pages (`total`, `limit`, `offset`, `items`). Every answer is JSON-LD: `@context` names the
static, versioned context document served at /api/context.jsonld (see models.py).
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated

import pyoxigraph as ox
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from treatygraph import coverage, queries
from treatygraph.api import models
from treatygraph.api.app import TG, Service, service
from treatygraph.api.errors import ServiceError
from treatygraph.api.models import (
    ID_PATTERN,
    NUMBER_PATTERN,
    PROVISION_PATTERN,
    TEXT_PATTERN,
    ArticleDetail,
    Convention,
    ConventionDetail,
    ConventionId,
    Decision,
    Guideline,
    GuidelineVersion,
    IdParam,
    Limit,
    Link,
    Meeting,
    NamedQueryInfo,
    Offset,
    Page,
    Provision,
    ProvisionDetail,
    Ref,
    SearchHit,
    Year,
)

router = APIRouter(prefix="/api", tags=["JSON API"])
LIST_ERRORS = models.errors(422, 503)
FILTERED_LIST_ERRORS = models.errors(404, 422, 503)  # a filter naming no possible resource: 404
DETAIL_ERRORS = models.errors(404, 422, 503)


class JSONLDResponse(JSONResponse):
    media_type = "application/ld+json"


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
    """Split PREFIX/BASE declarations (and comments) from the query proper. Lines end at \n
    only: str.splitlines also breaks at U+0085 and U+2028, which may stand in a bound value."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        stripped = line.strip().upper()
        if stripped and not stripped.startswith(("#", "PREFIX", "BASE")):
            return "\n".join(lines[:index]), "\n".join(lines[index:])
    return text, ""


def to_iri(value: str, base: str) -> str:
    """The IRI a short id or IRI names: an IRI (with a scheme) as it is, `tg:Term` in the
    ontology, anything else under `base`."""
    value = value.strip()
    if value.startswith("tg:"):
        return TG + value[3:]
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", value):
        return value
    return base + value.lstrip("/")


def iri_param(svc: Service, value: str | None, name: str) -> str | None:
    """A short id or IRI given by the client (of the form models.ID_PATTERN), as an IRI (None
    when absent). A value that is still no valid IRI names nothing this service has: 404."""
    if value is None or value == "":
        return None
    if not re.fullmatch(ID_PATTERN, value):  # routes check the pattern; this is for the others
        raise ServiceError(
            422, [{"parameter": name, "message": f"{name} must be a short id or an IRI"}]
        )
    iri = to_iri(value, svc.id_base)
    try:
        ox.NamedNode(iri)
    except ValueError:
        raise ServiceError(404, f"no resource {value!r} ({name}): not an IRI") from None
    return iri


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


# -- labels and descriptions -------------------------------------------------------------------

ANNOTATIONS = """PREFIX rdfs:    <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?r (MIN(STR(?l)) AS ?label) (MIN(STR(?d1)) AS ?description) (MIN(STR(?d2)) AS ?comment)
WHERE {
  VALUES ?r { {iris} }
  OPTIONAL { ?r rdfs:label ?l }
  OPTIONAL { ?r dcterms:description ?d1 }
  OPTIONAL { ?r rdfs:comment ?d2 }
}
GROUP BY ?r"""


class Annotation:
    """A resource's rdfs:label and its description (dcterms:description, else rdfs:comment)."""

    __slots__ = ("label", "description")

    def __init__(self, label: str | None = None, description: str | None = None):
        self.label = label
        self.description = description


async def annotations(svc: Service, iris) -> dict[str, Annotation]:
    """The label and description of each of the resources (IRIs read from the store)."""
    wanted = sorted({iri for iri in iris if iri})
    if not wanted:
        return {}
    found: dict[str, Annotation] = {}
    for start in range(0, len(wanted), 1000):
        chunk = " ".join(f"<{iri}>" for iri in wanted[start : start + 1000])
        for row in await svc.rows(ANNOTATIONS.replace("{iris}", chunk)):
            found[row["r"].value] = Annotation(
                val(row, "label"), val(row, "description") or val(row, "comment")
            )
    return found


def describe(items: list, found: dict[str, Annotation]) -> list:
    """The items (models with `iri` and `description`) with their descriptions filled in."""
    for item in items:
        annotation = found.get(item.iri)
        if annotation is not None and item.description is None:
            item.description = annotation.description
    return items


def relabel(reference: Ref | None, found: dict[str, Annotation]) -> Ref | None:
    """A reference whose label is the resource's rdfs:label (the named query gave another)."""
    if reference is None:
        return None
    annotation = found.get(reference.iri)
    reference.label = annotation.label if annotation is not None else None
    return reference


# -- endpoints ---------------------------------------------------------------------------------


@router.get(
    "/context.jsonld",
    name="jsonld_context",
    summary="The JSON-LD context of the API (static, versioned)",
    response_class=JSONLDResponse,
    responses={200: {"content": {"application/ld+json": {"schema": {"type": "object"}}}}},
)
async def jsonld_context() -> JSONLDResponse:
    """The context document every answer of the JSON API names in `@context`: each field mapped
    to a vocabulary IRI. Its version is in it (`schema:version`); a new version only adds."""
    return JSONLDResponse(models.context_document())


@router.get(
    "/conventions",
    response_model=Page[Convention],
    response_model_by_alias=True,
    responses=LIST_ERRORS,
)
async def list_conventions(request: Request, limit: Limit = 100, offset: Offset = 0):
    """The conventions."""
    svc = service(request)
    total, rows = await page_of(svc, "api-conventions", {}, limit, offset)
    items = [convention(svc, row) for row in rows]
    describe(items, await annotations(svc, (item.iri for item in items)))
    return Page[Convention](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )


def convention(svc: Service, row: dict, model: type[Convention] = Convention, **extra):
    return model(
        **ref(svc, row, "convention", "label").model_dump(),
        title=val(row, "title"),
        shortName=val(row, "shortName"),
        placeOfAdoption=val(row, "placeOfAdoption"),
        dateAdopted=val(row, "dateAdopted"),
        dateEntryIntoForce=val(row, "dateEntryIntoForce"),
        homepage=val(row, "homepage"),
        **extra,
    )


@router.get(
    "/conventions/{convention_id}",
    response_model=ConventionDetail,
    response_model_by_alias=True,
    responses=DETAIL_ERRORS,
)
async def get_convention(request: Request, convention_id: ConventionId):
    """One convention."""
    svc = service(request)
    iri = iri_param(svc, convention_id, "convention_id")
    rows = await all_of(svc, "api-conventions", {"convention": iri})
    if not rows:
        raise ServiceError(404, f"no convention {convention_id!r}")
    found = convention(svc, rows[0], ConventionDetail, context=context_url(request))
    describe([found], await annotations(svc, [found.iri]))
    return found


async def _provisions(request: Request, convention_id: str, kind: str, limit: int, offset: int):
    svc = service(request)
    iri = iri_param(svc, convention_id, "convention_id")
    if not await all_of(svc, "api-conventions", {"convention": iri}):
        raise ServiceError(404, f"no convention {convention_id!r}")
    params = {"convention": iri, "class": TG + kind}
    total, rows = await page_of(svc, "api-provisions", params, limit, offset)
    items = [provision(svc, row, "provision") for row in rows]
    describe(items, await annotations(svc, (item.iri for item in items)))
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
    responses=DETAIL_ERRORS,
)
async def list_articles(
    request: Request, convention_id: ConventionId, limit: Limit = 100, offset: Offset = 0
):
    """The articles of a convention, in document order."""
    return await _provisions(request, convention_id, "Article", limit, offset)


@router.get(
    "/conventions/{convention_id}/annexes",
    response_model=Page[Provision],
    response_model_by_alias=True,
    responses=DETAIL_ERRORS,
)
async def list_annexes(
    request: Request, convention_id: ConventionId, limit: Limit = 100, offset: Offset = 0
):
    """The annexes of a convention, in document order."""
    return await _provisions(request, convention_id, "Annex", limit, offset)


ArticleNumber = Annotated[
    str,
    Path(
        max_length=50,
        pattern=NUMBER_PATTERN,
        description="The article's number, e.g. 11",
        examples=["11"],
    ),
]
ProvisionId = Annotated[
    str,
    Path(
        max_length=500,
        pattern=PROVISION_PATTERN,
        description="A provision's short id, e.g. `minamata/article/11/paragraph/3`",
        examples=["minamata/article/11/paragraph/3"],
    ),
]


@router.get(
    "/articles/{convention_id}/{number}",
    response_model=ArticleDetail,
    response_model_by_alias=True,
    responses=DETAIL_ERRORS,
)
async def get_article(request: Request, convention_id: ConventionId, number: ArticleNumber):
    """One article: its paragraphs, and every typed link into and out of it (or its paragraphs)."""
    svc = service(request)
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
    parts = [provision(svc, r, "paragraph") for r in paragraphs]
    instrument = ref(svc, row, "instrument")
    found = await annotations(
        svc, [iri, *(p.iri for p in parts), *([instrument.iri] if instrument else [])]
    )
    article = ArticleDetail(
        **provision(svc, row, "provision").model_dump(),
        context=context_url(request),
        instrument=relabel(instrument, found),
        partOf=ref(svc, row, "partOf"),
        paragraphs=describe(parts, found),
        linksOut=[link(svc, r) for r in links if val(r, "direction") == "out"],
        linksIn=[link(svc, r) for r in links if val(r, "direction") == "in"],
    )
    return describe([article], found)[0]


@router.get(
    "/provisions/{provision_id:path}",
    response_model=ProvisionDetail,
    response_model_by_alias=True,
    responses=DETAIL_ERRORS,
)
async def get_provision(request: Request, provision_id: ProvisionId):
    """Any provision (article, paragraph, annex, annex part) by its short id, e.g.
    `stockholm/annex/A` or `minamata/article/11/paragraph/3`: its parts and its typed links."""
    svc = service(request)
    iri = svc.id_base + provision_id
    facts, part_rows, links = await asyncio.gather(
        all_of(svc, "api-provision", {"provision": iri}),
        all_of(svc, "api-parts", {"whole": iri}),
        all_of(svc, "api-provision-links", {"provision": iri}),
    )
    if not facts:
        raise ServiceError(404, f"no provision {provision_id!r}")
    row = facts[0]
    parts = [provision(svc, r, "part") for r in part_rows]
    instrument = ref(svc, row, "instrument")
    found = await annotations(
        svc, [iri, *(p.iri for p in parts), *([instrument.iri] if instrument else [])]
    )
    detail = ProvisionDetail(
        **provision(svc, row, "provision").model_dump(),
        context=context_url(request),
        instrument=relabel(instrument, found),
        partOf=ref(svc, row, "partOf"),
        parts=describe(parts, found),
        linksOut=[link(svc, r) for r in links if val(r, "direction") == "out"],
        linksIn=[link(svc, r) for r in links if val(r, "direction") == "in"],
    )
    return describe([detail], found)[0]


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


@router.get(
    "/meetings",
    response_model=Page[Meeting],
    response_model_by_alias=True,
    responses=FILTERED_LIST_ERRORS,
)
async def list_meetings(
    request: Request,
    convention: IdParam = None,
    year: Year = None,
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
    counts = {
        m.meeting: models.MeetingCount(**m.to_dict())
        for m in coverage.meetings(await svc.rows(svc.queries[coverage.QUERY].bind()))
    }
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
            coverage=counts.get(row["meeting"].value),
        )
        for row in rows
    ]
    describe(items, await annotations(svc, (item.iri for item in items)))
    return Page[Meeting](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )


SearchText = Annotated[
    str, Query(min_length=1, max_length=200, pattern=TEXT_PATTERN, description="Text")
]


@router.get(
    "/decisions",
    response_model=models.DecisionPage,
    response_model_by_alias=True,
    responses=FILTERED_LIST_ERRORS,
)
async def list_decisions(
    request: Request,
    convention: IdParam = None,
    meeting: IdParam = None,
    year: Year = None,
    topic: IdParam = None,
    q: SearchText = None,
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
    describe(items, await annotations(svc, (item.iri for item in items)))
    counts = await svc.rows(svc.queries[coverage.QUERY].bind())
    found = coverage.of_filters(
        counts, convention=params["convention"], meeting=params["atMeeting"], year=year
    )
    return models.DecisionPage(
        context=context_url(request),
        total=total,
        limit=limit,
        offset=offset,
        items=items,
        coverage=models.Coverage(**found.to_dict()),
    )


@router.get(
    "/guidelines",
    response_model=Page[Guideline],
    response_model_by_alias=True,
    responses=FILTERED_LIST_ERRORS,
)
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
                decision=ref(svc, row, "decision"),
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
    shown = [version for item in items for version in item.versions]
    found = await annotations(
        svc,
        [
            *(item.iri for item in items),
            *(version.iri for version in shown),
            *(version.decision.iri for version in shown if version.decision),
        ],
    )
    describe(items, found)
    describe(shown, found)
    for version in shown:
        relabel(version.decision, found)
    return Page[Guideline](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )


LinkType = Annotated[
    str,
    Query(
        alias="type",
        max_length=200,
        pattern=ID_PATTERN,
        description="A link type: refersTo, implements, recalls, amends, supersedes, requests, "
        "cooperatesWith (or its IRI)",
    ),
]
FromParam = Annotated[
    str,
    Query(
        alias="from",
        max_length=500,
        pattern=ID_PATTERN,
        description="The source convention: a short id (e.g. `minamata`) or the full IRI",
    ),
]


@router.get(
    "/links",
    response_model=Page[Link],
    response_model_by_alias=True,
    responses=FILTERED_LIST_ERRORS,
)
async def list_links(
    request: Request,
    from_: FromParam = None,
    to: IdParam = None,
    link_type: LinkType = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Typed links between conventions; filter by source and target convention and link type."""
    svc = service(request)
    type_iri = None
    if link_type:
        type_iri = to_iri(link_type, TG)
        try:
            ox.NamedNode(type_iri)
        except ValueError:
            raise ServiceError(404, f"no link type {link_type!r}: not an IRI") from None
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


@router.get(
    "/search",
    response_model=Page[SearchHit],
    response_model_by_alias=True,
    responses=LIST_ERRORS,
)
async def search(
    request: Request,
    q: Annotated[
        str,
        Query(
            min_length=2,
            max_length=200,
            pattern=TEXT_PATTERN,
            description="Text to look for",
            examples=["mercury"],
        ),
    ],
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


@router.get(
    "/queries",
    response_model=Page[NamedQueryInfo],
    response_model_by_alias=True,
    responses=models.errors(422),
)
async def list_queries(request: Request, limit: Limit = 100, offset: Offset = 0):
    """The named questions (the .rq files), with their parameters."""
    svc = service(request)
    named = list(svc.queries.values())
    items = [
        NamedQueryInfo(
            name=q.name,
            title=q.title,
            description=q.description,
            parameters={p.name: f"{p.type}: {p.description}" for p in q.params.values()},
        )
        for q in named[offset : offset + limit]
    ]
    return Page[NamedQueryInfo](
        context=context_url(request), total=len(named), limit=limit, offset=offset, items=items
    )
