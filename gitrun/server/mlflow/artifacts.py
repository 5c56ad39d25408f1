"""The artifact proxy (``/api/2.0/mlflow-artifacts/artifacts/...``) over gitrun's store.

MLflow's client addresses artifacts by the locations the server handed out:
``<experiment>/<run>/artifacts/<path>`` for a run, ``<experiment>/models/<model
id>/artifacts/<path>`` for a logged model (whose files are its run's ``<name>/``
folder).  An upload is streamed to a temporary file, then logged into the run like
any artifact: hashed into the content-addressed store (stored once however often it
is uploaded) and recorded in the run (journaled before the 200).  Downloads stream
the stored object, verified against its hash.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import anyio
import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from gitrun.server.mlflow import messages
from gitrun.server.mlflow.api import Api
from gitrun.server.mlflow.protocol import JsonMessage
from gitrun.tracking import logged_models as lm
from gitrun.tracking.artifacts import previews
from gitrun.tracking.client import Client
from gitrun.tracking.store import TrackingStore

EMPTY = JsonMessage({})
_UPLOAD_BLOCK = 4 * 2**20


@dataclass(frozen=True)
class Target:
    """Where a proxy path points: a run and a path inside its artifacts ("" = its root).

    ``hidden`` are the folders of the run's logged models, left out of its root listing.
    """

    run_id: str
    path: str
    hidden: frozenset[str] = frozenset()


def check_path(path: str) -> str:
    """MLflow's rule: no ``#``, no ``..``/``.`` components, no backslash, not absolute."""
    parts = path.split("/")
    if (
        "#" in path
        or "\\" in path
        or path.startswith("/")
        or any(p in ("..", ".") for p in parts)
        or "\0" in path
    ):
        raise InvalidParameterValue("Invalid path")
    return path.strip("/")


def locate(store: TrackingStore, path: str) -> Target | None:
    """The run location of a proxy path; None for paths above a run's artifacts."""
    parts = [p for p in check_path(path).split("/") if p]
    if len(parts) >= 4 and parts[1] == "models" and parts[3] == "artifacts":
        run_id, name = lm.locate(store, lm.check_model_id(parts[2]))
        return Target(run_id, "/".join([name, *parts[4:]]))
    if len(parts) >= 3 and parts[2] == "artifacts":
        # A run's own listing leaves out its logged models' folders, as MLflow 3 does
        # (their files are listed through the model); gitrun's API shows them.
        return Target(parts[1], "/".join(parts[3:]), _model_folders(store, parts[1]))
    return None


def _model_folders(store: TrackingStore, run_id: str) -> frozenset[str]:
    try:
        return frozenset(lm.run_models(store, run_id))
    except (ResourceDoesNotExist, InvalidParameterValue):
        return frozenset()  # no such run: its listing is empty anyway


def _listing(store: TrackingStore, client: Client, path: str) -> list[dict[str, Any]]:
    target = locate(store, path)
    if target is None:
        return []
    try:
        found = client.list_artifacts(target.run_id, target.path or None)
    except ResourceDoesNotExist:
        return []
    return [
        messages.file_info(f.path.rsplit("/", 1)[-1], f.is_dir, f.file_size)
        for f in found
        if target.path or f.path not in target.hidden
    ]


async def list_artifacts(api: Api, request: Request) -> Response:
    path = request.query_params.get("path", "")
    files = await api.call(_listing, api.store, api.ctx.client, path)
    return JsonMessage({"files": files} if files else {})


def _file(store: TrackingStore, path: str) -> previews.ArtifactFile:
    target = locate(store, path)
    if target is None or not target.path:
        raise ResourceDoesNotExist(f"No such artifact: '{path}'")
    try:
        return previews.artifact_file(store, target.run_id, target.path)
    except ResourceDoesNotExist:
        raise ResourceDoesNotExist(f"No such artifact: '{path}'") from None


async def download(api: Api, request: Request) -> Response:
    path = request.path_params["path"]
    store = api.store
    file = await api.call(_file, store, path)
    blocks: Iterator[bytes] = await api.call(previews.open_stream, store, file)

    async def stream() -> AsyncIterator[bytes]:
        # Blocks are read and hashed in a worker thread; a corrupt object raises before
        # its last block, which cuts the response short.
        while True:
            block = await anyio.to_thread.run_sync(next, blocks, None)
            if block is None:
                return
            yield block

    name = file.path.rsplit("/", 1)[-1]
    headers = {
        "content-disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
        "content-length": str(file.size),
    }
    return StreamingResponse(stream(), media_type="application/octet-stream", headers=headers)


def _log_file(store: TrackingStore, client: Client, path: str, local: str) -> None:
    target = locate(store, path)
    if target is None or not target.path:
        raise InvalidParameterValue(
            f"Cannot upload to {path!r}: artifacts go under <experiment>/<run>/artifacts/<path>"
        )
    folder, _, name = target.path.rpartition("/")
    named = os.path.join(os.path.dirname(local), name)
    os.replace(local, named)
    client.log_artifact(target.run_id, named, folder or None)


async def upload(api: Api, request: Request) -> Response:
    api.check_write(request)
    path = check_path(request.path_params["path"])
    store, client = api.store, api.ctx.client
    await api.call(locate, store, path)  # refuse a bad target before reading the body
    with tempfile.TemporaryDirectory(prefix="gitrun-upload-") as scratch:
        local = os.path.join(scratch, "upload")
        async with await anyio.open_file(local, "wb") as out:
            pending = bytearray()
            async for chunk in request.stream():
                pending += chunk
                if len(pending) >= _UPLOAD_BLOCK:
                    await out.write(bytes(pending))
                    pending.clear()
            await out.write(bytes(pending))
        await api.call(_log_file, store, client, path, local)
    return Response(status_code=200)


async def delete(api: Api, request: Request) -> Response:
    api.check_write(request)
    raise InvalidParameterValue("gitrun keeps every artifact a run logged: deleting one is not supported")


def _legacy_listing(client: Client, run_id: str, path: str | None) -> dict[str, Any]:
    run = client.get_run(run_id)
    found = client.list_artifacts(run_id, path or None)
    body: dict[str, Any] = {"root_uri": messages.run_artifact_uri(run.info.experiment_id, run_id)}
    if found:
        body["files"] = [messages.file_info(f.path, f.is_dir, f.file_size) for f in found]
    return body


async def legacy_list(api: Api, request: Request) -> Response:
    """``/api/2.0/mlflow/artifacts/list``: run-relative paths (older clients, other languages)."""
    fields = await api.fields(request)
    run_id = fields.run_id()
    path = fields.string("path")
    if path:
        check_path(path)
    return JsonMessage(await api.call(_legacy_listing, api.ctx.client, run_id, path))
