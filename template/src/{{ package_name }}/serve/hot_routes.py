"""Hot routes: the inference routes' common case without FastAPI's per-request machinery.

For each request FastAPI runs its own middlewares, matches the path against every route,
solves the dependencies, reads the body through a ``Request``, validates it and calls the
endpoint: about a third of a millisecond of the event loop's time for a one-sentence
request. On a small CPU that time is taken from the model; at concurrency 32 on 2 cores
the server answers about 15% more sentences/s with this layer (docs/benchmarks.md).

An endpoint joins with ``@hot``; it takes ``(body, engine, settings)``, ``body`` being a
pydantic model, and returns a ``Response``. For a POST to its path this layer

1. reads the body (the body-size limit, outside this layer, has already applied);
2. hands the request, body and all, to FastAPI unless the caller is authorised, the server
   takes work and the body is JSON that validates: every answer to a bad request comes
   from FastAPI's own route, dependencies and handlers, the same with or without this layer;
3. calls the same endpoint the route calls and sends its response; an exception it raises
   (queue full, deadline, a limit) goes to the app's exception handlers, as in FastAPI.

``HOT_ROUTES=false`` sends every request through FastAPI.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from ..settings import Settings
from .deps import token_problem
from .limits import BODY_KEY, replay
from .responses import FastJSONResponse

E = TypeVar("E", bound=Callable[..., Awaitable[Response]])

#: The parameters of every hot endpoint, passed by name.
HOT_PARAMETERS = ("body", "engine", "settings")


def hot(endpoint: E) -> E:
    """Serve this inference endpoint on the hot path (it must take ``HOT_PARAMETERS``)."""
    endpoint.__hot__ = True  # type: ignore[attr-defined]
    return endpoint


@dataclass(frozen=True)
class HotRoute:
    route: APIRoute
    model: type[BaseModel]

    @classmethod
    def of(cls, route: APIRoute) -> HotRoute:
        endpoint = route.endpoint
        names = tuple(inspect.signature(endpoint).parameters)
        if names != HOT_PARAMETERS:
            raise TypeError(
                f"@hot endpoint {endpoint.__qualname__} for {route.path} takes {names}; "
                f"a hot endpoint takes exactly {HOT_PARAMETERS}"
            )
        model = typing.get_type_hints(endpoint)["body"]
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"@hot endpoint {endpoint.__qualname__}: body must be a pydantic model")
        return cls(route, model)


class HotRoutes:
    """Pure ASGI layer in front of the FastAPI app (see the module docstring)."""

    def __init__(self, app: ASGIApp, fastapi: FastAPI, routes: Iterable[BaseRoute]) -> None:
        """``app``: the FastAPI app's middleware stack; ``routes``: the routes it includes."""
        self.app, self.fastapi = app, fastapi
        self.routes = {
            route.path: HotRoute.of(route)
            for route in routes
            if isinstance(route, APIRoute)
            and "POST" in (route.methods or ())
            and getattr(route.endpoint, "__hot__", False)
        }
        self.served = 0  # requests answered here
        self.handed_on = 0  # requests to hot paths that FastAPI answered

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = None
        if scope["type"] == "http" and scope["method"] == "POST":
            hot = self.routes.get(_route_path(scope))
        if hot is None:
            await self.app(scope, receive, send)
            return
        body = scope.get(BODY_KEY)
        if body is None:
            body = await _read_body(receive)
        if body is None:
            return  # the client went away before sending its request
        state = self.fastapi.state
        engine = getattr(state, "engine", None)
        parsed = None
        if engine is not None and state.server.accepting and _authorised(scope, state.settings):
            parsed = _parse(hot.model, scope, body)
        if parsed is None:
            self.handed_on += 1
            await self.app(scope, replay(body, receive), send)
            return
        self.served += 1
        scope["route"] = hot.route  # as FastAPI's router sets it (metrics label the route)
        try:
            response = await hot.route.endpoint(body=parsed, engine=engine, settings=state.settings)
        except Exception as exc:
            response = await self._handle(exc, scope, receive)
        if type(response) is FastJSONResponse and response.background is None:
            start = {"type": "http.response.start", "status": response.status_code}
            start["headers"] = response.raw_headers
            await send(start)
            await send({"type": "http.response.body", "body": response.body})
        else:
            await response(scope, receive, send)

    async def _handle(self, exc: Exception, scope: Scope, receive: Receive) -> Response:
        """The app's exception handler for ``exc`` (re-raised when there is none)."""
        for kind in type(exc).__mro__:
            handler = self.fastapi.exception_handlers.get(kind)
            if handler is not None:
                response = handler(Request(scope, receive), exc)
                if inspect.isawaitable(response):
                    response = await response
                return response
        raise exc


def _route_path(scope: Scope) -> str:
    """The path the router matches: without the root path a proxy may have put in front."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _authorised(scope: Scope, settings: Settings) -> bool:
    if not settings.require_auth:
        return True
    return token_problem(_header(scope, b"authorization") or "", settings) is None


def _parse(model: type[BaseModel], scope: Scope, body: bytes) -> BaseModel | None:
    """The validated body, or None: not JSON, or not valid (FastAPI says why)."""
    content_type = _header(scope, b"content-type")
    if not body or (content_type is not None and not _is_json(content_type)):
        return None
    try:
        return model.model_validate_json(body)
    except ValidationError:
        return None


def _is_json(content_type: str) -> bool:
    """``application/json`` or ``application/<anything>+json``, as FastAPI reads bodies."""
    media = content_type.split(";", 1)[0].strip().lower()
    kind, _, subtype = media.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)
