"""A run's artifacts: ``/api/ui/runs/{id}/artifacts``, ``.../preview``, ``.../raw``.

Paths are checked by the tracking layer (no ``..``, nothing absolute): a request can
only name files of the run.  Raw bytes are served as downloads, except raster images
shown in the page; every response forbids sniffing and runs no script (CSP sandbox).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gitrun.server.context import ServerContext
from gitrun.server.ui.handlers import text_arg
from gitrun.server.ui.jsonify import Json
from gitrun.tracking.artifacts import previews
from gitrun.tracking.search import resolve_run_id
from gitrun.tracking.store import TrackingStore


def _listing(store: TrackingStore, text: str) -> dict[str, Any]:
    run_id = resolve_run_id(store, text)
    files = previews.list_files(store, run_id)
    return {
        "files": [{"path": f.path, "size": f.size, "digest": str(f.digest)} for f in files],
        "models": previews.model_folders(files),
    }


async def listing(request: Request, ctx: ServerContext) -> Response:
    return Json(await ctx.call(_listing, ctx.client.store, request.path_params["run_id"]))


def _preview(store: TrackingStore, text: str, path: str) -> previews.Preview:
    return previews.preview(store, resolve_run_id(store, text), path)


async def preview(request: Request, ctx: ServerContext) -> Response:
    return Json(
        await ctx.call(_preview, ctx.client.store, request.path_params["run_id"], text_arg(request, "path"))
    )


def _file(store: TrackingStore, text: str, path: str) -> previews.ArtifactFile:
    return previews.artifact_file(store, resolve_run_id(store, text), path)


async def raw(request: Request, ctx: ServerContext) -> Response:
    store = ctx.client.store
    file = await ctx.call(_file, store, request.path_params["run_id"], text_arg(request, "path"))
    image = previews.media_type(file.path)
    inline = image is not None and request.query_params.get("download") != "1"
    name = file.path.rsplit("/", 1)[-1]
    disposition = "inline" if inline else "attachment"
    headers = {
        "content-disposition": f"{disposition}; filename*=UTF-8''{quote(name, safe='')}",
        "content-length": str(file.size),
        "content-security-policy": "sandbox; default-src 'none'; img-src 'self'",
        "x-gitrun-digest": str(file.digest),
    }
    blocks: Iterator[bytes] = await ctx.call(previews.open_stream, store, file)

    async def stream() -> AsyncIterator[bytes]:
        # Each block is read (and hashed) in the tracking thread; a corrupt object
        # raises before its last block, which cuts the response short.
        while True:
            block = await ctx.call(next, blocks, None)
            if block is None:
                return
            yield block

    return StreamingResponse(
        stream(), media_type=image if inline else "application/octet-stream", headers=headers
    )
