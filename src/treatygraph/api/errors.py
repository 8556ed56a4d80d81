"""Errors the service answers with, and the handlers that turn any failure into a clear response.

SPARQL clients expect a plain-text message; the JSON API answers JSON (`{"detail": ...}`).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("treatygraph.api")


class ServiceError(Exception):
    """An answer other than success: an HTTP status and a message for the client."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def _answer(request: Request, status: int, message, headers: dict | None = None) -> Response:
    if request.url.path.startswith("/api"):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    text = message if isinstance(message, str) else str(message)
    return PlainTextResponse(text + "\n", status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers: known errors keep their status, anything unexpected is reported."""

    @app.exception_handler(ServiceError)
    async def service_error(request: Request, error: ServiceError) -> Response:
        return _answer(request, error.status, error.message, error.headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        return _answer(request, error.status_code, error.detail, getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        details = [
            {
                "parameter": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
                "in": e["loc"][0],
                "message": e["msg"],
            }
            for e in error.errors()
        ]
        return JSONResponse({"detail": details}, status_code=422)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _answer(request, 500, f"internal error: {type(error).__name__}")
