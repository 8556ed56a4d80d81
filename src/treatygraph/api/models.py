"""The contract of the service: the shapes of the JSON API's answers, its parameter types, the one
error body, and the OpenAPI description of every route (what each really answers, and in which
media types).

Every JSON answer under /api is JSON-LD: its `@context` names the static, versioned context
document (`treatygraph/static/`, served at /api/context.jsonld) that maps each field below to a
vocabulary IRI. A field added here needs a term there (tests/test_api_jsonld.py checks that no
field is dropped on expansion).
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import FastAPI, Query
from fastapi import Path as PathParam
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

STATIC = Path(__file__).resolve().parents[1] / "static"
CONTEXT_VERSION = "1"
CONTEXT_FILE = STATIC / f"context-v{CONTEXT_VERSION}.jsonld"
T = TypeVar("T")


@cache
def context_document() -> dict:
    """The JSON-LD context document of the API (a static file, read once)."""
    return json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))


# -- parameter types ---------------------------------------------------------------------------
# A query string is text: the types below accept only the text the schema describes (pydantic
# alone would take `1.0` or ` 5` as an integer and `3.07e-305` as a date, a Unix time).


def _digits_only(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"-?[0-9]{1,12}", value):
        raise ValueError("must be a whole number written in digits, e.g. 10")
    return value


def _iso_date_only(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("must be a date written YYYY-MM-DD, e.g. 2024-01-01")
    return value


DIGITS = BeforeValidator(_digits_only)
ISO_DATE = BeforeValidator(_iso_date_only)

# What a short id or IRI given in a parameter may hold: IRI characters (RFC 3987's unreserved and
# sub-delims, `:`, `@`, `/`, percent escapes, at most one `#` fragment), never spaces, controls,
# quotes or `<>{}|\^`. A value of this form that is still no IRI (a bad port, say) names nothing:
# the answer is 404, as for any id the data does not have.
_IRI_CHAR = r"A-Za-z0-9\-._~!$&'()*+,;=:@/"
ID_PATTERN = rf"^(?:[{_IRI_CHAR}]|%[0-9A-Fa-f]{{2}})+(?:#(?:[{_IRI_CHAR}?]|%[0-9A-Fa-f]{{2}})*)?$"
# In a path the server sees the value decoded: no percent escapes there.
PATH_ID_PATTERN = rf"^[{_IRI_CHAR}]+(?:#[{_IRI_CHAR}?]*)?$"
SEGMENT_PATTERN = r"^[A-Za-z0-9._~-]+$"  # one path segment: a convention's short id
NUMBER_PATTERN = r"^[A-Za-z0-9._-]+$"
PROVISION_PATTERN = r"^[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*$"
CODE_PATTERN = r"^[A-Za-z]{3}$"
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"  # search text: no control characters

Limit = Annotated[int, Query(ge=1, le=1000, description="Page size (1 to 1000)"), DIGITS]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip"), DIGITS]
Year = Annotated[int, Query(ge=1900, le=2200, description="A year, e.g. 2019"), DIGITS]
IdParam = Annotated[
    str,
    Query(
        max_length=500,
        pattern=ID_PATTERN,
        description="A short id (e.g. `minamata`) or the full IRI",
    ),
]
AtParam = Annotated[
    date,
    Query(
        description="The date at which to look, YYYY-MM-DD (default: today)",
        examples=["2024-01-01"],
    ),
    ISO_DATE,
]
SourceParam = Annotated[
    Literal["ieadb", "ecolex"],
    Query(description="The source dataset: `ieadb` (primary, 2026) or `ecolex` (to about 2018)"),
]
ConventionId = Annotated[
    str,
    PathParam(
        max_length=200,
        pattern=SEGMENT_PATTERN,
        description="A convention's short id, e.g. `minamata`",
        examples=["minamata"],
    ),
]


# -- the error body ----------------------------------------------------------------------------


class ParameterProblem(BaseModel):
    """What is wrong with one parameter of the request."""

    model_config = ConfigDict(populate_by_name=True)
    parameter: str = Field(description="The parameter's name as sent (empty: the whole request)")
    in_: Literal["query", "path", "header", "cookie", "body", "request"] = Field(
        alias="in", description="Where the parameter is"
    )
    message: str


class Problem(BaseModel):
    """Every error the JSON API answers, whatever its status: a message, and for a request that
    does not fit the schema (422) the parameters at fault."""

    detail: str = Field(description="What went wrong, for a person")
    errors: list[ParameterProblem] = Field(
        default_factory=list, description="The parameters at fault (422); else empty"
    )


STATUS_TEXT = {
    400: "The request could not be processed",
    401: "A write without the token (`Authorization: Bearer <token>`)",
    403: "Not allowed: the service is read-only, or the token is not valid",
    404: "Nothing of that id (or no such graph)",
    406: "None of the media types in Accept (or `format`) is available here",
    409: "The update was refused for the dataset's state",
    413: "The request body is larger than the limit",
    415: "The request body's Content-Type is not one this route reads",
    422: "A parameter does not fit the schema (each is named in `errors`)",
    503: "The service is busy or the query ran out of time: try again (see Retry-After)",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again (when the service is busy)",
        "required": False,
        "schema": {"type": "string"},
    }
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a JSON API route: the statuses it answers besides 200, as Problems."""
    answer: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        answer[status] = {"model": Problem, "description": STATUS_TEXT[status]}
        if status == 503:
            answer[status]["headers"] = RETRY_AFTER
    return answer


