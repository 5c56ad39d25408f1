"""The app factory: route groups mounted on one Starlette app, behind shared middleware.

A route group is a name, a path prefix and a function that builds its routes from
the shared :class:`ServerContext`.  The web UI is one group (``/`` and
``/api/ui``); an MLflow-compatible REST API is another, added by passing its group::

    create_app(options, groups=[ui_group(), mlflow_group()])

Each group turns its own errors into responses (the UI answers JSON
``{"error_code", "message"}``); the app adds the security headers, the host check
and a last-resort handler that never shows a traceback to the client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount

from gitrun.server.context import ServerContext
from gitrun.server.options import ServerOptions
from gitrun.server.security import SecurityMiddleware
from gitrun.tracking.client import Client

log = logging.getLogger("gitrun.server")


@dataclass(frozen=True)
class RouteGroup:
    """Routes served under ``prefix`` ("" for the root), built from the shared context."""

    name: str
    prefix: str
    routes: Callable[[ServerContext], list[BaseRoute]]


def default_groups() -> list[RouteGroup]:
    from gitrun.server.ui import ui_group

    return [ui_group()]


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("error while serving %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error_code": "INTERNAL_ERROR", "message": "internal server error"}, status_code=500)


def create_app(
    options: ServerOptions,
    groups: Sequence[RouteGroup] | None = None,
    client: Client | None = None,
    middleware: Sequence[Middleware] = (),
) -> Starlette:
    """The ASGI app serving ``groups`` (default: the web UI) with ``options``.

    Args:
        options: Shared options (tracking URI, host, writable, ...).
        groups: Route groups to mount, in order (a group with prefix "" last).
        client: A tracking client to use instead of one for ``options.tracking_uri``.
        middleware: More middleware, inside the security middleware (``gitrun server``'s
            authentication).
    """
    context = ServerContext(options, client)
    chosen = list(groups) if groups is not None else default_groups()
    chosen.sort(key=lambda g: g.prefix == "")  # the root group last: it must not shadow the others
    routes: list[BaseRoute] = []
    for group in chosen:
        built = group.routes(context)
        routes += [Mount(group.prefix, routes=built, name=group.name)] if group.prefix else built
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SecurityMiddleware, loopback_only=options.loopback), *middleware],
        exception_handlers={Exception: _internal_error},
    )
    app.state.context = context
    return app
