"""The SPARQL 1.1 Protocol (query and update), the service description, VoID and the Graph Store
HTTP Protocol (indirect identification: /rdf-graphs/service?graph=... or ?default).

Every query passes the guard first (no SERVICE, no LOAD, no FROM of a foreign graph), then runs in
a worker with the time and size bounds. Writes need `Authorization: Bearer <write token>`.
"""

from __future__ import annotations

import hmac
import uuid
from urllib.parse import parse_qs

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from treatygraph import guard, uploads, write_policy
from treatygraph.api import negotiation
from treatygraph.api.app import Service, service
from treatygraph.api.errors import ServiceError
from treatygraph.api.worker import Job
from treatygraph.store import RDF_FORMATS
from treatygraph.uploads import UploadLimits

router = APIRouter(tags=["SPARQL"])
FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


# -- SPARQL 1.1 Protocol ---------------------------------------------------------------------


@router.get("/sparql", summary="SPARQL 1.1 query (GET), or the service description")
@router.head("/sparql", include_in_schema=False)
@router.post("/sparql", summary="SPARQL 1.1 query or update (POST)")
async def sparql_endpoint(request: Request) -> Response:
    """Query by GET or POST (form or direct), update by POST; no query: the service description."""
    svc = service(request)
    params = _multi(request.query_params.multi_items())
    if request.method in ("GET", "HEAD"):
        if params.get("update"):
            raise ServiceError(400, "an update must be sent with POST, not GET")
        queries = params.get("query", [])
        if not queries:
            if any(params.get(k) for k in ("default-graph-uri", "named-graph-uri")):
                raise ServiceError(400, "default-graph-uri and named-graph-uri need a query=")
            return await _description(request, svc)
        return await _query(request, svc, _one(queries, "query"), params)
    media_type, charset = _content_type(request)
    if charset and charset not in ("utf-8", "utf8"):
        raise ServiceError(415, f"the request body must be UTF-8, not {charset}")
    body = await request.body()
    if media_type == FORM:
        form = _multi(_parse_form(body))
        if form.get("query") and form.get("update"):
            raise ServiceError(400, "send either query= or update=, not both")
        merged = {k: params.get(k, []) + form.get(k, []) for k in set(params) | set(form)}
        if form.get("update"):
            return await _update(request, svc, _one(form["update"], "update"), merged)
        if not form.get("query"):
            raise ServiceError(400, "the form has no query= (or update=) parameter")
        return await _query(request, svc, _one(form["query"], "query"), merged)
    if media_type == QUERY:
        return await _query(request, svc, _text(body), params)
    if media_type == UPDATE:
        return await _update(request, svc, _text(body), params)
    given = media_type or "none"
    raise ServiceError(
        415,
        f"unsupported Content-Type {given}: POST a query as {FORM} (query=...) or as {QUERY}, "
        f"an update as {FORM} (update=...) or as {UPDATE}",
    )


@router.post("/update", summary="SPARQL 1.1 Update (needs the write token)")
async def update_endpoint(request: Request) -> Response:
    svc = service(request)
    authorize(request, svc)
    params = _multi(request.query_params.multi_items())
    media_type, charset = _content_type(request)
    if charset and charset not in ("utf-8", "utf8"):
        raise ServiceError(415, f"the request body must be UTF-8, not {charset}")
    body = await request.body()
    if media_type == FORM:
        form = _multi(_parse_form(body))
        merged = {k: params.get(k, []) + form.get(k, []) for k in set(params) | set(form)}
        return await _update(request, svc, _one(form.get("update", []), "update"), merged)
    if media_type == UPDATE:
        return await _update(request, svc, _text(body), params)
    raise ServiceError(415, f"POST an update as {FORM} (update=...) or as {UPDATE}")


