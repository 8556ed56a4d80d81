"""HTTP done right: security headers and no inline code on pages, links only to http(s), bounds on
slow request heads and bodies, HEAD and OPTIONS on every route, URLs from the settings (never the
Host header), and 4xx with a message for every client mistake in the update protocols.

One writable server for the module (short head and body bounds, a public URL of its own), on
loopback; the raw-socket tests open at most SOCKETS connections and wait a few seconds at most.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import socket
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from conftest import WRITE_TOKEN, Server

from treatygraph.api.app import create_app, safe_href
from treatygraph.settings import Settings

PUBLIC_URL = "https://treatygraph.example.org/"
HEADER_TIMEOUT = 1.5
BODY_TIMEOUT = 2.0
SOCKETS = 50
AUTH = {"Authorization": f"Bearer {WRITE_TOKEN}"}
EVIL = "evil.example"
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def edge_server(built_store, tmp_path_factory):
    store = tmp_path_factory.mktemp("http") / "store"
    shutil.copytree(built_store, store, ignore=shutil.ignore_patterns("LOCK"))
    running = Server(
        store,
        store.parent / "server.log",
        write_token=WRITE_TOKEN,
        header_timeout=HEADER_TIMEOUT,
        body_timeout=BODY_TIMEOUT,
        public_url=PUBLIC_URL,
    ).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(edge_server):
    with edge_server.client() as http:
        yield http


# -- 1. security headers, and pages that pass their own policy ---------------------------------


class PageScan(HTMLParser):
    """What a strict policy would block or a reviewer would flag, found by parsing the page."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.links: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> (inline handler)")
            if name == "style":
                self.problems.append(f"<{tag} style=...> (inline style)")
            if name in ("href", "src", "action", "formaction") and value is not None:
                if re.match(r"\s*(javascript|data|vbscript):", value, re.IGNORECASE):
                    self.problems.append(f"<{tag} {name}={value!r}>")
                if tag == "a" and name == "href":
                    self.links.append(value)
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            self._in_script = "src" not in attributes
            if self._in_script:
                self.inline_scripts.append("")
        if tag in ("script", "link", "img", "iframe") and re.match(
            r"(https?:)?//", attributes.get("src") or attributes.get("href") or ""
        ):
            if tag != "link" or "stylesheet" in (attributes.get("rel") or ""):
                self.problems.append(f"<{tag}> loads from another origin")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline_scripts[-1] += data


def scan(text: str) -> PageScan:
    parser = PageScan()
    parser.feed(text)
    parser.close()
    return parser


def policy(answer: httpx.Response) -> dict[str, list[str]]:
    directives = {}
    for part in answer.headers["content-security-policy"].split(";"):
        name, *values = part.split()
        directives[name.lower()] = values
    return directives


def assert_page_headers(answer: httpx.Response) -> None:
    csp = policy(answer)
    assert csp["default-src"] == ["'self'"]
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in csp.get(directive, []), directive
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] in ("no-referrer", "strict-origin-when-cross-origin")


def page_paths(client: httpx.Client) -> list[str]:
    """One page of every kind the service serves to people."""
    home = client.get("/").text
    questions = sorted(set(re.findall(r'href="(/questions/[^"]+)"', home)))
    assert questions
    return [
        "/",
        "/search",
        "/search?q=mercury",
        "/conventions",
        "/meetings",
        "/decisions",
        "/decisions?q=waste&page=1",
        questions[0],
        "/questions/api-links",
        "/id/minamata",
        "/id/minamata/article/11",
        "/ontology",
        "/sparql",  # the query form, for a browser
    ]


def test_every_page_has_the_security_headers_and_no_inline_code(client):
    for path in page_paths(client):
        answer = client.get(path, headers=HTML)
        assert answer.status_code == 200, (path, answer.text[:300])
        assert answer.headers["content-type"].startswith("text/html"), path
        assert_page_headers(answer)
        found = scan(answer.text)
        assert not found.inline_scripts, (path, found.inline_scripts)
        assert not found.problems, (path, found.problems)


