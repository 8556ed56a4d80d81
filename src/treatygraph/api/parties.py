"""The JSON API for Parties: who is bound by what, and since when.

Thin answers over the named queries `api-parties`, `api-instruments`, `party-status`,
`parties-at-date`, `party-gaps` and `source-disagreements`. Being bound at a date is always derived
from the dated participation events, never stored.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from treatygraph.api.api import (
    Limit,
    Offset,
    Page,
    Ref,
    all_of,
    context_url,
    iri_param,
    page_of,
    ref,
    val,
)
from treatygraph.api.app import Service, service
from treatygraph.api.errors import ServiceError

router = APIRouter(prefix="/api", tags=["Parties"])

SOURCES = {"ieadb": "source/ieadb-2026-01", "ecolex": "source/ecolex-manyenviron-2024"}
SourceParam = Annotated[
    str,
    Query(description="The source dataset: `ieadb` (primary, 2026) or `ecolex` (to about 2018)"),
]
AtParam = Annotated[
    date | None, Query(description="The date at which to look, YYYY-MM-DD (default: today)")
]


class Party(Ref):
    iso3: str | None = None
    iso2: str | None = None
    formalName: str | None = None
    m49: str | None = None
    region: str | None = None
    wikidata: str | None = None


class Status(BaseModel):
    """What one source records of one Party's actions on one instrument."""

    instrument: Ref
    source: Ref | None = None
    signed: date | None = None
    consentKind: Ref | None = None
    consented: date | None = None
    inForce: date | None = None
    objected: date | None = None
    objectionWithdrawn: date | None = None
    withdrawn: date | None = None


class PartyDetail(Party):
    model_config = ConfigDict(populate_by_name=True)
    context: str = Field(alias="@context")
    status: list[Status]


class Instrument(Ref):
    kind: Ref | None = None
    amends: Ref | None = None
    dateAdopted: date | None = None
    dateEntryIntoForce: date | None = None


class BoundParty(Ref):
    """A Party bound at the date asked, with the date the instrument entered into force for it."""

    iso3: str | None = None
    inForceSince: date | None = None


class Disagreement(BaseModel):
    """One action both sources record, on different dates."""

    party: Ref
    instrument: Ref
    kind: Ref | None = None
    ieadbDate: date | None = None
    ecolexDate: date | None = None


def source_iri(svc: Service, name: str) -> str:
    if name.lower() in SOURCES:
        return svc.id_base + SOURCES[name.lower()]
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


@router.get("/parties", response_model=Page[Party], response_model_by_alias=True)
async def list_parties(
    request: Request,
    q: Annotated[str | None, Query(max_length=200, description="Name or ISO code")] = None,
    region: Annotated[str | None, Query(max_length=100, description="M49 region")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
):
    """The States and the European Union, with their codes and region."""
    svc = service(request)
    params = {"text": q, "region": region}
    total, rows = await page_of(svc, "api-parties", params, limit, offset)
    items = [party(svc, row) for row in rows]
    return Page[Party](
        context=context_url(request), total=total, limit=limit, offset=offset, items=items
    )


@router.get("/parties/{code}", response_model=PartyDetail, response_model_by_alias=True)
async def get_party(request: Request, code: str):
    """One Party (ISO 3166 alpha-3 code, or EUE for the European Union) and its status under
    every instrument, as each source records it."""
    svc = service(request)
    if not code.isalpha() or len(code) != 3:
        raise ServiceError(422, [{"parameter": "code", "message": "code is 3 letters, e.g. JPN"}])
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
    return PartyDetail(
        **party(svc, rows[0]).model_dump(), context=context_url(request), status=status
    )


@router.get("/instruments", response_model=Page[Instrument], response_model_by_alias=True)
async def list_instruments(
    request: Request,
    amends: Annotated[str | None, Query(description="Only amendments/protocols of this")] = None,
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
)
async def parties_bound(
    request: Request,
    instrument_id: str,
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


@router.get("/gaps", response_model=Page[BoundParty], response_model_by_alias=True)
async def gaps(
    request: Request,
    party_to: Annotated[str, Query(alias="party-to", description="Bound by this instrument")],
    not_party_to: Annotated[str, Query(alias="not-party-to", description="...and not by this one")],
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


@router.get("/disagreements", response_model=Page[Disagreement], response_model_by_alias=True)
async def disagreements(
    request: Request,
    instrument: Annotated[str | None, Query(description="Only this instrument")] = None,
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
