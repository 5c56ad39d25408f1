"""Small helpers the UI's endpoints share: error responses and query parameters."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gitrun.errors import GitrunError, InvalidParameterValue
from gitrun.server.context import ServerContext
from gitrun.server.ui.jsonify import Json
from gitrun.tracking.tables import check_filter

Handler = Callable[[Request, ServerContext], Awaitable[Response]]


def endpoint(context: ServerContext, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint calling ``handler(request, context)``; gitrun errors become
    JSON ``{"error_code", "message"}`` (plus ``position`` for a bad filter string)."""

    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        try:
            return await handler(request, context)
        except GitrunError as exc:
            body: dict[str, Any] = {"error_code": exc.error_code, "message": exc.message}
            if "filter" in request.query_params:
                problem = check_filter(request.query_params["filter"])
                if problem is not None:
                    body.update(message=problem.message, position=problem.position)
            return Json(body, status_code=exc.get_http_status_code())

    return run


def text_arg(request: Request, name: str, default: str = "") -> str:
    value: str = request.query_params.get(name, default)
    return value


def int_arg(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidParameterValue(f"query parameter {name!r} must be an integer, got {raw!r}") from None


def float_arg(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        raise InvalidParameterValue(f"query parameter {name!r} must be a number, got {raw!r}") from None


def list_arg(request: Request, name: str) -> list[str]:
    """A comma-separated list (``a,b``), or the parameter repeated (``?k=a&k=b``).

    Keys with commas are sent repeated, never joined."""
    values = request.query_params.getlist(name)
    if len(values) == 1:
        return [v for v in values[0].split(",") if v]
    return [v for v in values if v]


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise InvalidParameterValue("the request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise InvalidParameterValue("the request body must be a JSON object")
    return body
