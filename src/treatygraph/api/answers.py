"""Conditional and remembered answers for GET and HEAD, valid until the next write.

Between two writes the dataset does not change, so the answer to a GET is a function of the
request (path, query string, Accept and the other headers the answer varies on) and of the
dataset's version. This layer, outside every route:

- gives every successful GET/HEAD answer an `ETag` made of the dataset version and the request's
  key, and a `Last-Modified` of the last write (or of the start);
- answers `If-None-Match` that names the current ETag with 304 without running anything, and
  `If-Modified-Since` at or after the last change likewise;
- remembers whole answers (up to `max_bytes` in all, each at most `max_answer_bytes`), so a
  repeated request is answered from memory, never reaching a route or a worker.

A write bumps the version (`Executor.generation`), which changes every ETag and makes every
remembered answer stale. Requests with credentials are never remembered, nor SPARQL queries
whose answer may differ between two runs (NOW, RAND, UUID, STRUUID, BNODE, and SAMPLE).
"""

from __future__ import annotations

import email.utils
import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import unquote_plus

# Request headers an answer may vary on (content negotiation, CORS); the others do not change it.
VARY_ON = (b"accept", b"accept-language", b"origin")
_VOLATILE = re.compile(r"\b(NOW|RAND|UUID|STRUUID|BNODE|SAMPLE)\s*\(", re.IGNORECASE)


class Answers:
    """ASGI middleware; `version` returns the dataset's current version (a string)."""

    def __init__(
        self,
        app,
        version: Callable[[], str],
        *,
        max_bytes: int = 64 * 1024 * 1024,
        max_answer_bytes: int = 1024 * 1024,
    ):
        self.app = app
        self.version = version
        self.max_bytes = max_bytes
        self.max_answer_bytes = max_answer_bytes
        self._answers: OrderedDict[bytes, tuple[str, int, list, bytes]] = OrderedDict()
        self._size = 0
        self._changed: dict[str, float] = {}  # version -> when it began (for Last-Modified)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or _volatile(scope):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        version = self.version()
        key = _key(scope, headers)
        etag = f'"{version}-{key.hex()[:16]}"'.encode()
        modified = self._last_modified(version)
        if _not_modified(headers, etag, modified):
            return await _send(
                send, 304, [(b"etag", etag), (b"last-modified", _http_date(modified))]
            )
        fresh = _asks_fresh(headers)
        remembered = None if fresh else self._answers.get(key)
        if remembered is not None and remembered[0] == version:
            self._answers.move_to_end(key)
            _, status, answer_headers, body = remembered
            return await _send(
                send, status, answer_headers, b"" if scope["method"] == "HEAD" else body
            )
        cacheable = not fresh and _cacheable(scope, headers)
        start: dict = {}
        chunks: list[bytes] = []
        too_big = False

        async def send_tagged(message):
            nonlocal too_big
            if message["type"] == "http.response.start":
                start.update(message)
                if message["status"] == 200:
                    extra = [(b"etag", etag), (b"last-modified", _http_date(modified))]
                    message = {**message, "headers": [*message.get("headers", []), *extra]}
                    start.update(message)
            elif message["type"] == "http.response.body" and cacheable and not too_big:
                chunks.append(message.get("body", b""))
                if sum(map(len, chunks)) > self.max_answer_bytes:
                    too_big = True
                    chunks.clear()
            await send(message)

        await self.app(scope, receive, send_tagged)
        if (
            cacheable
            and not too_big
            and start.get("status") == 200
            and scope["method"] == "GET"
            and version == self.version()
        ):
            self._remember(
                key, version, start["status"], start.get("headers", []), b"".join(chunks)
            )

    def _remember(self, key: bytes, version: str, status: int, headers: list, body: bytes) -> None:
        old = self._answers.pop(key, None)
        if old is not None:
            self._size -= len(old[3])
        self._answers[key] = (version, status, list(headers), body)
        self._size += len(body)
        while self._size > self.max_bytes and self._answers:
            _, dropped = self._answers.popitem(last=False)
            self._size -= len(dropped[3])

    def _last_modified(self, version: str) -> float:
        if version not in self._changed:
            self._changed = {version: time.time()}
        return self._changed[version]


def _key(scope, headers: dict) -> bytes:
    parts = [scope["path"].encode(), scope.get("query_string", b"")]
    parts += [headers.get(name, b"") for name in VARY_ON]
    return hashlib.blake2b(b"\x00".join(parts), digest_size=16).digest()


def _cacheable(scope, headers: dict) -> bool:
    """Whether the answer may be remembered for others (not whether it gets an ETag)."""
    return b"authorization" not in headers and b"cookie" not in headers


def _asks_fresh(headers: dict) -> bool:
    """Cache-Control: no-cache or no-store: answer anew, and do not remember it."""
    control = headers.get(b"cache-control", b"").lower()
    return b"no-cache" in control or b"no-store" in control


def _volatile(scope) -> bool:
    """A query whose answer may differ between two runs on the same data."""
    query = unquote_plus(scope.get("query_string", b"").decode("latin-1"))
    return _VOLATILE.search(query) is not None


def _not_modified(headers: dict, etag: bytes, modified: float) -> bool:
    match = headers.get(b"if-none-match")
    if match is not None:
        tags = [t.strip() for t in match.split(b",")]
        return etag in tags or b"*" in tags or b"W/" + etag in tags
    since = headers.get(b"if-modified-since")
    if since is not None:
        try:
            parsed = email.utils.parsedate_to_datetime(since.decode("latin-1")).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
        return int(modified) <= int(parsed)
    return False


def _http_date(when: float) -> bytes:
    return email.utils.formatdate(when, usegmt=True).encode()


async def _send(send, status: int, headers: list, body: bytes = b"") -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