async def _query(request: Request, svc: Service, text: str, params: dict) -> Response:
    # What the query may do is decided by the guard in the worker, on a parse; here only what
    # is cheap and not a security decision: the nesting bound and the form (for negotiation).
    try:
        guard.check_nesting(text)
    except guard.Refused as refused:
        raise ServiceError(400, str(refused)) from None
    form = guard.query_form(text)
    offered, aliases = (
        (negotiation.GRAPH_TYPES, negotiation.GRAPH_ALIASES)
        if form in ("construct", "describe")
        else (negotiation.SOLUTION_TYPES, negotiation.SOLUTION_ALIASES)
    )
    chosen = _negotiate(request, params, offered, aliases)
    if guard.has_relative_iri(text):
        text = f"BASE <{_endpoint(request)}> {text}"
    job = Job(
        "query",
        text,
        media_type=chosen,
        default_graphs=tuple(params.get("default-graph-uri", [])),
        named_graphs=tuple(params.get("named-graph-uri", [])),
        guard=svc.settings.query_guard,
        client=True,
    )
    outcome = await svc.run(job)
    if outcome.kind == "graph" and chosen not in negotiation.GRAPH_TYPES:
        # The form could not be told from the text (unusual text): answer in the graph default.
        chosen = negotiation.GRAPH_TYPES[0]
        outcome = await svc.run(Job(**{**job.__dict__, "media_type": chosen}))
    body = b"" if request.method == "HEAD" else outcome.body
    return Response(body, media_type=chosen, headers={"Vary": "Accept"})


def _negotiate(request: Request, params: dict, offered: list[str], aliases: dict) -> str:
    fmt = (params.get("format") or [None])[0]
    return negotiation.negotiate(fmt, request.headers.get("accept"), offered, aliases)


async def _update(request: Request, svc: Service, text: str, params: dict) -> Response:
    authorize(request, svc)
    try:
        guard.check_nesting(text)
        using = params.get("using-graph-uri", [])
        using_named = params.get("using-named-graph-uri", [])
        if using or using_named:
            text = guard.add_using(text, using, using_named)
    except guard.Refused as refused:
        raise ServiceError(400, str(refused)) from None
    if guard.has_relative_iri(text):
        text = f"BASE <{_endpoint(request)}> {text}"
    try:  # no operation may target a curated graph (see treatygraph.write_policy)
        await write_policy.refuse_update(svc.settings.store_path, text)
    except write_policy.WriteRefused as refused:
        raise ServiceError(refused.status, str(refused)) from None
    # The guard checks the update on a parse in the (sandboxed) writer, before the engine.
    await svc.write(Job("update", text, guard=svc.settings.query_guard))
    return Response(status_code=204)


def authorize(request: Request, svc: Service) -> None:
    """Writes need the write token as a Bearer token; without a configured token, none pass."""
    token = svc.settings.write_token
    if not token:
        raise ServiceError(403, "this service is read-only: updates are not accepted")
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise ServiceError(
            401, "updates need Authorization: Bearer <token>", {"WWW-Authenticate": "Bearer"}
        )
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ServiceError(403, "the token is not valid for updates")


# -- Service description and VoID ------------------------------------------------------------

SD_PREFIXES = """@prefix sd:      <http://www.w3.org/ns/sparql-service-description#> .
@prefix void:    <http://rdfs.org/ns/void#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix formats: <http://www.w3.org/ns/formats/> .
"""
RESULT_FORMAT_IRIS = [
    "formats:SPARQL_Results_JSON",
    "formats:SPARQL_Results_XML",
    "formats:SPARQL_Results_CSV",
    "formats:SPARQL_Results_TSV",
    "formats:Turtle",
    "formats:N-Triples",
    "formats:JSON-LD",
    "formats:RDF_XML",
    "formats:TriG",
    "formats:N-Quads",
]


