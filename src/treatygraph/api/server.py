"""`treatygraph serve`: build the store when it is missing or stale, then run uvicorn."""

from __future__ import annotations

import asyncio
import logging
import sys

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from treatygraph import build as builder
from treatygraph.api.app import create_app
from treatygraph.settings import Settings

log = logging.getLogger("treatygraph.server")


def ensure_store(settings: Settings) -> None:
    """Build the store from data/ unless a store built from the current sources is there."""
    path = settings.store_path
    if path.is_dir() and builder.is_fresh(path):
        return
    print(f"building the store at {path} from data/ ...", file=sys.stderr)
    result = builder.build(path)
    print(
        f"built {result.quads} quads in {result.graphs} graphs; kept {result.written} quads of "
        "written data",
        file=sys.stderr,
    )


def serve(settings: Settings, *, build: bool = True) -> int:
    """Serve until interrupted; returns the process exit code.

    With `build` false the store is served as it is (it must exist): for a store built from
    other sources than data/, such as the benchmark's generated graphs.
    """
    if settings.store_url:
        return _serve(settings, held=None, where=settings.store_url)
    if not build and not settings.store_path.is_dir():
        print(f"not serving: no store at {settings.store_path}", file=sys.stderr)
        return 2
    try:
        if build:
            ensure_store(settings)
        # Held while serving: no build may replace the store under the service (see build).
        held = builder.hold_store(settings.store_path, shared=True)
    except builder.BuildRefused as refused:
        print(refused, file=sys.stderr)
        print("not serving: the data violates the shapes (see above)", file=sys.stderr)
        return 1
    except builder.StoreKept as kept:
        print(kept, file=sys.stderr)
        print("not serving: the store was left as it was (see above)", file=sys.stderr)
        return 1
    return _serve(settings, held=held, where=str(settings.store_path))


def _serve(settings: Settings, *, held, where: str) -> int:
    app = create_app(settings)
    mode = "writable with the token" if settings.write_token else "read-only"
    print(
        f"treatygraph: serving {where} on http://{settings.host}:{settings.port}/ "
        f"(SPARQL at /sparql, {mode})",
        file=sys.stderr,
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        http=with_header_timeout(settings.header_timeout),
    )
    if held is not None:
        held.close()
    return 0


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, with a bound on the time a client takes to send a request's head.

    uvicorn bounds only the idle time between requests (keep-alive): a client that opens a
    connection and sends nothing, or sends a header line now and then (slowloris), holds the
    connection for ever. Here the head must be complete within `header_timeout` seconds of the
    connection opening, or of the first byte of the next request on a kept-alive connection; the
    time counts from then, so dripping bytes does not extend it. A late client gets 408 and the
    connection is closed. The body has its own bound (`edge.BodyTimeout`, in the app).
    """

    header_timeout: float = 10.0
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Half of a pipelined request may be waiting: its clock starts now. An idle connection
        # is uvicorn's keep-alive bound's; a pipelined request being served stops the clock.
        waiting = self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]
        if waiting and not self.transport.is_closing():
            self._arm()
        else:
            self._disarm()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _watch_head(self) -> None:
        """After new data: still waiting for a head, keep (or start) the clock; else stop it."""
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            self._disarm()
        else:
            self._arm()

    def _arm(self) -> None:
        if self._head_timer is None and self.header_timeout > 0:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if not self.conn.trailing_data[0] and self.timeout_keep_alive_task is not None:
            return  # an idle kept-alive connection: uvicorn's keep-alive bound closes it
        # h11 cannot answer a request it has not received: the 408 is written as it is.
        body = b"the request head did not arrive in time\n"
        self.transport.write(
            b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"x-content-type-options: nosniff\r\nconnection: close\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        try:
            self.conn.send(h11.ConnectionClosed())
        except h11.LocalProtocolError:
            pass
        self.transport.close()


def with_header_timeout(seconds: float) -> type[HeaderTimeoutProtocol]:
    """The protocol class uvicorn is given (it makes one instance per connection)."""
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout": seconds})