# -- the JSON API's answers --------------------------------------------------------------------


class Ref(BaseModel):
    """A resource: its IRI, its short id and its label."""

    iri: str = Field(description="The resource's IRI")
    id: str = Field(description="Its short id: the path under the id base, or `tg:Term`")
    label: str | None = None


class Described(Ref):
    description: str | None = Field(
        default=None, description="The resource's description (dcterms:description or rdfs:comment)"
    )


class Convention(Described):
    title: str | None = None
    shortName: str | None = None
    placeOfAdoption: str | None = None
    dateAdopted: date | None = None
    dateEntryIntoForce: date | None = None
    homepage: str | None = None


class ConventionDetail(Convention):
    model_config = ConfigDict(populate_by_name=True)
    context: str = Field(alias="@context")


class Provision(Described):
    number: str | None = None
    heading: str | None = None
    order: int | None = None


class Link(BaseModel):
    """A typed link from one text to another (or to a body, decision, guideline...): the
    statement `source type target`, with the conventions of both ends."""

    model_config = ConfigDict(populate_by_name=True)
    type_: Literal["Link"] = Field(default="Link", alias="@type")
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


class MeetingCount(BaseModel):
    """One meeting's decisions: recorded in the graph, and adopted (its official count)."""

    meeting: str = Field(description="The meeting's IRI")
    label: str
    recorded: int = Field(description="Decisions of the meeting recorded in the graph")
    adopted: int | None = Field(None, description="The official count, where a source states it")
    confirmed: bool = Field(description="Whether an official count is known")
    atLeast: int | None = Field(None, description="No official count: the numbering's floor")
    source: str = Field(description="Where the count (or the floor) comes from")


class Meeting(Described):
    body: Ref | None = None
    convention: Ref | None = None
    ordinal: int | None = None
    extraordinary: bool | None = None
    startDate: date | None = None
    endDate: date | None = None
    city: str | None = None
    country: str | None = None
    cluster: Ref | None = None
    coverage: MeetingCount | None = Field(
        None, description="Decisions of the meeting recorded against adopted (COP meetings)"
    )


class Decision(Described):
    symbol: str | None = None
    title: str | None = None
    conventions: list[Ref] = []
    meeting: Ref | None = None
    dateAdopted: date | None = None
    topics: list[Ref] = []


class Coverage(BaseModel):
    """How complete a list of decisions is: recorded against adopted, for its meetings."""

    scope: str
    meetings: int
    recorded: int
    adopted: int | None = None
    meetingsWithOfficialCount: int
    meetingsNotConfirmed: int
    atLeast: int | None = None
    complete: bool
    text: str = Field(description="The same, for a person")
    perMeeting: list[MeetingCount]


class GuidelineVersion(Described):
    decision: Ref | None = None
    dateAdopted: date | None = None
    previousVersion: Ref | None = None


class Guideline(Described):
    title: str | None = None
    conventions: list[Ref] = []
    topics: list[Ref] = []
    versions: list[GuidelineVersion] = []


class SearchHit(Ref):
    type: Ref | None = None
    matched: str | None = None


class NamedQueryInfo(BaseModel):
    """A named question (a .rq file): its name, what it answers and its parameters."""

    name: str
    title: str
    description: str
    parameters: dict[str, str] = Field(description="Each parameter: `type: description`")


class Party(Described):
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

    model_config = ConfigDict(populate_by_name=True)
    type_: Literal["Disagreement"] = Field(default="Disagreement", alias="@type")
    party: Ref
    instrument: Ref
    kind: Ref | None = None
    ieadbDate: date | None = None
    ecolexDate: date | None = None


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    model_config = ConfigDict(populate_by_name=True)
    context: str = Field(alias="@context")
    total: int
    limit: int
    offset: int
    items: list[T]


class DecisionPage(Page[Decision]):
    """A page of decisions, with the coverage of the meetings the filters select: a partial
    record is never presented as complete."""

    coverage: Coverage


