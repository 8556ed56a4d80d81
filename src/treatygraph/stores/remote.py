"""Any SPARQL 1.1 server as a treatygraph store: the SPARQL 1.1 Protocol for queries and updates,
the SPARQL 1.1 Graph Store HTTP Protocol for whole graphs.

Configured by a query URL, and optionally an update URL, a graph-store URL and credentials
(HTTP basic or digest). Without an update URL the store is read-only (writes raise Refused);
without a graph-store URL, whole-graph writes and reads go through SPARQL Update and CONSTRUCT.
`engine=` presets (`oxigraph`, `virtuoso`, `fuseki`) derive the other URLs and the dataset mode
from the query URL; see `RemoteStore.for_engine`.

Requests are bounded: each attempt has a connect time bound and an overall time bound (the whole
answer must be read within `timeout`; a server that trickles bytes is cut off too), and answers
over `limits.max_bytes` are refused (ResultTooLarge). Only reads are retried (queries, and GET
of a graph): on a refused or dropped connection and on HTTP 502/503/504, `retries` more times
with a short back-off; a read that timed out is not retried (it would most likely time out
again). Writes are sent once. A server that is down or too slow gives StoreUnavailable naming the
URL and the reason; it never hangs the caller.

The union default graph (`union_default`):
- "engine": the engine's own default graph is already the union of all graphs, so a query without
  a dataset is sent as it is. True for `oxigraph serve --union-default-graph`, and for Virtuoso
  (whose default graph is every graph, its own system graphs included: see below). But Oxigraph
  0.5's flag also overrides a query's own FROM (a `FROM <g>` query reads the union all the
  same; graphs named in the request are still honoured), so "parameter" is the better choice
  there.
- "parameter": Oxigraph's own request parameter `union-default-graph` (not in the protocol) asks
  for the union per request, whatever the server's flag.
- "explicit" (the portable one): the store lists the graphs (`graphs()`) and names them all in
  the request, as default-graph-uri and as named-graph-uri, as the protocol defines. One more
  request per query, and a request body that grows with the number of graphs.

Virtuoso keeps system graphs beside the data (its quad-map schema `virtrdf#`, `ldp#`, the service
description `<http://HOST/sparql>`, `<http://HOST/DAV/>`...), and its default graph includes them:
a `{ ?s ?p ?o }` over Virtuoso's default graph counts their ~2500 triples. So the `virtuoso`
preset uses "explicit", and `hidden_graphs` (IRI prefixes) keeps them out of `graphs()` and
`count()`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import pyoxigraph as ox

from treatygraph.stores import base
from treatygraph.stores.base import (
    DataSyntaxError,
    Limits,
    QueryResult,
    QuerySyntaxError,
    Refused,
    ResultTooLarge,
    StoreError,
    StoreUnavailable,
    Term,
    UnsupportedMediaType,
    bounded,
    graph_of,
)
from treatygraph.stores.memory import replace_update, triples_for

RESULTS_JSON = "application/sparql-results+json"
RESULTS_XML = "application/sparql-results+xml"
GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
NTRIPLES = "application/n-triples"
UNION_MODES = ("engine", "parameter", "explicit")
NO_GRAPH = "urn:x-treatygraph:no-graph"  # names an empty graph set in a request
VIRTUOSO_SYSTEM_GRAPHS = (
    "http://www.openlinksw.com/schemas/virtrdf#",
    "http://www.w3.org/ns/ldp#",
    "http://localuriqaserver/",
)
_GRAPH_TYPES = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,  # old servers' N-Triples
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}


class _Retry(Exception):
    """A failure after which a read may be tried again."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Answer:
    status: int
    media_type: str
    headers: httpx.Headers
    body: bytes

    def text(self, limit: int = 600) -> str:
        return " ".join(self.body[: limit * 2].decode("utf-8", "replace").split())[:limit]