def test_every_answer_is_nosniff(client, edge_server):
    answers = [
        client.get("/api/conventions"),
        client.get("/.well-known/void"),
        client.get("/id/minamata", headers={"Accept": "text/turtle"}),
        client.get("/static/style.css"),
        client.get("/nope"),  # 404
        client.put("/sparql"),  # 405
        client.get("/sparql", params={"query": "ASK {}", "format": "png"}),  # 406
        client.post("/sparql", content="ASK {}", headers={"Content-Type": "text/plain"}),  # 415
        client.post("/update", data={"update": "CLEAR ALL"}),  # 401
        client.options("/api/conventions"),
        client.head("/"),
        client.get("/conventions/", follow_redirects=False),  # redirect
    ]
    for answer in answers:
        assert answer.headers.get("x-content-type-options") == "nosniff", answer.request.url
        # Data is never a document: nothing may run or be framed, whatever a browser makes of it.
        if not answer.headers.get("content-type", "").startswith("text/html"):
            assert "default-src 'none'" in answer.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_the_api_explorer_has_its_own_narrow_policy(client):
    answer = client.get("/docs")
    assert answer.status_code == 200
    csp = policy(answer)
    script_src = csp["script-src"]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    found = scan(answer.text)
    assert found.inline_scripts  # Swagger UI's start-up script: allowed by its hash only
    for script in found.inline_scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'self'"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert client.get("/redoc").status_code == 404  # fonts and scripts from elsewhere: not served


# -- 2. only http(s) IRIs are links --------------------------------------------------------------

XSS = "https://w3id.org/treatygraph/id/test/xss"
UNSAFE = [
    "javascript:alert(1)",
    "JavaScript:alert(2)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgzKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(4)",
]


def test_only_http_iris_become_links(client):
    seealso = ", ".join(f"<{iri}>" for iri in UNSAFE)
    insert = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    INSERT DATA {{ GRAPH <http://example.org/xss> {{
      <{XSS}> rdfs:label "XSS test" ; rdfs:seeAlso {seealso}, <http://example.org/fine> ;
        rdfs:seeAlso <https://w3id.org/treatygraph//evil.example/path> ;
        <javascript:alert(5)> "a value" ; a <javascript:alert(6)> .
      <javascript:alert(7)> <http://example.org/points-to> <{XSS}> .
    }} }}"""
    assert client.post("/update", data={"update": insert}, headers=AUTH).status_code == 204
    page = client.get("/id/test/xss", headers=HTML)
    assert page.status_code == 200, page.text[:300]
    found = scan(page.text)
    assert not found.problems, found.problems
    assert "http://example.org/fine" in found.links
    for href in found.links:
        assert href.startswith(("/", "#", "?", "http://", "https://")), href
        assert not href.startswith("//"), href  # would leave for another host
    # Each unsafe IRI is still shown, as text.
    for iri in [*UNSAFE, "javascript:alert(5)", "javascript:alert(6)", "javascript:alert(7)"]:
        assert iri in page.text.replace("&amp;", "&"), iri


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("/id/minamata", "/id/minamata"),
        ("https://example.org/x", "https://example.org/x"),
        ("HTTP://example.org/x", "HTTP://example.org/x"),
        ("#Provision", "#Provision"),
        ("?format=ttl", "?format=ttl"),
        ("javascript:alert(1)", None),
        ("JAVASCRIPT:alert(1)", None),
        (" javascript:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("data:text/html,x", None),
        ("mailto:someone@example.org", None),
        ("//evil.example/", None),
        ("/\\evil.example/", None),
        ("relative", None),
        ("", None),
        (None, None),
    ],
)
def test_the_link_helper(href, expected):
    assert safe_href(href) == expected


# -- 3. slow heads and bodies --------------------------------------------------------------------


def _connect(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.settimeout(HEADER_TIMEOUT + 10)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection; raises socket.timeout if it never
    does within the socket's time-out."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def test_a_slow_request_head_is_cut_off_while_others_are_served(edge_server, client):
    started = time.monotonic()
    sockets = []
    try:
        for i in range(SOCKETS):
            sock = _connect(edge_server)
            if i % 3 == 0:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # half a head
            elif i % 3 == 1:
                sock.sendall(b"GET /api/conventions HTT")  # half a request line
            sockets.append(sock)  # i % 3 == 2: says nothing at all
        # Meanwhile the server answers others, at once.
        answer = client.get("/api/conventions", timeout=HEADER_TIMEOUT)
        assert answer.status_code == 200
        # A client that drips its head a byte at a time does not reset the clock.
        dripping = _connect(edge_server)
        sockets.append(dripping)
        request = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + b"x" * 200
        cut_off = False
        for byte in request:
            try:
                dripping.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                cut_off = True
                break
            time.sleep(0.05)
        assert cut_off or _read_until_closed(dripping) is not None
        for sock in sockets:
            received = _read_until_closed(sock)  # socket.timeout here: never disconnected
            assert received == b"" or received.startswith(b"HTTP/1.1 408"), received[:100]
        assert time.monotonic() - started < HEADER_TIMEOUT + 20
    finally:
        for sock in sockets:
            sock.close()
    # A head sent in two parts within the bound is served as usual.
    with _connect(edge_server) as sock:
        sock.sendall(b"GET /api/context.jsonld HTTP/1.1\r\n")
        time.sleep(HEADER_TIMEOUT / 3)
        sock.sendall(b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert _read_until_closed(sock).startswith(b"HTTP/1.1 200")


def test_a_slow_request_body_gets_408(edge_server, client):
    head = (
        b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/sparql-query\r\nContent-Length: 100\r\n\r\n"
    )
    results: list[bytes] = []

    def slow_client():
        with _connect(edge_server) as sock:
            sock.settimeout(BODY_TIMEOUT + 10)
            sock.sendall(head + b"ASK {")  # 5 of the 100 bytes promised
            results.append(_read_until_closed(sock))

    worker = threading.Thread(target=slow_client)
    started = time.monotonic()
    worker.start()
    # Served meanwhile: a query with its whole body.
    quick = client.post(
        "/sparql", content="ASK {}", headers={"Content-Type": "application/sparql-query"}
    )
    assert quick.status_code == 200
    worker.join(BODY_TIMEOUT + 15)
    assert not worker.is_alive()
    assert results and results[0].startswith(b"HTTP/1.1 408"), results
    assert b"nosniff" in results[0].lower()
    assert time.monotonic() - started < BODY_TIMEOUT + 15


# -- 4. HEAD and OPTIONS on every route ----------------------------------------------------------

SAMPLES = {
    "convention_id": "minamata",
    "number": "11",
    "provision_id": "minamata/article/11",
    "code": "JPN",
    "instrument_id": "minamata",
    "name": "api-links",
    "path": "minamata",
}


def route_table() -> dict[str, set[str]]:
    """Path template -> methods, from the app's own route table (included routers opened)."""
    app = create_app(Settings(store_path=Path("/nonexistent/store")))
    table: dict[str, set[str]] = {}
    for route in app.routes:
        if hasattr(route, "effective_route_contexts"):  # FastAPI's included routers
            for context in route.effective_route_contexts():
                table.setdefault(context.path, set()).update(context.methods)
        elif getattr(route, "methods", None) is not None:
            table.setdefault(route.path, set()).update(route.methods)
        else:  # a mount: the static files
            table.setdefault(route.path + "/{path:path}", set()).update({"GET", "HEAD"})
    return table