async def _description(request: Request, svc: Service) -> Response:
    root = _root(request)
    endpoint = _endpoint(request)
    languages = ["sd:SPARQL11Query"] + (["sd:SPARQL11Update"] if svc.settings.write_token else [])
    turtle = (
        SD_PREFIXES
        + f"""
<{endpoint}#service> a sd:Service ;
    rdfs:label "treatygraph SPARQL endpoint"@en ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage {", ".join(languages)} ;
    sd:resultFormat {", ".join(RESULT_FORMAT_IRIS)} ;
    sd:feature sd:UnionDefaultGraph, sd:BasicFederatedQuery ;
    rdfs:comment '''The default graph is the union of all named graphs. SERVICE, LOAD and FROM of
 graphs outside this dataset are refused; every query is bounded to {svc.settings.query_timeout:g} s
 and {svc.settings.max_result_bytes} bytes of result.'''@en ;
    sd:defaultDataset <{root}/.well-known/void#dataset> .

<{root}/.well-known/void#dataset> a sd:Dataset ;
    sd:defaultGraph [ a sd:Graph ] ;
    rdfs:seeAlso <{root}/.well-known/void> .
"""
    )
    # SERVICE is refused: the description must not claim basic federated query.
    turtle = turtle.replace(", sd:BasicFederatedQuery", "")
    for graph in sorted(await svc.own_graphs()):
        turtle += (
            f"<{root}/.well-known/void#dataset> sd:namedGraph "
            f"[ sd:name <{graph}> ; sd:graph [ a sd:Graph ] ] .\n"
        )
    return _rdf_response(request, turtle, endpoint, html=True)


@router.get("/.well-known/void", summary="VoID description of the dataset")
@router.head("/.well-known/void", include_in_schema=False)
async def void_description(request: Request) -> Response:
    svc = service(request)
    root = _root(request)
    stats = await svc.stats()
    dataset = f"<{root}/.well-known/void#dataset>"
    turtle = (
        SD_PREFIXES
        + f"""
{dataset} a void:Dataset ;
    dcterms:title "treatygraph"@en ;
    dcterms:description '''A linked-data knowledge graph of the Basel, Rotterdam, Stockholm and
 Minamata conventions.'''@en ;
    dcterms:license <https://creativecommons.org/licenses/by/4.0/> ;
    void:sparqlEndpoint <{_endpoint(request)}> ;
    void:uriSpace "{svc.id_base}" ;
    void:vocabulary <{svc.ontology_iri}> ;
    void:exampleResource <{svc.id_base}minamata/article/11> ;
    void:triples {stats.get("", 0)} ;
    void:rootResource <{svc.id_base}minamata>, <{svc.id_base}basel>,
        <{svc.id_base}rotterdam>, <{svc.id_base}stockholm> .
"""
    )
    for graph, count in sorted(stats.items()):
        if graph:
            turtle += (
                f"{dataset} void:subset [ a void:Dataset ; sd:name <{graph}> ; "
                f"void:triples {count} ] .\n"
            )
    return _rdf_response(request, turtle, f"{root}/.well-known/void")


def _rdf_response(request: Request, turtle: str, base: str, html: bool = False) -> Response:
    """The description in the negotiated RDF syntax (or, for a browser, the query form)."""
    params = _multi(request.query_params.multi_items())
    offered = [t for t in negotiation.GRAPH_TYPES if t not in negotiation_quads()]
    offered += ["text/html"] if html else []
    chosen = _negotiate(request, params, offered, negotiation.GRAPH_ALIASES)
    if chosen == "text/html":
        svc = service(request)
        return svc.templates.TemplateResponse(
            request,
            "sparql.html",
            {"svc": svc, "title": "SPARQL", "timeout": f"{svc.settings.query_timeout:g}"},
            headers={"Vary": "Accept"},
        )
    if chosen == "text/turtle":
        body = turtle.encode()
    else:
        triples = ox.parse(turtle.encode(), format=ox.RdfFormat.TURTLE, base_iri=base)
        body = ox.serialize(triples, format=RDF_FORMATS[chosen]) or b""
    return Response(
        b"" if request.method == "HEAD" else body, media_type=chosen, headers={"Vary": "Accept"}
    )


