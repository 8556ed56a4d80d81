"""The app factory: one FastAPI app per Settings, with its own executor; nothing global."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import OrderedDict
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from treatygraph import catalogue, queries
from treatygraph.api import answers, edge, errors
from treatygraph.api.errors import ServiceError
from treatygraph.api.executor import Busy, Executor, QueryTimeout, Sharing, WorkerFailed
from treatygraph.api.worker import Confinement, Job, Outcome
from treatygraph.settings import Settings
from treatygraph.store import Limits
from treatygraph.stores.base import Limits as StoreLimits

PACKAGE = Path(__file__).resolve().parents[1]
CACHED_ANSWERS_MAX = 1024  # answers remembered (least recently used go first)
CACHED_ROWS_MAX = 5000  # larger answers are not remembered
TG = "https://w3id.org/treatygraph/ontology#"
CATALOGUE_TIMEOUT = 1800.0  # seconds a worker may take to remake the catalogue
GRAPHS_TIMEOUT = 120.0  # seconds a worker may take to list the named graphs (once per write)
log = logging.getLogger(__name__)


def make_executor(settings: Settings):
    """The embedded store's worker pool, or the remote engine's executor (`store_url`)."""
    if settings.store_url:
        from treatygraph.api.remote_executor import RemoteExecutor
        from treatygraph.stores import open_store

        store = open_store(
            settings.store_url,
            engine=settings.store_engine,
            user=settings.store_user,
            password=settings.store_password,
            timeout=settings.query_timeout,
            limits=StoreLimits(max_rows=settings.max_rows, max_bytes=settings.max_result_bytes),
        )
        return RemoteExecutor(
            store, timeout=settings.query_timeout, query_guard=settings.query_guard
        )
    limits = Limits(max_rows=settings.max_rows, max_bytes=settings.max_result_bytes)
    return Executor(
        settings.store_path,
        workers=settings.query_workers,
        timeout=settings.query_timeout,
        limits=limits,
        confinement=Confinement(
            no_network=settings.worker_sandbox, memory_mb=settings.worker_memory_mb
        ),
        sharing=Sharing(
            queue_wait=settings.queue_wait,
            long_after=settings.long_query_after,
            max_long=settings.max_long_queries,
        ),
    )


class Service:
    """What every router needs: the settings, the executor, the named queries, the templates."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.executor = make_executor(settings)
        self.queries = queries.load_all()
        self.templates = Jinja2Templates(directory=str(PACKAGE / "templates"))
        self.templates.env.filters["safe_href"] = safe_href
        self.base = (
            settings.base_iri if settings.base_iri.endswith("/") else settings.base_iri + "/"
        )
        self.id_base = self.base + "id/"
        # Where clients reach this service: every URL it writes starts here (never the Host).
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        public = settings.public_url or f"http://{host}:{settings.port}/"
        edge.public_origin(public)  # refuses anything but an http(s) origin
        self.public_root = public.rstrip("/")
        self.ontology_iri = self.base + "ontology"
        self._stats: tuple[int, dict[str, int]] | None = None
        # Answers of the named queries behind the JSON API and pages, until the next write.
        self._answers: OrderedDict[str, tuple[int, list[dict]]] = OrderedDict()
        self._graphs: tuple[int, set[str]] | None = None
        self.ontology_doc: tuple[int, object] | None = None  # (generation, OntologyDoc)
        # The catalogue answers unfiltered lists and search while it matches the store: it was
        # made with the store (build) or remade after the last write (generation).
        self.catalogue = catalogue.Catalogue(catalogue.path_for(settings.store_path))
        self.uses_catalogue = getattr(self.executor, "catalogue", True)
        kept = self.uses_catalogue and self.catalogue.exists()
        self._catalogue_generation: int | None = 0 if kept else None
        self._remaking: asyncio.Task | None = None
        self.started = time.time()
        # Names this process's view of the dataset: a write bumps the generation (see version).
        self._instance = f"{int(self.started * 1000):x}"

    def version(self) -> str:
        """The dataset's version as this service sees it: changes with every write, with every
        start (the store may have been rebuilt in between), and each day (pages default to
        today's date)."""
        return (
            f"{self._instance}g{self.executor.generation}d{time.strftime('%Y%m%d', time.gmtime())}"
        )

    # -- running ----------------------------------------------------------------------------

    async def run(self, job: Job, timeout: float | None = None) -> Outcome:
        """Run a read job; time-outs, worker failures and engine errors become ServiceErrors."""
        try:
            outcome = await self.executor.run(job, timeout)
        except QueryTimeout as error:
            raise ServiceError(503, str(error)) from None
        except Busy as error:
            raise ServiceError(503, str(error), {"Retry-After": str(error.retry_after)}) from None
        except WorkerFailed as error:
            raise ServiceError(503, f"the query could not be run: {error}") from None
        return check(outcome)

    async def write(self, job: Job) -> Outcome:
        # The catalogue goes first: were the service stopped mid-write, it must not outlive
        # the data it was made from.
        self._catalogue_generation = None
        self.catalogue.path.unlink(missing_ok=True)
        try:
            outcome = await self.executor.write(job)
        except QueryTimeout as error:
            raise ServiceError(503, str(error)) from None
        except Busy as error:
            raise ServiceError(503, str(error), {"Retry-After": str(error.retry_after)}) from None
        except WorkerFailed as error:
            raise ServiceError(503, f"the update could not be run: {error}") from None
        finally:
            self.remake_catalogue()
        return check(outcome)

    # -- the catalogue ----------------------------------------------------------------------

    def current_catalogue(self) -> catalogue.Catalogue | None:
        """The catalogue when it matches the store as it is now, else None (ask the store)."""
        if not self.uses_catalogue:
            return None
        if self._catalogue_generation == self.executor.generation and self.catalogue.exists():
            return self.catalogue
        return None

    def remake_catalogue(self) -> None:
        """Remake the catalogue in the background, on a query worker (one at a time)."""
        if not self.uses_catalogue:
            return
        if self._remaking is None or self._remaking.done():
            self._remaking = asyncio.get_running_loop().create_task(self._remake())

    async def _remake(self) -> None:
        while self._catalogue_generation != self.executor.generation:
            generation = self.executor.generation
            try:
                outcome = await self.executor.run(Job("catalogue"), timeout=CATALOGUE_TIMEOUT)
            except (QueryTimeout, Busy, WorkerFailed) as error:
                log.warning("the catalogue could not be remade: %s", error)
                return
            if outcome.error is not None:
                log.warning("the catalogue could not be remade: %s", outcome.error)
                return
            # A write waits for every worker, this one included: none ran while it was made.
            if generation == self.executor.generation:
                self._catalogue_generation = generation

    async def rows(self, sparql: str) -> list[dict]:
        """The rows of a query, remembered until the next write (the data is read-only between
        writes). Only the JSON API and pages ask through here; /sparql answers are never cached."""
        generation = self.executor.generation
        remembered = self._answers.get(sparql)
        if remembered is not None and remembered[0] == generation:
            self._answers.move_to_end(sparql)
            return remembered[1]
        outcome = await self.run(Job("rows", sparql))
        if len(outcome.rows) <= CACHED_ROWS_MAX:
            self._answers[sparql] = (generation, outcome.rows)
            if len(self._answers) > CACHED_ANSWERS_MAX:
                self._answers.popitem(last=False)
        return outcome.rows

    async def stats(self) -> dict[str, int]:
        """Triples per named graph ("" for the whole dataset), cached until the next write."""
        generation = self.executor.generation
        if self._stats is None or self._stats[0] != generation:
            outcome = await self.run(Job("stats"))
            self._stats = (generation, dict(outcome.value))
        return self._stats[1]

    async def own_graphs(self) -> set[str]:
        """The dataset's named graphs (what FROM may name), cached until the next write."""
        generation = self.executor.generation
        if self._graphs is None or self._graphs[0] != generation:
            outcome = await self.run(Job("graphs"), timeout=GRAPHS_TIMEOUT)
            self._graphs = (generation, set(outcome.value))
        return self._graphs[1]

    # -- IRIs -------------------------------------------------------------------------------

    def local(self, iri: str) -> str:
        """The service path that serves an IRI minted under the base (else the IRI itself)."""
        if iri.startswith(self.base):
            return "/" + iri[len(self.base) :]
        return iri

    def short_id(self, iri: str) -> str:
        """A short id: the path under the id base, `tg:Term` for ontology terms, else the IRI."""
        if iri.startswith(self.id_base):
            return iri[len(self.id_base) :]
        if iri.startswith(TG):
            return "tg:" + iri[len(TG) :]
        return iri


