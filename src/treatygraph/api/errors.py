"""Errors the service answers with, and the handlers that turn any failure into a clear response.

SPARQL clients expect a plain-text message; the JSON API answers one body, whatever the status
(`models.Problem`): `{"detail": "what went wrong", "errors": [{"parameter", "in", "message"}]}`,
the list naming the parameters at fault when the request does not fit the schema (422).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from treatygraph.api import models

log = logging.getLogger("treatygraph.api")


class ServiceError(Exception):
    """An answer other than success: an HTTP status and a message for the client.

    `message` may also be a list of parameter problems (`{"parameter", "message"}`, optionally
    `"in"`, default "query"): the answer then names each parameter."""

    def __init__(self, status: int, message, headers: dict[str, str] | None = None):
        problems = []
        if isinstance(message, list):
            problems = [
                {"parameter": p.get("parameter", ""), "in": p.get("in", "query"), **p}
                for p in message
            ]
            message = "; ".join(f"{p['parameter']}: {p['message']}" for p in problems)
        super().__init__(message)
        self.status = status
        self.message = str(message)
        self.problems = problems
        self.headers = headers or {}


def problem(detail: str, problems: list[dict] | None = None) -> dict:
    """The JSON error body (see models.Problem)."""
    return models.Problem.model_validate({"detail": detail, "errors": problems or []}).model_dump(
        by_alias=True
    )


def _answer(
    request: Request, status: int, message, headers: dict | None = None, problems=None
) -> Response:
    if request.url.path.startswith("/api"):
        return JSONResponse(problem(str(message), problems), status_code=status, headers=headers)
    text = message if isinstance(message, str) else str(message)
    return PlainTextResponse(text + "\n", status_code=status, headers=headers)


def _location(loc: tuple) -> tuple[str, str]:
    """(where, parameter) of a validation error's location, e.g. ("query", "limit")."""
    where = str(loc[0]) if loc else "request"
    name = ".".join(str(part) for part in loc[1:])
    if where not in ("query", "path", "header", "cookie", "body"):
        where, name = "request", ".".join(str(part) for part in loc)
    return where, name


def install(app: FastAPI) -> None:
    """Register the handlers (known errors keep their status, anything unexpected is reported)
    and the OpenAPI document that describes them."""
    models.install(app)

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, error: ServiceError) -> Response:
        return _answer(request, error.status, error.message, error.headers, error.problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        return _answer(request, error.status_code, error.detail, getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        problems = []
        for e in error.errors():
            where, name = _location(tuple(e.get("loc") or ()))
            message = e["msg"]
            if e.get("type") == "string_pattern_mismatch":
                message = "has characters or a form this parameter does not take (see its pattern)"
            problems.append({"parameter": name, "in": where, "message": message})
        detail = "; ".join(f"{p['parameter']}: {p['message']}" for p in problems)
        return JSONResponse(problem(detail or "invalid request", problems), status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _answer(request, 500, f"internal error: {type(error).__name__}")