# -- Graph Store HTTP Protocol (indirect identification) -------------------------------------


@router.get("/rdf-graphs/service", summary="Graph Store Protocol: read a graph")
@router.head("/rdf-graphs/service", include_in_schema=False)
@router.put("/rdf-graphs/service", summary="Graph Store Protocol: replace a graph (token)")
@router.post("/rdf-graphs/service", summary="Graph Store Protocol: add to a graph (token)")
@router.delete("/rdf-graphs/service", summary="Graph Store Protocol: delete a graph (token)")
async def graph_store(request: Request) -> Response:
    svc = service(request)
    if request.method not in ("GET", "HEAD"):
        authorize(request, svc)  # who may write comes before what the request says
    params = _multi(request.query_params.multi_items())
    graphs = params.get("graph", [])
    if "default" in params and graphs:
        raise ServiceError(400, "give either ?default or ?graph=IRI, not both")
    if not graphs and "default" not in params:
        if request.method == "POST":
            return await _gsp_create(request, svc)
        raise ServiceError(400, "name a graph: ?graph=IRI or ?default")
    graph = _one(graphs, "graph") if graphs else None
    if graph is not None and not _is_iri(graph):
        raise ServiceError(400, f"graph must be an absolute IRI, got {graph!r}")
    if request.method in ("GET", "HEAD"):
        return await _gsp_get(request, svc, graph)
    if graph is not None:  # curated graphs change only through data/ (write_policy)
        try:
            write_policy.refuse_graph_write(svc.settings.store_path, graph, request.method)
        except write_policy.WriteRefused as refused:
            raise ServiceError(refused.status, str(refused)) from None
    if request.method == "DELETE":
        if graph is None:
            await svc.write(Job("update", "CLEAR DEFAULT"))
            return Response(status_code=204)
        if graph not in await svc.own_graphs():
            raise ServiceError(404, f"no graph <{graph}> in this dataset")
        await svc.write(Job("drop", graph=graph))
        return Response(status_code=204)
    media_type, data = await _gsp_payload(request, svc)
    existed = graph is None or graph in await svc.own_graphs()
    if request.method == "PUT":
        if graph is None:
            await svc.write(Job("update", "CLEAR DEFAULT ; " + _insert_data(data, media_type)))
        else:
            await svc.write(Job("replace", data=data, media_type=media_type, graph=graph))
    elif graph is None:
        await svc.write(Job("update", _insert_data(data, media_type)))
    else:
        await svc.write(Job("load", data=data, media_type=media_type, graph=graph))
    return Response(status_code=204 if existed else 201)


async def _gsp_get(request: Request, svc: Service, graph: str | None) -> Response:
    offered = [t for t in negotiation.GRAPH_TYPES if t not in negotiation_quads()]
    chosen = _negotiate(request, _multi(request.query_params.multi_items()), offered, {})
    if graph is not None and graph not in await svc.own_graphs():
        raise ServiceError(404, f"no graph <{graph}> in this dataset")
    # The protocol's default graph is the store's own default graph (queries see the union).
    job = Job("dump", media_type=chosen, graph=graph)
    outcome = await svc.run(job)
    body = b"" if request.method == "HEAD" else outcome.body
    return Response(body, media_type=chosen, headers={"Vary": "Accept"})


async def _gsp_create(request: Request, svc: Service) -> Response:
    """POST to the service itself: a new graph with a fresh IRI (Location header); the caller
    has checked the token."""
    media_type, data = await _gsp_payload(request, svc)
    graph = f"{svc.base}graph/uploaded/{uuid.uuid4()}"
    await svc.write(Job("load", data=data, media_type=media_type, graph=graph))
    return Response(status_code=201, headers={"Location": graph})


EXTENSIONS = {
    ".ttl": "text/turtle",
    ".nt": "application/n-triples",
    ".jsonld": "application/ld+json",
    ".rdf": "application/rdf+xml",
    ".xml": "application/rdf+xml",
}