def concrete(template: str) -> str:
    if template.startswith("/static/"):
        return "/static/style.css"

    def sample(match):
        name = match.group(1).split(":")[0]
        assert name in SAMPLES, f"add a sample value for {{{name}}} ({template})"
        return SAMPLES[name]

    return re.sub(r"\{([^}]+)\}", sample, template)


def test_head_and_options_on_every_route(client):
    table = route_table()
    assert len(table) > 20
    for template, methods in sorted(table.items()):
        path = concrete(template)
        expected = methods | {"OPTIONS"} | ({"HEAD"} if "GET" in methods else set())
        options = client.options(path)
        assert options.status_code in (200, 204), (path, options.status_code, options.text)
        allow = {m.strip() for m in options.headers["allow"].split(",")}
        assert allow == expected, (path, allow, expected)
        if "GET" in methods:
            got = client.get(path)
            head = client.head(path)
            assert head.status_code == got.status_code, (path, head.status_code, got.status_code)
            assert head.content == b""
            if got.status_code == 200 and "content-length" in head.headers:
                assert head.headers["content-length"] == str(len(got.content)), path
        if "PATCH" not in methods:
            refused = client.request("PATCH", path)
            assert refused.status_code == 405, path
            assert {m.strip() for m in refused.headers["allow"].split(",")} == expected, path
    assert client.options("/no/such/path").status_code == 404


# -- 5. URLs from the settings, never from the Host header ---------------------------------------


def test_urls_come_from_the_public_url_not_the_host_header(client):
    spoofed = {
        "Host": EVIL,
        "X-Forwarded-Host": EVIL,
        "X-Forwarded-Proto": "http",
        "Forwarded": f"host={EVIL};proto=http",
    }
    turtle = {**spoofed, "Accept": "text/turtle"}
    answers = {
        "void": client.get("/.well-known/void", headers=turtle),
        "description": client.get("/sparql", headers=turtle),
        "sparql form": client.get("/sparql", headers={**spoofed, **HTML}),
        "api": client.get("/api/conventions", headers=spoofed),
        "context": client.get("/api/context.jsonld", headers=spoofed),
        "home": client.get("/", headers=spoofed),
        "resource page": client.get("/id/minamata", headers={**spoofed, **HTML}),
        "resource rdf": client.get("/id/minamata", headers=turtle),
        "ontology": client.get("/ontology", headers={**spoofed, **HTML}),
        "openapi": client.get("/openapi.json", headers=spoofed),
        "docs": client.get("/docs", headers=spoofed),
        "redirect": client.get("/conventions/", headers=spoofed, follow_redirects=False),
        "relative base": client.get(
            "/sparql",
            params={"query": "SELECT ?x WHERE { BIND(<here> AS ?x) }"},
            headers={**spoofed, "Accept": "application/sparql-results+json"},
        ),
    }
    for name, answer in answers.items():
        assert answer.status_code < 400, (name, answer.status_code, answer.text[:300])
        assert EVIL not in answer.text, name
        assert EVIL not in str(answer.headers).lower(), name
        assert "127.0.0.1" not in answer.text, name  # nor the address the server is bound to
    public = PUBLIC_URL.rstrip("/")
    assert f"<{public}/sparql>" in answers["void"].text
    assert f"<{public}/sparql>" in answers["description"].text
    assert answers["api"].json()["@context"] == f"{public}/api/context.jsonld"
    assert answers["redirect"].headers["location"] == f"{public}/conventions"
    assert answers["relative base"].json()["results"]["bindings"][0]["x"]["value"] == (
        f"{public}/here"
    )


# -- 6. client mistakes in the update protocols are 4xx with a message ---------------------------

GRAPH = "http://example.org/http-test"
MISSING = "http://example.org/no-such-graph"


def _update(client: httpx.Client, text: str, how: str) -> httpx.Response:
    if how == "form":
        return client.post("/update", data={"update": text}, headers=AUTH)
    if how == "sparql form":
        return client.post("/sparql", data={"update": text}, headers=AUTH)
    headers = {**AUTH, "Content-Type": "application/sparql-update"}
    return client.post("/sparql", content=text, headers=headers)


@pytest.mark.parametrize("how", ["form", "sparql form", "direct"])
def test_update_mistakes_are_4xx_with_the_engines_message(client, how):
    graph = f"{GRAPH}/{how.replace(' ', '-')}"
    assert _update(client, f"CREATE GRAPH <{graph}>", how).status_code == 204
    mistakes = {
        f"CREATE GRAPH <{graph}>": "already exists",
        f"MOVE <{MISSING}> TO <{graph}>": "does not exist",
        f"DROP GRAPH <{MISSING}>": "does not exist",
        f"CLEAR GRAPH <{MISSING}>": "does not exist",
    }
    for text, words in mistakes.items():
        answer = _update(client, text, how)
        assert answer.status_code == 409, (text, answer.status_code, answer.text)
        assert words in answer.text and "<" in answer.text, (text, answer.text)
    for text in (
        f"CREATE SILENT GRAPH <{graph}>",
        f"MOVE SILENT <{MISSING}> TO <{graph}>",
        f"DROP SILENT GRAPH <{MISSING}>",
    ):
        assert _update(client, text, how).status_code == 204, text


def test_graph_store_mistakes_are_4xx_with_a_message(client):
    service = "/rdf-graphs/service"
    turtle = {**AUTH, "Content-Type": "text/turtle"}
    triple = "<http://example.org/s> <http://example.org/p> <http://example.org/o> ."
    mistakes = [
        client.delete(service, params={"graph": MISSING}, headers=AUTH),
        client.get(service, params={"graph": MISSING}),
        client.put(service, params={"graph": GRAPH}, content=triple, headers=AUTH),  # no type
        client.put(
            service,
            params={"graph": GRAPH},
            content=triple,
            headers={**AUTH, "Content-Type": "application/trig"},
        ),
        client.put(service, params={"graph": GRAPH}, content="not turtle <", headers=turtle),
        client.put(service, params={"graph": "relative"}, content=triple, headers=turtle),
        client.put(service, params={"graph": GRAPH, "default": ""}, content=triple, headers=turtle),
        client.delete(service, headers=AUTH),  # names no graph
        client.request("PATCH", service, params={"graph": GRAPH}, headers=AUTH),
        client.put(service, params={"graph": GRAPH}, content=triple),  # no token
        client.put(
            service,
            params={"graph": GRAPH},
            content=triple,
            headers={"Authorization": "Bearer wrong", "Content-Type": "text/turtle"},
        ),
    ]
    for answer in mistakes:
        request = answer.request
        assert 400 <= answer.status_code < 500, (request.method, request.url, answer.text)
        assert answer.text.strip(), (request.method, request.url)
