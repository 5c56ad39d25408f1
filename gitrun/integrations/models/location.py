"""Where models live: logging a saved model into a run, finding one by URI.

A logged model is the directory artifact ``<name>/`` of its run (stored as a
content-addressed manifest by the artifact API) plus an entry in the run's
``models.yaml`` record: ``<name>: {flavors, model_id, utc_time_created, ...}``.
``runs:/<run_id>/<name>`` is downloaded (every file verified against its
address) into a temporary folder; ``file://`` URIs and paths are used in place.
"""

from __future__ import annotations

import datetime
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from gitrun.integrations.models.descriptor import DESCRIPTOR_FILE, ModelDescriptor
from gitrun.integrations.models.info import ModelInfo

MODELS_FILE = "models.yaml"


@contextmanager
def local_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Iterator[Path]:
    """A local folder holding the model at ``model_uri``, for the duration of the block.

    A downloaded model goes to ``dst_path`` when given (and stays there), else to a
    temporary folder removed afterwards: loaders read everything into memory.
    """
    uri = os.fspath(model_uri)
    if uri.startswith("runs:/"):
        if dst_path is not None:
            yield _download(uri, dst_path)
            return
        tmp = tempfile.mkdtemp(prefix="gitrun-model-")
        try:
            yield _download(uri, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    yield local_path(uri)


def local_path(uri: str) -> Path:
    """The folder of a ``file://`` URI or a plain path (``runs:/`` is refused)."""
    if uri.startswith("models:/"):
        raise InvalidParameterValue(
            f"{uri}: gitrun has no model registry; load logged models as runs:/<run_id>/<name>"
        )
    if uri.startswith("file:"):
        uri = unquote(urlparse(uri).path)
    elif "://" in uri or uri.startswith("runs:"):
        raise InvalidParameterValue(
            f"unsupported model URI {uri!r}: use runs:/<run_id>/<name> or a local path"
        )
    path = Path(uri)
    if not path.is_dir():
        raise ResourceDoesNotExist(f"no model at {uri}: not a directory")
    return path


def _download(uri: str, destination: str) -> Path:
    from gitrun.tracking import fluent
    from gitrun.tracking.artifacts.uri import parse_runs_uri

    run_id, path = parse_runs_uri(uri)
    if path is None:
        raise InvalidParameterValue(f"{uri} names a run, not a model: use runs:/<run_id>/<name>")
    return Path(fluent._client().download_artifacts(run_id, path, destination))


def log_saved_model(local_dir: Path, name: str, descriptor: ModelDescriptor, run_id: str) -> ModelInfo:
    """Log a saved model's folder as the artifact ``<name>/`` of ``run_id`` and record it.

    The folder replaces whatever was logged under ``<name>/`` before, so a model
    re-logged under the same name never keeps files of the previous one.
    """
    from gitrun.tracking import fluent
    from gitrun.tracking.artifacts import writes
    from gitrun.tracking.artifacts.records import read_entries

    store = fluent._client().store
    writes.log_artifacts(store, run_id, local_dir, name, replace=True)
    entry = read_entries(store, run_id).get(name)
    created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    info = ModelInfo.of(descriptor, name, run_id, created, str(entry.digest) if entry is not None else None)
    record = {
        "flavors": sorted(descriptor.flavors),
        "model_id": info.model_uuid,
        "utc_time_created": created,
        "model_size_bytes": descriptor.model_size_bytes,
    }
    store.writer.update_map(run_id, MODELS_FILE, {name: record})
    return info


def model_info(model_uri: str | os.PathLike[str]) -> ModelInfo:
    """The :class:`ModelInfo` of a logged (``runs:/``) or saved (path) model."""
    uri = os.fspath(model_uri)
    if not uri.startswith("runs:/"):
        return ModelInfo.of(ModelDescriptor.load(local_path(uri)), uri, None, "", None)
    from gitrun.tracking.artifacts.uri import parse_runs_uri

    run_id, name = parse_runs_uri(uri)
    with tempfile.TemporaryDirectory(prefix="gitrun-model-") as tmp:  # the descriptor only
        _download(f"{uri.rstrip('/')}/{DESCRIPTOR_FILE}", tmp)
        descriptor = ModelDescriptor.load(Path(tmp, *(name or "").split("/")))
    record = logged_models(run_id).get(name or "", {})
    return ModelInfo.of(
        descriptor, name or "", run_id, str(record.get("utc_time_created", "")), record.get("model_id")
    )


def logged_models(run_id: str) -> dict[str, dict[str, Any]]:
    """The models logged in a run: ``name -> {flavors, model_id, utc_time_created, ...}``."""
    from gitrun.core.records import layout
    from gitrun.tracking import fluent

    store = fluent._client().store
    if store.writer.is_live(run_id):
        return store.writer.read_map(run_id, MODELS_FILE)
    if store.records.entry(layout.run_dir(run_id)) is None:
        raise ResourceDoesNotExist(f"Run '{run_id}' not found")
    entry = store.records.entry(f"{layout.run_dir(run_id)}/{MODELS_FILE}")
    return store.records.load_yaml(entry.oid, MODELS_FILE) if entry else {}