# -- the OpenAPI document ----------------------------------------------------------------------
# The JSON API's routes declare their answers where they are defined (`responses=errors(...)`).
# The protocol routes (SPARQL, Graph Store, VoID, dereferenceable IRIs) read their parameters
# and bodies themselves and negotiate their media type: what they take and answer is described
# here, and checked against what they really do by tests/test_schemathesis.py.

TEXT = {"text/plain": {"schema": {"type": "string"}}}
RESULT_TYPES = [
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
]
GRAPH_TYPES = ["text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"]
QUAD_TYPES = ["application/trig", "application/n-quads"]
IRI_PATTERN = r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20<>\"{}|\\^`\x7f]*$"
# The `format` names each kind of route takes (see negotiation.FORMAT_NAMES).
GRAPH_FORMATS = [
    "turtle", "ttl", "n3", "nt", "ntriples", "n-triples", "jsonld", "json-ld", "json", "rdfxml",
    "rdf+xml", "rdf", "xml",
]  # fmt: skip
RESULT_FORMATS = ["json", "srj", "xml", "srx", "csv", "tsv"]
QUAD_FORMATS = ["trig", "nq", "nquads"]


def _content(*types: str) -> dict[str, Any]:
    """Bodies in the given media types: JSON ones are any JSON, the others text."""
    return {
        media_type: {"schema": {} if "json" in media_type else {"type": "string"}}
        for media_type in types
    }


def _plain_errors(*statuses: int) -> dict[str, Any]:
    answer = {}
    for status in statuses:
        answer[str(status)] = {"description": STATUS_TEXT[status], "content": TEXT}
        if status == 503:
            answer[str(status)]["headers"] = RETRY_AFTER
    return answer