class RemoteStore:
    """A SPARQL 1.1 server reached over HTTP."""

    def __init__(
        self,
        query_url: str,
        *,
        update_url: str | None = None,
        graph_store_url: str | None = None,
        user: str | None = None,
        password: str | None = None,
        auth: str = "basic",
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.25,
        union_default: str = "explicit",
        hidden_graphs: Sequence[str] = (),
        replace_with: str | None = None,
        engine_max_rows: int | None = None,
        limits: Limits | None = None,
        transport: httpx.BaseTransport | None = None,
    ):
        if union_default not in UNION_MODES:
            raise ValueError(f"union_default must be one of {', '.join(UNION_MODES)}")
        if replace_with not in (None, "update", "graph-store"):
            raise ValueError("replace_with must be 'update' or 'graph-store'")
        self.query_url = query_url
        self.update_url = update_url
        self.graph_store_url = graph_store_url
        self.timeout = float(timeout)
        self.connect_timeout = min(float(connect_timeout), self.timeout)
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.union_default = union_default
        self.hidden_graphs = tuple(hidden_graphs)
        # Replacing a graph: one SPARQL update (atomic on engines that run an update request in
        # one transaction) unless the engine cannot take large updates, or there is no update URL.
        if replace_with is None:
            replace_with = "update" if update_url else "graph-store"
        self.replace_with = replace_with
        self.engine_max_rows = engine_max_rows
        self.limits = limits or Limits()
        credentials: httpx.Auth | None = None
        if user is not None:
            if auth == "digest":
                credentials = httpx.DigestAuth(user, password or "")
            elif auth == "basic":
                credentials = httpx.BasicAuth(user, password or "")
            else:
                raise ValueError("auth must be 'basic' or 'digest'")
        self._client = httpx.Client(
            auth=credentials,
            timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the URL given is the one asked
            transport=transport,
            headers={"User-Agent": "treatygraph-store"},
        )

    @classmethod
    def for_engine(cls, url: str, engine: str | None = None, **options) -> RemoteStore:
        """A store for `url` with the settings of a known engine (explicit options win):

        - oxigraph: `url` is the server's base or its /query; update /update, graph store /store,
          union default through Oxigraph's `union-default-graph` request parameter.
        - virtuoso: `url` is the server's base or its /sparql. With a user (digest auth):
          updates through /sparql-auth, graphs through /sparql-graph-crud-auth; without one,
          /sparql and /sparql-graph-crud (which write only when the SPARQL user was granted
          SPARQL_UPDATE). Union default "explicit", Virtuoso's system graphs hidden, graphs
          replaced through the graph store (Virtuoso's SPARQL compiler runs out of memory on
          INSERT DATA of a few thousand triples).
        - fuseki: `url` is the dataset's URL (http://host:3030/ds) or its /query or /sparql;
          update /update, graph store /data, basic auth, union default "explicit". Untested.
        - None: a SPARQL 1.1 server; only the URLs given are used.
        """
        url = url.rstrip("/")
        settings: dict = {}
        if engine == "oxigraph":
            root = url.removesuffix("/query")
            settings = {
                "query_url": root + "/query",
                "update_url": root + "/update",
                "graph_store_url": root + "/store",
                "union_default": "parameter",
            }
        elif engine == "virtuoso":
            root = url.removesuffix("/sparql")
            auth = options.get("user") is not None
            settings = {
                "query_url": root + "/sparql",
                "update_url": root + ("/sparql-auth" if auth else "/sparql"),
                "graph_store_url": root
                + ("/sparql-graph-crud-auth" if auth else "/sparql-graph-crud"),
                "auth": "digest",
                "union_default": "explicit",
                "hidden_graphs": VIRTUOSO_SYSTEM_GRAPHS + (root + "/sparql", root + "/DAV/"),
                "replace_with": "graph-store",
            }
        elif engine == "fuseki":
            root = url.removesuffix("/query").removesuffix("/sparql")
            settings = {
                "query_url": root + "/query",
                "update_url": root + "/update",
                "graph_store_url": root + "/data",
                "union_default": "explicit",
            }
        elif engine is None:
            settings = {"query_url": url}
        else:
            raise ValueError(f"unknown engine {engine!r} (oxigraph, virtuoso, fuseki)")
        settings.update(options)
        query_url = settings.pop("query_url")
        return cls(query_url, **settings)

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"RemoteStore({self.query_url!r})"

    # -- HTTP ------------------------------------------------------------------------------------

    def _request(self, method: str, url: str, *, safe: bool, **kwargs) -> Answer:
        """One request, retried when `safe` (a read) and the failure allows it."""
        attempts = 1 + (self.retries if safe else 0)
        for attempt in range(attempts):
            try:
                return self._attempt(method, url, **kwargs)
            except _Retry as failure:
                if attempt + 1 >= attempts:
                    tries = f" (after {attempts} attempts)" if attempts > 1 else ""
                    raise StoreUnavailable(url, failure.reason + tries) from None
                time.sleep(self.backoff * (2**attempt))
        raise AssertionError("unreachable")

    def _attempt(self, method: str, url: str, **kwargs) -> Answer:
        deadline = time.monotonic() + self.timeout
        try:
            with self._client.stream(method, url, **kwargs) as response:
                if response.status_code in (502, 503, 504):
                    raise _Retry(f"HTTP {response.status_code} {response.reason_phrase}")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.limits.max_bytes:
                        raise ResultTooLarge(
                            f"the answer from {url} is larger than the bound of "
                            f"{self.limits.max_bytes} bytes"
                        )
                    if time.monotonic() > deadline:
                        raise StoreUnavailable(
                            url, f"the answer was not complete within {self.timeout:g} s (slow)"
                        )
                    chunks.append(chunk)
                media_type = response.headers.get("content-type", "").split(";")[0].strip()
                return Answer(
                    response.status_code, media_type.lower(), response.headers, b"".join(chunks)
                )
        except httpx.ConnectTimeout:
            raise _Retry(f"no connection within {self.connect_timeout:g} s") from None
        except httpx.ConnectError as error:
            raise _Retry(f"cannot connect ({_reason(error)})") from None
        except httpx.TimeoutException:
            raise StoreUnavailable(url, f"no answer within {self.timeout:g} s (slow)") from None
        except httpx.RemoteProtocolError as error:
            raise _Retry(f"the connection was closed without a whole answer ({error})") from None
        except httpx.TransportError as error:
            raise _Retry(f"{type(error).__name__}: {_reason(error)}") from None

    def _check(self, answer: Answer, url: str, *, action: str, data: bool = False) -> Answer:
        """Turn an error status into the interface's errors."""
        status = answer.status
        if 200 <= status < 300:
            state = answer.headers.get("x-sql-state", "")
            if state.upper() == "S1TAT":  # Virtuoso's "anytime" answer: cut short by its bound
                raise StoreUnavailable(
                    url, "the engine's time bound cut the answer short (partial results)"
                )
            return answer
        text = answer.text()
        if status in (401, 403):
            raise Refused(f"{url} refused to {action} (HTTP {status}): {text}", status)
        if "SR186" in text or "SECURITY" in text:  # Virtuoso: no permission (sent as a 500)
            raise Refused(f"{url} refused to {action}: {text}", status)
        if status == 400:
            if data:
                raise DataSyntaxError(f"{url} could not read the data: {text}")
            raise QuerySyntaxError(text or f"{url} answered HTTP 400")
        if status in (406, 415):
            raise UnsupportedMediaType(f"{url} cannot {action} in that media type: {text}")
        if status == 413:
            raise ResultTooLarge(f"{url} refused a request that large: {text}")
        if "S1T00" in text or "timeout" in text.lower():
            raise StoreUnavailable(url, f"the engine's time bound: {text}")
        raise StoreError(f"{url} could not {action} (HTTP {status}): {text}")

    # -- reading ---------------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        default_graphs: Sequence[str] | None = None,
        named_graphs: Sequence[str] | None = None,
    ) -> QueryResult:
        form = base.query_form(sparql)
        params: dict[str, str | list[str]] = {"query": sparql}
        if default_graphs or named_graphs:
            # Both lists are always sent: a list left out would be an empty graph set by the
            # protocol, but Virtuoso reads it as "every graph". A graph that cannot exist stands
            # for the empty list.
            params["default-graph-uri"] = [graph_of(g).value for g in default_graphs or ()] or [
                NO_GRAPH
            ]
            params["named-graph-uri"] = [graph_of(g).value for g in named_graphs or ()] or [
                NO_GRAPH
            ]
        elif not base.names_dataset(sparql):
            params.update(self._service_dataset())
        return self._query(sparql, form, params)

    def _service_dataset(self) -> dict:
        """The request parameters that give the union default graph (see `union_default`)."""
        if self.union_default == "parameter":
            return {"union-default-graph": ""}
        if self.union_default == "explicit":
            graphs = self.graphs()
            if not graphs:
                # No graph at all: name one that cannot exist, so the dataset is empty rather
                # than the engine's own default.
                graphs = [NO_GRAPH]
            return {"default-graph-uri": graphs, "named-graph-uri": graphs}
        return {}

    def _query(self, sparql: str, form: str, params: dict) -> QueryResult:
        accept = GRAPH_ACCEPT if form in ("construct", "describe") else RESULTS_JSON
        # A query is sent as a form body (POST): no URL length limit, and never cached.
        answer = self._request(
            "POST", self.query_url, safe=True, data=params, headers={"Accept": accept}
        )
        answer = self._check(answer, self.query_url, action="answer the query")
        result = self._read_result(answer, form)
        if (
            self.engine_max_rows is not None
            and result.kind == "select"
            and len(result.rows) >= self.engine_max_rows
        ):
            raise ResultTooLarge(
                f"{len(result.rows)} rows: the engine cuts answers at {self.engine_max_rows} "
                "rows, so this one may be incomplete"
            )
        return result

    def _read_result(self, answer: Answer, form: str) -> QueryResult:
        limits = self.limits
        if answer.media_type in (RESULTS_JSON, "application/json"):
            return read_json_results(answer.body, form, limits)
        if answer.media_type in (RESULTS_XML, "application/xml"):
            try:
                raw = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.XML)
            except SyntaxError as error:
                raise StoreError(f"{self.query_url} sent unreadable results: {error}") from None
            from treatygraph.stores.memory import result_of

            return result_of(raw, limits)
        if answer.media_type in _GRAPH_TYPES:
            triples = self._read_triples(answer, self.query_url)
            return QueryResult("graph", triples=triples, max_bytes=limits.max_bytes)
        raise StoreError(
            f"{self.query_url} answered in {answer.media_type or 'no media type'}, which is not "
            f"a SPARQL result: {answer.text(200)}"
        )

    def _read_triples(self, answer: Answer, url: str, *, bound: bool = True) -> list[ox.Triple]:
        fmt = _GRAPH_TYPES.get(answer.media_type)
        if fmt is None:
            raise StoreError(f"{url} answered in {answer.media_type}, not an RDF format")
        body = answer.body
        if fmt == ox.RdfFormat.N_TRIPLES and body.lstrip().startswith(b"# Empty NT"):
            body = b""  # Virtuoso's empty N-Triples answer is a comment line: fine as it is
        try:
            parsed = (quad.triple for quad in ox.parse(body, format=fmt))  # parse gives quads
            if bound:
                return bounded(parsed, self.limits.max_rows, "triples")
            return list(parsed)
        except SyntaxError as error:
            raise StoreError(f"{url} sent RDF that does not parse: {error}") from None

    def _select(self, sparql: str) -> list[dict[str, Term]]:
        """One of the store's own SELECT queries, sent without a dataset (every named graph)."""
        return self._query(sparql, "select", {"query": sparql}).rows

    def _visible(self, graph: str) -> bool:
        return not any(graph.startswith(prefix) for prefix in self.hidden_graphs)

    def graphs(self) -> list[str]:
        # GROUP BY, not DISTINCT: Virtuoso 7.2 takes a minute over DISTINCT ?g (a few ms here).
        rows = self._select("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        found = {row["g"].value for row in rows if "g" in row and row["g"].type == "uri"}
        return sorted(g for g in found if self._visible(g))

    def has_graph(self, graph: str) -> bool:
        sparql = f"ASK {{ GRAPH {graph_of(graph)} {{ ?s ?p ?o }} }}"
        return bool(self._query(sparql, "ask", {"query": sparql}).boolean)

    def count(self, graph: str | None = None) -> int:
        """Quads in `graph`, or in all visible named graphs. (A remote engine's own default
        graph is not counted: Virtuoso has none apart from its graphs, and with a union default
        graph it cannot be told apart from the union.)"""
        if graph is None:
            return sum(self.counts().values())
        name = str(graph_of(graph))
        rows = self._select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {name} {{ ?s ?p ?o }} }}")
        return int(rows[0]["n"].value) if rows and "n" in rows[0] else 0

    def counts(self) -> dict[str, int]:
        """Quads per visible named graph."""
        rows = self._select(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        )
        found = {
            row["g"].value: int(row["n"].value)
            for row in rows
            if "g" in row and "n" in row and self._visible(row["g"].value)
        }
        return dict(sorted(found.items()))

    def _graph_triples(self, graph: str) -> list[ox.Triple]:
        """The triples of one graph, whole (no row bound: the byte bound still applies)."""
        name = graph_of(graph)
        if self.graph_store_url:
            answer = self._request(
                "GET",
                self.graph_store_url,
                safe=True,
                params={"graph": name.value},
                headers={"Accept": NTRIPLES},
            )
            if answer.status == 404:
                return []
            answer = self._check(answer, self.graph_store_url, action="send the graph")
            return self._read_triples(answer, self.graph_store_url, bound=False)
        sparql = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {name} {{ ?s ?p ?o }} }}"
        answer = self._request(
            "POST",
            self.query_url,
            safe=True,
            data={"query": sparql},
            headers={"Accept": GRAPH_ACCEPT},
        )
        answer = self._check(answer, self.query_url, action="send the graph")
        return self._read_triples(answer, self.query_url, bound=False)

    def dump(self, media_type: str, graph: str | None = None) -> bytes:
        base.rdf_format(media_type)
        names = [graph] if graph is not None else self.graphs()
        quads = []
        for name in names:
            node = graph_of(name)
            quads += [ox.Quad(*t, node) for t in self._graph_triples(name)]
        return base.dump_quads(quads, media_type)

    # -- writing ---------------------------------------------------------------------------------

    def update(self, sparql: str) -> None:
        if not self.update_url:
            raise Refused(f"the store at {self.query_url} is read-only (no update URL given)")
        answer = self._request(
            "POST",
            self.update_url,
            safe=False,
            content=sparql.encode("utf-8"),
            headers={"Content-Type": "application/sparql-update; charset=utf-8", "Accept": "*/*"},
        )
        self._check(answer, self.update_url, action="run the update")

    def _send_graph(self, method: str, graph: str, triples: list[ox.Triple]) -> None:
        if not self.graph_store_url:
            raise Refused(f"the store at {self.query_url} has no graph-store URL")
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        answer = self._request(
            method,
            self.graph_store_url,
            safe=False,
            params={"graph": graph},
            content=body,
            headers={"Content-Type": "application/n-triples; charset=utf-8", "Accept": "*/*"},
        )
        self._check(answer, self.graph_store_url, action="write the graph", data=True)

    def load(self, data: bytes, media_type: str, graph: str) -> None:
        by_graph: dict[str, list[ox.Triple]] = {}
        for quad in base.parse_quads(data, media_type, graph):
            by_graph.setdefault(quad.graph_name.value, []).append(quad.triple)
        for name, triples in by_graph.items():
            if self.graph_store_url:
                self._send_graph("POST", name, triples)
            else:
                body = (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode()
                self.update(f"INSERT DATA {{ GRAPH {graph_of(name)} {{\n{body}}} }}")

    def replace_graph(self, data: bytes, media_type: str, graph: str) -> None:
        """Parsed here first (data that does not parse sends nothing). With `replace_with`
        "update": one SPARQL update, DROP SILENT GRAPH then INSERT DATA (atomic on Oxigraph,
        which runs an update request in one transaction); "graph-store": a Graph Store PUT
        (Oxigraph's clears the graph, then loads: a reader may see it empty in between)."""
        triples = triples_for(data, media_type, graph)
        if self.replace_with == "graph-store" and self.graph_store_url:
            self._send_graph("PUT", graph, triples)
        else:
            self.update(replace_update(graph, triples))

    def drop_graph(self, graph: str) -> bool:
        name = graph_of(graph)
        existed = self.has_graph(name.value)
        # Dropped even when it seems absent: an engine may keep an empty graph (Oxigraph).
        self.update(f"DROP SILENT GRAPH {name}")
        return existed


def read_json_results(body: bytes, form: str, limits: Limits) -> QueryResult:
    """The SPARQL 1.1 JSON results format, and the forms engines write that differ from it:
    Virtuoso's `typed-literal` terms, and its ASK answer as one row of `__ASK_RETVAL` (no row:
    false) instead of a `boolean` member."""
    try:
        doc = json.loads(body)
    except ValueError as error:
        raise StoreError(f"the engine sent results that are not JSON: {error}") from None
    if not isinstance(doc, dict):
        raise StoreError("the engine sent JSON results that are not an object")
    if "boolean" in doc:
        return QueryResult("ask", boolean=bool(doc["boolean"]), max_bytes=limits.max_bytes)
    variables = list((doc.get("head") or {}).get("vars") or [])
    bindings = (doc.get("results") or {}).get("bindings") or []
    if form == "ask" and variables == ["__ASK_RETVAL"]:
        value = bindings[0].get("__ASK_RETVAL", {}).get("value") if bindings else "0"
        return QueryResult("ask", boolean=str(value) in ("1", "true"), max_bytes=limits.max_bytes)
    rows = bounded(
        ({name: Term.from_json(term) for name, term in binding.items()} for binding in bindings),
        limits.max_rows,
    )
    return QueryResult("select", variables=variables, rows=rows, max_bytes=limits.max_bytes)


def _reason(error: Exception) -> str:
    text = str(error) or type(error).__name__
    if "Connection refused" in text:
        return "connection refused"
    return text