def safe_href(href: str | None) -> str | None:
    """The link target to write for an IRI or path, or None when it must not be a link: only
    this service's paths (not `//host`), fragments, and http(s) IRIs; never `javascript:`,
    `data:` or another scheme, whatever the data holds. Pages make every link through here."""
    if not href or not isinstance(href, str):
        return None
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or c == "\\" for c in href):
        return None  # browsers drop such characters, which could hide a scheme
    if href.startswith("/"):
        return None if href.startswith("//") else href
    if href.startswith(("#", "?")) or href.lower().startswith(("http://", "https://")):
        return href
    return None


def check(outcome: Outcome) -> Outcome:
    """Turn a worker's error report into the matching HTTP answer."""
    if outcome.error is None:
        return outcome
    if outcome.error_kind == "refused":
        raise ServiceError(400, outcome.error)
    if outcome.error_kind == "upload":
        raise ServiceError(int(outcome.value or 400), outcome.error)
    if outcome.error_kind in ("memory", "unavailable"):
        raise ServiceError(503, outcome.error)
    if outcome.error_kind == "store":
        raise ServiceError(502, outcome.error)
    if outcome.error_kind == "evaluation":
        raise ServiceError(400, f"the query could not be evaluated: {outcome.error}")
    if outcome.error_kind == "syntax":
        raise ServiceError(400, f"the query is not valid SPARQL: {outcome.error}")
    if outcome.error_kind == "too_large":
        raise ServiceError(
            400, f"{outcome.error}; ask for less (LIMIT, fewer variables or a narrower pattern)"
        )
    if outcome.error_kind == "bad_data":
        raise ServiceError(400, f"the request could not be processed: {outcome.error}")
    if outcome.error_kind == "update":
        # The engine refused an update for the dataset's state: CREATE of a graph that exists,
        # MOVE/DROP/CLEAR of one that does not (SILENT makes these pass).
        state = re.search(r"already exists|does not exist", outcome.error)
        raise ServiceError(409 if state else 400, f"the update was refused: {outcome.error}")
    raise ServiceError(500, f"the query failed: {outcome.error}")