async def _gsp_payload(request: Request, svc: Service) -> tuple[str, bytes]:
    """The RDF sent with a GSP write, parsed within the upload bounds in a sandboxed worker (a
    bad body is refused before anything is written) and handed on as N-Triples; the parts of a
    multipart/form-data body are merged into one."""
    media_type, _ = _content_type(request)
    if media_type == "multipart/form-data":
        return await _multipart_payload(request, svc)
    media_type = _graph_media_type(media_type)
    return "application/n-triples", await _read_upload(
        svc, await request.body(), media_type, str(request.url)
    )


async def _read_upload(svc: Service, data: bytes, media_type: str, base: str) -> bytes:
    # Relative IRIs are resolved in the worker, against the request's URL.
    try:
        uploads.precheck(data, media_type, UploadLimits())
    except uploads.UploadRefused as refused:
        raise ServiceError(refused.status, str(refused)) from None
    job = Job("upload", data=data, media_type=media_type, base=base)
    return (await svc.run(job)).body


def _graph_media_type(media_type: str) -> str:
    media_type = negotiation.GRAPH_ALIASES.get(media_type, media_type)
    if media_type not in RDF_FORMATS or media_type in negotiation_quads():
        raise ServiceError(
            415,
            f"unsupported Content-Type {media_type or 'none'} for a graph; use one of "
            + ", ".join(t for t in RDF_FORMATS if t not in negotiation_quads())
            + " (or multipart/form-data with such parts)",
        )
    return media_type


async def _multipart_payload(request: Request, svc: Service) -> tuple[str, bytes]:
    try:
        form = await request.form()
    except Exception as error:  # noqa: BLE001 - any parse failure is the client's
        raise ServiceError(400, f"the multipart body could not be read: {error}") from None
    lines = []
    for _, part in form.multi_items():
        if isinstance(part, str):
            continue
        declared = (part.content_type or "").split(";")[0].strip().lower()
        suffix = "." + (part.filename or "").rsplit(".", 1)[-1].lower()
        media_type = _graph_media_type(
            declared if declared in RDF_FORMATS else EXTENSIONS.get(suffix, declared)
        )
        lines.append(await _read_upload(svc, await part.read(), media_type, str(request.url)))
    if not lines and not form:
        raise ServiceError(400, "the multipart body has no parts")
    return "application/n-triples", b"".join(lines)


def _insert_data(data: bytes, media_type: str) -> str:
    triples = ox.parse(data, format=RDF_FORMATS[media_type])
    lines = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    return "INSERT DATA { " + lines.decode() + " }"


def negotiation_quads() -> set[str]:
    return {"application/trig", "application/n-quads"}


# -- helpers ---------------------------------------------------------------------------------


def _multi(items) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in items:
        out.setdefault(key, []).append(value)
    return out


def _one(values: list[str], name: str) -> str:
    if len(values) != 1:
        raise ServiceError(400, f"exactly one {name}= parameter is required, got {len(values)}")
    return values[0]


def _parse_form(body: bytes) -> list[tuple[str, str]]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ServiceError(400, "the form is not UTF-8") from None
    parsed = parse_qs(text, keep_blank_values=True, strict_parsing=False)
    return [(key, value) for key, values in parsed.items() for value in values]


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ServiceError(400, "the request body is not UTF-8") from None


def _content_type(request: Request) -> tuple[str, str | None]:
    header = request.headers.get("content-type", "")
    main, *rest = [p.strip() for p in header.split(";")]
    charset = None
    for param in rest:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return main.lower(), charset


def _is_iri(value: str) -> bool:
    return guard.tokens(f"<{value}>").__next__().kind == "iri" and ":" in value


def _root(request: Request) -> str:
    """The service's public URL (settings), never one made from the request's Host header."""
    return service(request).public_root


def _endpoint(request: Request) -> str:
    return _root(request) + "/sparql"
