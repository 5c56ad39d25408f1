"""What every MLflow endpoint shares: settings, request bodies, the write guard, errors."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from gitrun.errors import GitrunError, InvalidParameterValue
from gitrun.server.context import ServerContext
from gitrun.server.mlflow.auth import AUTH_SCOPE_KEY, Identity
from gitrun.server.mlflow.protocol import (
    BAD_REQUEST,
    PERMISSION_DENIED,
    ApiError,
    Fields,
    error_response,
    parse_json_body,
    query_fields,
)
from gitrun.tracking.store import TrackingStore

T = TypeVar("T")
DEFAULT_MAX_BODY = 16 * 2**20


@dataclass(frozen=True)
class MlflowSettings:
    """Options of the MLflow route groups.

    Attributes:
        serve_artifacts: Serve the artifact proxy (``/api/2.0/mlflow-artifacts``).
        max_body_bytes: Largest JSON request body accepted (413 above it).  Artifact
            uploads are streamed to disk and not limited by it.
    """

    serve_artifacts: bool = True
    max_body_bytes: int = DEFAULT_MAX_BODY


class Api:
    """The shared context of the MLflow endpoints of one app."""

    def __init__(self, ctx: ServerContext, settings: MlflowSettings) -> None:
        self.ctx = ctx
        self.settings = settings

    @property
    def store(self) -> TrackingStore:
        return self.ctx.client.store

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a tracking call in the tracking thread (never on the event loop)."""
        return await self.ctx.call(fn, *args, **kwargs)

    async def fields(self, request: Request) -> Fields:
        """The request's fields: the query string for GET/DELETE, the JSON body otherwise."""
        if request.method in ("GET", "DELETE", "HEAD"):
            return query_fields(request)
        # As MLflow's server: JSON only.  This also keeps web pages of other sites out: a
        # browser sends a cross-site JSON POST only after a CORS preflight this server never
        # approves, while a text/plain "simple" POST would go through without one.
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json":
            raise InvalidParameterValue("Bad Request. Content-Type must be one of ['application/json'].")
        declared = request.headers.get("content-length")
        limit = self.settings.max_body_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        return parse_json_body(b"".join(chunks))

    def user(self, request: Request) -> Identity | None:
        found = request.scope.get(AUTH_SCOPE_KEY)
        return found if isinstance(found, Identity) else None

    def check_write(self, request: Request) -> None:
        """Refuse a change on a read-only server or from a read-only user (403)."""
        if not self.ctx.options.writable:
            raise ApiError("This gitrun server is read-only.", PERMISSION_DENIED, 403)
        who = self.user(request)
        if who is not None and who.read_only:
            raise ApiError(f"User {who.name!r} may only read.", PERMISSION_DENIED, 403)


def _too_large(limit: int) -> ApiError:
    return ApiError(f"The request body is larger than the server's limit of {limit} bytes.", BAD_REQUEST, 413)


Handler = Callable[[Api, Request], Awaitable[Response]]


def endpoint(api: Api, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint: gitrun errors become MLflow error bodies with their status."""

    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        try:
            return await handler(api, request)
        except GitrunError as exc:
            return error_response(exc)

    return run