def service(request: Request) -> Service:
    return request.app.state.service


def create_app(settings: Settings) -> FastAPI:
    """The whole service for one store and one set of settings."""
    from treatygraph.api import api, pages, parties, resources, sparql

    svc = Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await svc.executor.start()
        # The list of named graphs (for FROM) is read when first needed, not here: on a large
        # store listing them takes longer than a start should (at 1000x, past the query bound).
        if svc.current_catalogue() is None:
            svc.remake_catalogue()
        try:
            yield
        finally:
            if svc._remaking is not None:
                svc._remaking.cancel()
            await svc.executor.close()

    app = TreatyGraphApp(
        title="treatygraph",
        version="0.1.0",
        description=(
            "A linked-data knowledge graph of the Basel, Rotterdam, Stockholm and Minamata "
            "conventions: a SPARQL 1.1 endpoint at /sparql, a JSON API under /api, "
            "dereferenceable IRIs under /id and pages for people."
        ),
        lifespan=lifespan,
        # /docs is served below with its own security policy; ReDoc (fonts and script from
        # other hosts, an inline style) is not served.
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = svc
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    # The SPARQL editor's page: its own policy (two fixed stylesheets of YASGUI, by hash).
    app.add_middleware(pages.EditorPolicy)
    app.add_middleware(edge.BodyTimeout, seconds=settings.body_timeout)
    app.add_middleware(edge.AllowedMethods, router=app.router)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
        allow_headers=["Accept", "Content-Type"],
        expose_headers=["Content-Type", "Link", "Location", "Vary"],
    )
    errors.install(app)
    app.include_router(sparql.router)
    app.include_router(api.router)
    app.include_router(parties.router)
    app.include_router(resources.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(PACKAGE / "static")), name="static")
    # Front-end libraries installed from npm (package.json), served from node_modules.
    app.mount("/vendor", pages.vendor_files(), name="vendor")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui():
        return edge.docs_page(f"{app.title} - Swagger UI", app.openapi_url or "/openapi.json")

    return app


class TreatyGraphApp(FastAPI):
    """FastAPI with two layers around everything, error pages of the outermost handler included:
    URLs from the public URL, and the security headers on every answer."""

    def build_middleware_stack(self):
        svc = self.state.service
        stack = answers.Answers(super().build_middleware_stack(), svc.version)
        return edge.PublicOrigin(edge.SecurityHeaders(stack), svc.public_root)


class BodyLimit:
    """Refuse a request body larger than `limit` bytes with 413, before it is read whole."""

    def __init__(self, app, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            status = 413 if length.isdigit() else 400
            message = (
                f"the request body is larger than the limit of {self.limit} bytes"
                if status == 413
                else "invalid Content-Length"
            )
            return await _plain(send, status, message, scope)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge()
            return message

        try:
            await self.app(scope, limited_receive, send)
        except BodyTooLarge:
            await _plain(
                send, 413, f"the request body is larger than the limit of {self.limit} bytes", scope
            )


class BodyTooLarge(Exception):
    """Raised while reading a chunked body that passes the limit."""


async def _plain(send, status: int, message: str, scope) -> None:
    """The error answer before any route ran: the JSON API's error body under /api, else text."""
    if scope.get("path", "").startswith("/api"):
        body = json.dumps({"detail": message, "errors": []}).encode()
        media_type = b"application/json"
    else:
        body = (message + "\n").encode()
        media_type = b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media_type),
                (b"content-length", str(len(body)).encode()),
                (b"access-control-allow-origin", b"*"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
