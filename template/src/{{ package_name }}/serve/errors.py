"""One JSON error shape for every 4xx/5xx: ``{"error": {"type", "message"}}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import InputTooLongError


class ServiceError(Exception):
    """An error with an HTTP status and a message meant for the client."""

    def __init__(self, status: int, kind: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.kind, self.message, self.headers = status, kind, message, headers


def error_body(kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, **extra}}


def _describe(errors: list[Any]) -> str:
    parts = []
    for err in errors:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        message = err.get("msg", "invalid")
        if err.get("type") == "string_unicode":
            message = "not valid Unicode text (a lone surrogate?); send well-formed UTF-8 text"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


OIP_PREFIX = "/v2"  # Open Inference Protocol errors are {"error": "<message>"}


def error_response(
    path: str, status: int, kind: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The JSON error in the shape the route's protocol (and its clients) expect; a 503
    always says when to retry."""
    if status == 503 and "Retry-After" not in (headers or {}):
        headers = {**(headers or {}), "Retry-After": "5"}
    if path == OIP_PREFIX or path.startswith(OIP_PREFIX + "/"):
        return JSONResponse({"error": message}, status, headers=headers)
    return JSONResponse(error_body(kind, message), status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service(request: Request, exc: ServiceError) -> JSONResponse:
        return error_response(request.url.path, exc.status, exc.kind, exc.message, exc.headers)

    @app.exception_handler(InputTooLongError)
    async def _too_long(request: Request, exc: InputTooLongError) -> JSONResponse:
        return error_response(request.url.path, 422, "input_too_long", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        message = _describe(list(exc.errors()))
        return error_response(request.url.path, 422, "invalid_request", message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette logs the traceback; the client gets JSON, never a plain-text 500.
        message = "internal server error; the server log has the details"
        return error_response(request.url.path, 500, "internal_error", message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        path, status = request.url.path, exc.status_code
        return error_response(path, status, "http_error", str(exc.detail), exc.headers)
