"""The UI's routes: the page, its static files, and the JSON API under ``/api/ui``.

The API is documented in ``docs/ui.md``.  Reads are GET; changes are POST with a JSON
body (see :mod:`gitrun.server.ui.writes_api`).
"""

from __future__ import annotations

import os

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gitrun._version import __version__
from gitrun.server.context import ServerContext
from gitrun.server.ui import artifacts_api, run_api, runs_api, writes_api
from gitrun.server.ui.handlers import Handler, endpoint
from gitrun.server.ui.jsonify import Json

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
API = "/api/ui"


async def config(request: Request, ctx: ServerContext) -> Response:
    """What the page needs to know first; the token is for write requests."""
    store = ctx.client.store
    return Json(
        {
            "version": __version__,
            "location": store.uri,
            "writable": ctx.options.writable,
            "csrf_token": ctx.csrf_token,
            "poll_seconds": ctx.options.poll_seconds,
        }
    )


def _tip(ctx: ServerContext) -> str | None:
    tip = ctx.client.store.records.tip()
    return str(tip) if tip is not None else None


async def tip(request: Request, ctx: ServerContext) -> Response:
    """The records commit: it changes whenever any run changes (pages poll it)."""
    return Json({"tip": await ctx.call(_tip, ctx)})


async def index(request: Request) -> Response:
    return FileResponse(os.path.join(STATIC_DIR, "index.html"), headers={"cache-control": "no-cache"})


def routes(ctx: ServerContext) -> list[BaseRoute]:
    def get(path: str, handler: Handler) -> Route:
        return Route(API + path, endpoint(ctx, handler), methods=["GET"])

    def post(path: str, handler: Handler) -> Route:
        return Route(API + path, endpoint(ctx, handler), methods=["POST"])

    return [
        Route("/", index, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
        get("/config", config),
        get("/tip", tip),
        get("/experiments", runs_api.experiments),
        get("/filter/check", runs_api.check_filter),
        get("/runs", runs_api.runs),
        get("/runs/count", runs_api.count),
        get("/runs/columns", runs_api.columns),
        get("/runs/groups", runs_api.groups),
        get("/runs/{run_id}", run_api.run),
        get("/runs/{run_id}/code-diff", run_api.code_diff),
        get("/runs/{run_id}/metric.csv", run_api.metric_csv),
        get("/runs/{run_id}/artifacts", artifacts_api.listing),
        get("/runs/{run_id}/artifacts/preview", artifacts_api.preview),
        get("/runs/{run_id}/artifacts/raw", artifacts_api.raw),
        get("/series", run_api.series_views),
        get("/compare", run_api.compare),
        get("/diff", run_api.runs_diff),
        post("/runs/{run_id}/note", writes_api.set_note),
        post("/runs/{run_id}/tags", writes_api.set_tag),
        post("/runs/{run_id}/tags/delete", writes_api.delete_tag),
        post("/runs/{run_id}/rename", writes_api.rename),
        post("/runs/{run_id}/delete", writes_api.delete),
        post("/runs/{run_id}/restore", writes_api.restore),
    ]
