"""The JSON API for Parties: who is bound by what, and since when.

Thin answers over the named queries `api-parties`, `api-instruments`, `party-status`,
`parties-at-date`, `party-gaps` and `source-disagreements`. Being bound at a date is always derived
from the dated participation events, never stored.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from treatygraph.api import models
from treatygraph.api.api import (
    Limit,
    Offset,
    Page,
    all_of,
    annotations,
    context_url,
    describe,
    iri_param,
    page_of,
    ref,
    val,
)
from treatygraph.api.app import Service, service
from treatygraph.api.errors import ServiceError
from treatygraph.api.models import (
    CODE_PATTERN,
    ID_PATTERN,
    PATH_ID_PATTERN,
    TEXT_PATTERN,
    AtParam,
    BoundParty,
    Disagreement,
    Instrument,
    Party,
    PartyDetail,
    SourceParam,
    Status,
)

router = APIRouter(prefix="/api", tags=["Parties"])

SOURCES = {"ieadb": "source/ieadb-2026-01", "ecolex": "source/ecolex-manyenviron-2024"}
InstrumentParam = Annotated[
    str,
    Query(max_length=500, pattern=ID_PATTERN, description="Only this instrument"),
]


def source_iri(svc: Service, name: str) -> str:
    if name in SOURCES:
        return svc.id_base + SOURCES[name]
    raise ServiceError(
        422, [{"parameter": "source", "message": f"source must be one of {', '.join(SOURCES)}"}]
    )


async def instrument_iri(svc: Service, value: str, parameter: str) -> str:
    """The IRI of an instrument given by short id or IRI; 404 when the graph has no such one."""
    iri = iri_param(svc, value, parameter)
    if not await all_of(svc, "api-instruments", {"instrument": iri}):
        raise ServiceError(404, f"no instrument {value!r} ({parameter})")
    return iri


def party(svc: Service, row: dict) -> Party:
    return Party(
        **ref(svc, row, "party", "label").model_dump(),
        iso3=val(row, "iso3"),
        iso2=val(row, "iso2"),
        formalName=val(row, "formalName"),
        m49=val(row, "m49"),
        region=val(row, "regionName"),
        wikidata=val(row, "wikidata"),
    )


@router.get(
    "/parties",
    response_model=Page[Party],
    response_model_by_alias=True,
    responses=models.errors(422, 503),
)
async def list_parties(
    request: Request,
    q: Annotated[
        str, Query(max_length=200, pattern=TEXT_PATTERN, description="Name or ISO code")
    ] = None,
    region: Annotated[
        str, Query(max_length=100, pattern=TEXT_PATTERN, description="M49 region, e.g. Asia")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """The States and the European Union, with their codes and region."""
    svc = service(request)
    params = {"text": q, "region": region}
    total, rows = await page_of(svc, "api-parties", params, limit, offset)
    items = [party(svc, row) for row in rows]
    describe(items, await annotations(svc, (item.iri for item in items)))
    return Page[Party](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )


PartyCode = Annotated[
    str,
    Path(
        pattern=CODE_PATTERN,
        description="ISO 3166 alpha-3 code (EUE: the European Union)",
        examples=["JPN"],
    ),
]


@router.get(
    "/parties/{code}",
    response_model=PartyDetail,
    response_model_by_alias=True,
    responses=models.errors(404, 422, 503),
)
async def get_party(request: Request, code: PartyCode):
    """One Party (ISO 3166 alpha-3 code, or EUE for the European Union) and its status under
    every instrument, as each source records it."""
    svc = service(request)
    iri = f"{svc.id_base}party/{code.upper()}"
    rows = await all_of(svc, "api-parties", {"party": iri})
    if not rows:
        raise ServiceError(404, f"no Party with code {code.upper()!r}")
    status_rows = await all_of(svc, "party-status", {"party": iri})
    status = [
        Status(
            instrument=ref(svc, row, "instrument", "instrumentLabel"),
            source=ref(svc, row, "source"),
            signed=val(row, "signed"),
            consentKind=ref(svc, row, "consentKind", "consentLabel"),
            consented=val(row, "consented"),
            inForce=val(row, "inForce"),
            objected=val(row, "objected"),
            objectionWithdrawn=val(row, "objectionWithdrawn"),
            withdrawn=val(row, "withdrawn"),
        )
        for row in status_rows
    ]
    detail = PartyDetail(
        **party(svc, rows[0]).model_dump(), context=context_url(request), status=status
    )
    return describe([detail], await annotations(svc, [iri]))[0]


@router.get(
    "/instruments",
    response_model=Page[Instrument],
    response_model_by_alias=True,
    responses=models.errors(404, 422, 503),
)
async def list_instruments(
    request: Request,
    amends: Annotated[
        str,
        Query(max_length=500, pattern=ID_PATTERN, description="Only amendments/protocols of this"),
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """The conventions, and the amendments and protocols that change or add to them."""
    svc = service(request)
    params = {"amends": iri_param(svc, amends, "amends")}
    total, rows = await page_of(svc, "api-instruments", params, limit, offset)
    items = [
        Instrument(
            **ref(svc, row, "instrument", "label").model_dump(),
            kind=ref(svc, row, "kind", "kindLabel"),
            amends=ref(svc, row, "amended", "amendedLabel"),
            dateAdopted=val(row, "dateAdopted"),
            dateEntryIntoForce=val(row, "dateEntryIntoForce"),
        )
        for row in rows
    ]
    return Page[Instrument](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )


def bound_party(svc: Service, row: dict) -> BoundParty:
    return BoundParty(
        **ref(svc, row, "party", "partyLabel").model_dump(),
        iso3=val(row, "iso3"),
        inForceSince=val(row, "inForceSince"),
    )


@router.get(
    "/instruments/{instrument_id:path}/parties",
    response_model=Page[BoundParty],
    response_model_by_alias=True,
    responses=models.errors(404, 422, 503),
)
async def parties_bound(
    request: Request,
    instrument_id: Annotated[
        str,
        Path(
            max_length=500,
            pattern=PATH_ID_PATTERN,
            description="An instrument's short id (e.g. `basel/amendment/ban`) or IRI",
            examples=["basel/amendment/ban"],
        ),
    ],
    at: AtParam = None,
    source: SourceParam = "ieadb",
    limit: Limit = 100,
    offset: Offset = 0,
):
    """The Parties bound by an instrument on a date (default today), according to one source."""
    svc = service(request)
    params = {
        "instrument": await instrument_iri(svc, instrument_id, "instrument_id"),
        "date": (at or date.today()).isoformat(),
        "source": source_iri(svc, source),
    }
    total, rows = await page_of(svc, "parties-at-date", params, limit, offset)
    items = [bound_party(svc, row) for row in rows]
    return Page[BoundParty](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )


@router.get(
    "/gaps",
    response_model=Page[BoundParty],
    response_model_by_alias=True,
    responses=models.errors(404, 422, 503),
)
async def gaps(
    request: Request,
    party_to: Annotated[
        str,
        Query(
            alias="party-to",
            max_length=500,
            pattern=ID_PATTERN,
            description="Bound by this instrument",
            examples=["basel"],
        ),
    ],
    not_party_to: Annotated[
        str,
        Query(
            alias="not-party-to",
            max_length=500,
            pattern=ID_PATTERN,
            description="...and not by this one",
            examples=["minamata"],
        ),
    ],
    at: AtParam = None,
    source: SourceParam = "ieadb",
    limit: Limit = 100,
    offset: Offset = 0,
):
    """Parties bound by one instrument and not by another on a date (default today): for
    example `?party-to=basel&not-party-to=minamata`."""
    svc = service(request)
    params = {
        "instrument": await instrument_iri(svc, party_to, "party-to"),
        "other": await instrument_iri(svc, not_party_to, "not-party-to"),
        "date": (at or date.today()).isoformat(),
        "source": source_iri(svc, source),
    }
    total, rows = await page_of(svc, "party-gaps", params, limit, offset)
    items = [bound_party(svc, row) for row in rows]
    return Page[BoundParty](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )


@router.get(
    "/disagreements",
    response_model=Page[Disagreement],
    response_model_by_alias=True,
    responses=models.errors(404, 422, 503),
)
async def disagreements(
    request: Request,
    instrument: InstrumentParam = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """The actions IEADB and ECOLEX both record, on different dates (IEADB is the primary
    source; the UN Treaty Collection is the legal authority)."""
    svc = service(request)
    params = {
        "instrument": await instrument_iri(svc, instrument, "instrument") if instrument else None
    }
    total, rows = await page_of(svc, "source-disagreements", params, limit, offset)
    items = [
        Disagreement(
            party=ref(svc, row, "party", "partyLabel"),
            instrument=ref(svc, row, "instrument"),
            kind=ref(svc, row, "kind"),
            ieadbDate=val(row, "ieadbDate"),
            ecolexDate=val(row, "ecolexDate"),
        )
        for row in rows
    ]
    return Page[Disagreement](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )
