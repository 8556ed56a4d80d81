"""What every request and answer passes through, whatever route serves it.

- `PublicOrigin`: URLs are made from the configured public URL, never from the Host header.
- `SecurityHeaders`: nosniff, a Content-Security-Policy, no framing, no referrer leaks.
- `AllowedMethods`: HEAD wherever GET is served, OPTIONS answering with the complete Allow.
- `BodyTimeout`: a client that does not send its body within the bound gets 408.
- `docs_page`: the OpenAPI explorer with its own policy (its start-up script and inline styles).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from urllib.parse import urlsplit

from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.routing import Match, Mount, Router

# The pages' own policy: everything from this origin, nothing inline, no framing.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# Anything else (RDF, JSON, text) is data, never a document: it may load nothing at all.
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
SWAGGER_UI = "/vendor/swagger-ui-dist"  # npm swagger-ui-dist, served from node_modules
PROBED = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def public_origin(url: str) -> tuple[str, str]:
    """(scheme, host[:port]) of a public URL; it must be an http(s) origin without a path."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"public_url must be an http(s) URL, got {url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError(f"public_url must be an origin such as https://example.org/, got {url!r}")
    return parts.scheme, parts.netloc


class PublicOrigin:
    """Make every URL the app builds (request.url, url_for, redirects) use the public origin.

    The Host header (and X-Forwarded-Proto, which uvicorn trusts from loopback) is replaced before
    the app sees the request: a client cannot make the service write another host into its
    answers. Routing does not depend on the host, so nothing else changes.
    """

    def __init__(self, app, url: str):
        self.app = app
        self.scheme, netloc = public_origin(url)
        self.host = netloc.encode("latin-1")

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            headers = [(k, v) for k, v in scope.get("headers") or [] if k != b"host"]
            scope = {**scope, "scheme": self.scheme, "headers": [(b"host", self.host), *headers]}
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Add the security headers to every answer (a route may set its own policy: /docs)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": secure(list(message.get("headers") or []))}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def secure(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    names = {k.lower() for k, _ in headers}
    content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
    html = content_type.split(b";")[0].strip().lower() in (b"text/html", b"application/xhtml+xml")
    added = {
        b"x-content-type-options": b"nosniff",
        b"content-security-policy": (PAGE_CSP if html else DATA_CSP).encode(),
        b"x-frame-options": b"DENY",
        b"referrer-policy": b"no-referrer",
    }
    return headers + [(k, v) for k, v in added.items() if k not in names]


class AllowedMethods:
    """HEAD wherever GET is served, OPTIONS with the complete Allow header, a complete Allow on
    405: the methods of every route of the path, not only of the first one that matched."""

    def __init__(self, app, router: Router):
        self.app = app
        self.router = router

    def methods(self, scope) -> set[str]:
        """The methods the path is served with (empty: no route has this path).

        Each method is asked of the routes as the router would (`matches`), which works for
        nested routers too; a mount (the static files) serves GET and HEAD.
        """
        found: set[str] = set()
        for route in self.router.routes:
            if isinstance(route, Mount):
                if route.matches(scope)[0] != Match.NONE:
                    found |= {"GET", "HEAD"}
                continue
            for method in PROBED:
                if route.matches({**scope, "method": method})[0] == Match.FULL:
                    found.add(method)
        if "GET" in found:
            found.add("HEAD")
        return found | {"OPTIONS"} if found else found

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        method = scope["method"]
        if method == "OPTIONS":
            allowed = self.methods(scope)
            if allowed:
                return await _answer(send, 204, b"", [(b"allow", _allow(allowed))])
        elif method == "HEAD" and "GET" in self.methods(scope):
            # Always as GET, even where a route takes HEAD itself: Content-Length must be what
            # GET would send (RFC 9110, 9.3.2), and the headers the same.
            return await self.app({**scope, "method": "GET"}, receive, _without_body(send))

        request = dict(scope)  # as it came: routing changes the scope it is given (root_path)

        async def send_complete_allow(message):
            if message["type"] == "http.response.start" and message["status"] == 405:
                headers = [(k, v) for k, v in message.get("headers") or [] if k != b"allow"]
                headers.append((b"allow", _allow(self.methods(request))))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_complete_allow)


def _allow(methods: set[str]) -> bytes:
    order = [*PROBED, "OPTIONS"]
    return ", ".join(sorted(methods, key=lambda m: (order.index(m), m))).encode()


def _without_body(send):
    """Pass the answer's status and headers (Content-Length included), drop its body."""

    async def head_send(message):
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return head_send


class BodyReadTimeout(Exception):
    """The client did not send the whole request body within the bound."""


class BodyTimeout:
    """Answer 408 (and close the connection) when the body does not arrive within `seconds` of
    the app starting to read it. Reads after the body (waiting for a disconnect) are not bound."""

    def __init__(self, app, seconds: float):
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.seconds or self.seconds <= 0:
            return await self.app(scope, receive, send)
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        complete = timed_out = started = False

        async def bounded_receive():
            nonlocal deadline, complete, timed_out
            if complete:
                return await receive()
            if deadline is None:
                deadline = loop.time() + self.seconds
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except TimeoutError:
                timed_out = True
                raise BodyReadTimeout() from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        async def guarded_send(message):
            nonlocal started
            if timed_out and not started:
                return  # whatever the app made of the missing body, the answer is 408
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except BodyReadTimeout:
            if started:
                raise
        if timed_out and not started:
            text = f"the request body did not arrive within {self.seconds:g} s\n".encode()
            await _answer(send, 408, text, [(b"connection", b"close")])


async def _answer(send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    start = (
        [*headers] if status == 204 else [(b"content-length", str(len(body)).encode()), *headers]
    )
    if body:
        start.append((b"content-type", b"text/plain; charset=utf-8"))
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


# -- the OpenAPI explorer --------------------------------------------------------------------


def docs_page(title: str, openapi_url: str) -> HTMLResponse:
    """Swagger UI, served from this origin: its script, styles and icon come from the npm package
    swagger-ui-dist (installed at set-up time, served under /vendor from node_modules), so the
    page works offline and loads nothing from another host. Its policy allows its one inline
    start-up script by hash, and inline styles (Swagger UI sets them); no other origin, no
    framing, no online validator (`validatorUrl: null`, which would fetch a badge)."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        oauth2_redirect_url=None,
        swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},
    )
    body = bytes(page.body)
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in re.findall(rb"<script>(.*?)</script>", body, re.DOTALL)
    )
    policy = (
        f"default-src 'self'; script-src 'self' {hashes}; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
    return HTMLResponse(body, headers={"Content-Security-Policy": policy})