def _param(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


def _format(*names: str) -> dict:
    return _param(
        "format",
        {"type": "string", "enum": list(dict.fromkeys(names))},
        "A short name of the media type to answer in (overrides Accept; for links and browsers)",
    )


GRAPH_URIS = [
    _param(
        name,
        {"type": "array", "items": {"type": "string", "pattern": IRI_PATTERN}, "maxItems": 4},
        description,
    )
    for name, description in (
        ("default-graph-uri", "A graph of the dataset the query's default graph is made of"),
        ("named-graph-uri", "A graph of the dataset the query may name with GRAPH"),
    )
]
SPARQL_TEXT = {"type": "string", "minLength": 1, "maxLength": 20_000}
RDF_BODY = {
    "required": True,
    "content": {
        **_content(*GRAPH_TYPES),
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
    },
}
GRAPH_PARAMS = [
    _param("graph", {"type": "string", "pattern": IRI_PATTERN}, "The graph's IRI"),
    {
        "name": "default",
        "in": "query",
        "required": False,
        "allowEmptyValue": True,
        "schema": {"type": "string"},
        "description": "The default graph: present (its value, usually empty, is not read) or "
        "not; give `?default` or `?graph=IRI`, not both",
    },
]
# Operations that write: with a write token they need it (401 without, 403 with a wrong one);
# a read-only service (no token) refuses them all with 403.
WRITES = {
    ("/sparql", "post"),
    ("/update", "post"),
    ("/rdf-graphs/service", "put"),
    ("/rdf-graphs/service", "post"),
    ("/rdf-graphs/service", "delete"),
}
PROTOCOL_ROUTES: dict[tuple[str, str], dict[str, Any]] = {
    ("/sparql", "get"): {
        "description": "A query (`?query=`), answered in the negotiated media type; without "
        "one, the service description (RDF), or the query form for a browser. A `format` "
        "that does not fit the query's form (csv for a CONSTRUCT) is 406.",
        "parameters": [
            _param("query", SPARQL_TEXT, "A SPARQL 1.1 query"),
            *GRAPH_URIS,
            _format(*RESULT_FORMATS, *GRAPH_FORMATS, *QUAD_FORMATS, "html"),
        ],
        "responses": {
            "200": {
                "description": "The results (SELECT, ASK), the graph (CONSTRUCT, DESCRIBE), "
                "the service description, or the query form",
                "content": _content(*RESULT_TYPES, *GRAPH_TYPES, *QUAD_TYPES, "text/html"),
            },
            **_plain_errors(400, 406, 503),
        },
    },
    ("/sparql", "post"): {
        "description": "A query (form `query=` or `application/sparql-query`) or an update "
        "(form `update=` or `application/sparql-update`; needs the write token).",
        "parameters": [
            *GRAPH_URIS,
            _format(*RESULT_FORMATS, *GRAPH_FORMATS, *QUAD_FORMATS),
        ],
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {"query": SPARQL_TEXT, "update": SPARQL_TEXT},
                        "maxProperties": 1,
                        "minProperties": 1,
                    }
                },
                "application/sparql-query": {"schema": SPARQL_TEXT},
                "application/sparql-update": {"schema": SPARQL_TEXT},
            },
        },
        "responses": {
            "200": {
                "description": "The query's results or graph",
                "content": _content(*RESULT_TYPES, *GRAPH_TYPES, *QUAD_TYPES),
            },
            "204": {"description": "The update was applied"},
            **_plain_errors(400, 401, 403, 406, 409, 413, 415, 503),
        },
    },
    ("/update", "post"): {
        "description": "A SPARQL 1.1 Update (form `update=` or `application/sparql-update`).",
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {"update": SPARQL_TEXT},
                        "required": ["update"],
                    }
                },
                "application/sparql-update": {"schema": SPARQL_TEXT},
            },
        },
        "responses": {
            "204": {"description": "The update was applied"},
            **_plain_errors(400, 401, 403, 409, 413, 415, 503),
        },
    },
    ("/.well-known/void", "get"): {
        "parameters": [_format(*GRAPH_FORMATS)],
        "responses": {
            "200": {"description": "The VoID description", "content": _content(*GRAPH_TYPES)},
            **_plain_errors(406, 503),
        },
    },
    ("/rdf-graphs/service", "get"): {
        "parameters": [*GRAPH_PARAMS, _format(*GRAPH_FORMATS)],
        "responses": {
            "200": {"description": "The graph", "content": _content(*GRAPH_TYPES)},
            **_plain_errors(400, 404, 406, 503),
        },
    },
    ("/rdf-graphs/service", "put"): {
        "parameters": GRAPH_PARAMS,
        "requestBody": RDF_BODY,
        "responses": {
            "201": {"description": "The graph was made"},
            "204": {"description": "The graph was replaced"},
            **_plain_errors(400, 401, 403, 404, 413, 415, 503),
        },
    },
    ("/rdf-graphs/service", "post"): {
        "description": "Add to a graph; without `graph` or `default`, make a new graph (its IRI "
        "in Location).",
        "parameters": GRAPH_PARAMS,
        "requestBody": RDF_BODY,
        "responses": {
            "201": {"description": "A graph was made"},
            "204": {"description": "The triples were added"},
            **_plain_errors(400, 401, 403, 404, 413, 415, 503),
        },
    },
    ("/rdf-graphs/service", "delete"): {
        "parameters": GRAPH_PARAMS,
        "responses": {
            "204": {"description": "The graph was deleted"},
            **_plain_errors(400, 401, 403, 404, 503),
        },
    },
    ("/id/{path}", "get"): {
        "parameters": [
            {
                "name": "path",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "minLength": 1, "maxLength": 500},
                "description": "The IRI's path under the id base, e.g. `minamata/article/11`",
            },
            _format("html", *GRAPH_FORMATS),
        ],
        "responses": {
            "200": {
                "description": "The resource: a page, or its description in RDF",
                "content": _content("text/html", *GRAPH_TYPES),
            },
            **_plain_errors(404, 406, 503),
        },
    },
    ("/ontology", "get"): {
        "parameters": [_format("html", *GRAPH_FORMATS)],
        "responses": {
            "200": {
                "description": "The ontology: its documentation, or the ontology in RDF",
                "content": _content("text/html", *GRAPH_TYPES),
            },
            **_plain_errors(406, 503),
        },
    },
}


def _writes(operation: dict, writable: bool, optional: bool) -> None:
    """Declare how a writing operation is authorized on this service."""
    responses = operation["responses"]
    if writable:
        operation["security"] = [{}, {"writeToken": []}] if optional else [{"writeToken": []}]
        return
    responses.pop("401", None)
    responses["403"] = {
        "description": "This service is read-only (started without a write token): every "
        "write is refused",
        "content": TEXT,
    }


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document: FastAPI's, with the 422 body the service really sends, the
    protocol routes described as they behave, and the write token as a security scheme."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    svc = getattr(app.state, "service", None)
    writable = bool(svc is not None and svc.settings.write_token)
    if writable:
        components.setdefault("securitySchemes", {})["writeToken"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "The write token the service was started with",
        }
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            described = PROTOCOL_ROUTES.get((path, method))
            if described is not None:
                operation.update(json.loads(json.dumps(described)))  # a copy: edited below
            if (path, method) in WRITES:
                _writes(operation, writable, optional=path == "/sparql")
            _problems_for_validation(operation)
    return document


def _problems_for_validation(operation: dict) -> None:
    """Any 422 left as FastAPI's {loc, msg, type} list is the Problem the handler sends."""
    answer = operation.get("responses", {}).get("422")
    if answer is None:
        return
    for media in answer.get("content", {}).values():
        if media.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
            media["schema"] = {"$ref": "#/components/schemas/Problem"}


def install(app: FastAPI) -> None:
    """Serve `openapi_document` (made once, on first request) as the app's OpenAPI document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
