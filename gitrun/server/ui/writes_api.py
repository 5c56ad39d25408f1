"""Changing runs from the page (only with ``--writable``): note, tags, name, delete/restore.

Every handler first passes :func:`gitrun.server.security.check_write`, then calls the
tracking client and commits at once, so other processes (and the next read) see it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gitrun.errors import InvalidParameterValue
from gitrun.server.context import ServerContext
from gitrun.server.security import check_write
from gitrun.server.ui.handlers import json_body
from gitrun.server.ui.jsonify import NOTE_TAG, Json
from gitrun.tracking.client import Client
from gitrun.tracking.search import resolve_run_id


def _string(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise InvalidParameterValue(f"{name!r} must be a string")
    return value


def _apply(client: Client, text: str, change: Callable[[Client, str], None]) -> str:
    run_id = resolve_run_id(client.store, text)
    change(client, run_id)
    client.flush()
    return run_id


async def _write(request: Request, ctx: ServerContext, change: Callable[[Client, str], None]) -> Response:
    check_write(request, ctx.options.writable, ctx.csrf_token)
    run_id = await ctx.call(_apply, ctx.client, request.path_params["run_id"], change)
    return Json({"ok": True, "run_id": run_id})


async def set_note(request: Request, ctx: ServerContext) -> Response:
    check_write(request, ctx.options.writable, ctx.csrf_token)
    text = _string(await json_body(request), "text")
    return await _write(request, ctx, lambda c, r: c.set_tag(r, NOTE_TAG, text))


async def set_tag(request: Request, ctx: ServerContext) -> Response:
    check_write(request, ctx.options.writable, ctx.csrf_token)
    body = await json_body(request)
    key, value = _string(body, "key"), _string(body, "value")
    return await _write(request, ctx, lambda c, r: c.set_tag(r, key, value))


async def delete_tag(request: Request, ctx: ServerContext) -> Response:
    check_write(request, ctx.options.writable, ctx.csrf_token)
    key = _string(await json_body(request), "key")
    return await _write(request, ctx, lambda c, r: c.delete_tag(r, key))


async def rename(request: Request, ctx: ServerContext) -> Response:
    check_write(request, ctx.options.writable, ctx.csrf_token)
    name = _string(await json_body(request), "name").strip()
    if not name:
        raise InvalidParameterValue("a run name cannot be empty")
    return await _write(request, ctx, lambda c, r: c.update_run(r, name=name))


async def delete(request: Request, ctx: ServerContext) -> Response:
    return await _write(request, ctx, lambda c, r: c.delete_run(r))


async def restore(request: Request, ctx: ServerContext) -> Response:
    return await _write(request, ctx, lambda c, r: c.restore_run(r))
