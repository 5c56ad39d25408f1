"""Where models live: logging a saved model into a run, finding one by URI.

A logged model is the directory artifact ``<name>/`` of its run (stored as a
content-addressed manifest) plus an entry in the run's ``models.yaml`` record (a
logged model, see :mod:`gitrun.tracking.logged_models`).  ``runs:/<run_id>/<name>``
and ``models:/...`` URIs are downloaded (every file verified against its address)
into a temporary folder; ``file://`` URIs and paths are used in place.  Everything
goes through the public :class:`~gitrun.tracking.client.Client`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from gitrun.errors import CorruptObject, InvalidParameterValue, ResourceDoesNotExist
from gitrun.integrations.models.descriptor import DESCRIPTOR_FILE, ModelDescriptor
from gitrun.integrations.models.info import ModelInfo

if TYPE_CHECKING:
    from gitrun.integrations.models.saving import LogOptions
    from gitrun.tracking.client import Client

_REMOTE = ("runs:/", "models:/")


def _client() -> Client:
    from gitrun.tracking.client import Client

    return Client()


def is_remote(uri: str | os.PathLike[str]) -> bool:
    """A URI that names a run's artifact rather than a local folder."""
    return os.fspath(uri).startswith(_REMOTE)


@contextmanager
def local_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Iterator[Path]:
    """A local folder holding the model at ``model_uri``, for the duration of the block.

    A downloaded model goes to ``dst_path`` when given (and stays there), else to a
    temporary folder removed afterwards: loaders read everything into memory.
    """
    uri = os.fspath(model_uri)
    if is_remote(uri):
        if dst_path is not None:
            yield download(uri, dst_path)
            return
        tmp = tempfile.mkdtemp(prefix="gitrun-model-")
        try:
            yield download(uri, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    yield local_path(uri)


def local_path(uri: str) -> Path:
    """The folder of a ``file://`` URI or a plain path."""
    if uri.startswith("file:"):
        uri = unquote(urlparse(uri).path)
    elif "://" in uri or uri.startswith(("runs:", "models:")):
        raise InvalidParameterValue(
            f"unsupported model URI {uri!r}: use runs:/<run_id>/<name>, models:/<model_id>, "
            "models:/<name>/<version>, models:/<name>@<alias> or a local path"
        )
    path = Path(uri)
    if not path.is_dir():
        raise ResourceDoesNotExist(f"no model at {uri}: not a directory")
    return path


def runs_uri(uri: str) -> tuple[str, str | None]:
    """``(runs:/ URI, expected content digest or None)`` of a ``runs:/`` or ``models:/`` URI."""
    if uri.startswith("models:/"):
        from gitrun.tracking import model_uris

        return model_uris.resolve_with_digest(_client(), uri)
    return uri, None


def download(uri: str, destination: str) -> Path:
    """Download the model folder a ``runs:/`` or ``models:/`` URI names (verified)."""
    from gitrun.tracking.artifacts.uri import parse_runs_uri

    source, digest = runs_uri(uri)
    run_id, path = parse_runs_uri(source)
    if path is None:
        raise InvalidParameterValue(f"{uri} names a run, not a model: use runs:/<run_id>/<name>")
    client = _client()
    if digest is not None:
        actual = client.artifact_digest(run_id, path)
        if actual != digest:
            raise CorruptObject(
                f"{uri}: the model's files in run {run_id} ({actual}) are not the registered ones "
                f"({digest}); the run's model was replaced after it was registered"
            )
    return Path(client.download_artifacts(run_id, path, destination))


def log_saved_model(
    local_dir: Path, logged: LogOptions, descriptor: ModelDescriptor, run_id: str
) -> ModelInfo:
    """Log a saved model's folder as ``<name>/`` of ``run_id`` and record it as a logged model."""
    client = _client()
    model = client.log_model_artifacts(
        run_id,
        local_dir,
        logged.name,
        flavors=sorted(descriptor.flavors),
        model_size_bytes=descriptor.model_size_bytes,
        params=logged.params,
        tags=logged.tags,
        model_type=logged.model_type,
        step=logged.step,
    )
    info = ModelInfo.of(descriptor, logged.name, run_id, _created(model.creation_timestamp), model)
    if logged.registered_model_name:
        from gitrun.integrations.models.registration import register

        version = register(info.model_uri, logged.registered_model_name)
        info = ModelInfo.of(descriptor, logged.name, run_id, info.utc_time_created, model, version.version)
    return info


def _created(ms: int) -> str:
    import datetime

    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def model_info(model_uri: str | os.PathLike[str]) -> ModelInfo:
    """The :class:`ModelInfo` of a logged (``runs:/``, ``models:/``) or saved (path) model."""
    uri = os.fspath(model_uri)
    if not is_remote(uri):
        return ModelInfo.of(ModelDescriptor.load(local_path(uri)), uri, None, "", None)
    from gitrun.tracking.artifacts.uri import parse_runs_uri

    source, _ = runs_uri(uri)
    run_id, name = parse_runs_uri(source)
    with tempfile.TemporaryDirectory(prefix="gitrun-model-") as tmp:  # the descriptor only
        _client().download_artifacts(run_id, f"{(name or '').rstrip('/')}/{DESCRIPTOR_FILE}", tmp)
        descriptor = ModelDescriptor.load(Path(tmp, *(name or "").split("/")))
    model = logged_models(run_id).get(name or "")
    created = _created(model.creation_timestamp) if model is not None else ""
    return ModelInfo.of(descriptor, name or "", run_id, created, model)


def logged_models(run_id: str) -> dict[str, Any]:
    """The models logged in a run, by name (:class:`~gitrun.entities.LoggedModel`)."""
    return _client().run_logged_models(run_id)
