"""MLflow's ``mlflow.artifacts`` module: download, list and load artifacts by URI.

A run's artifacts are addressed as ``runs:/<run_id>/<path>`` (a run's
``artifact_uri`` is ``runs:/<run_id>``).  Every read is verified against the
content address recorded for the file.
"""

from __future__ import annotations

import json
import os
import posixpath
from typing import Any

from gitrun.errors import InvalidParameterValue
from gitrun.tracking.entities import FileInfo

__all__ = ["download_artifacts", "list_artifacts", "load_dict", "load_image", "load_text"]


def _target(
    artifact_uri: str | None, run_id: str | None, artifact_path: str | None
) -> tuple[str, str | None]:
    from gitrun.tracking.artifacts.uri import parse_runs_uri

    if (artifact_uri is None) == (run_id is None):
        raise InvalidParameterValue("Exactly one of `run_id` or `artifact_uri` must be specified")
    if artifact_uri is not None:
        if artifact_path is not None:
            raise InvalidParameterValue(
                "If the `artifact_uri` argument is specified, the `artifact_path` argument must not be "
                "specified."
            )
        return parse_runs_uri(artifact_uri)
    assert run_id is not None
    return run_id, artifact_path


def _store(tracking_uri: str | None) -> Any:
    from gitrun.tracking.client import Client

    return Client(tracking_uri).store


def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Download a run's artifact file or folder (verified) and return its local path.

    Args:
        artifact_uri: ``runs:/<run_id>/<path>``; give this or ``run_id``.
        run_id: the run, with ``artifact_path`` inside it (its root if None).
        artifact_path: the run-relative path, with ``run_id`` only.
        dst_path: the folder to download into (created if missing); a new
            temporary folder if None.  The artifact keeps its run-relative path
            below it.
        tracking_uri: the repository or store of the run (default: the current one).

    Raises:
        InvalidParameterValue: bad arguments, or a path that escapes ``dst_path``.
        ResourceDoesNotExist: no such run or artifact.
        CorruptObject: a stored object does not match its address (nothing written).
    """
    from gitrun.tracking.artifacts import reads

    run, path = _target(artifact_uri, run_id, artifact_path)
    return reads.download_artifacts(_store(tracking_uri), run, path, dst_path)


def list_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    tracking_uri: str | None = None,
) -> list[FileInfo]:
    """The files and folders directly under an artifact folder (see ``MlflowClient.list_artifacts``)."""
    from gitrun.tracking.artifacts import reads

    run, path = _target(artifact_uri, run_id, artifact_path)
    return reads.list_artifacts(_store(tracking_uri), run, path)


def _read(artifact_uri: str) -> tuple[bytes, str]:
    from gitrun.tracking.artifacts import reads

    run, path = _target(artifact_uri, None, None)
    if path is None:
        raise InvalidParameterValue(f"{artifact_uri!r} names a run, not an artifact file")
    return reads.read_bytes(_store(None), run, path), path


def load_text(artifact_uri: str) -> str:
    """The content of a UTF-8 text artifact."""
    data, _ = _read(artifact_uri)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameterValue(f"artifact {artifact_uri} is not UTF-8 text") from None


def load_dict(artifact_uri: str) -> dict[str, Any]:
    """A JSON artifact (YAML for ``.yml``/``.yaml`` files) as a dict."""
    data, path = _read(artifact_uri)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidParameterValue(f"artifact {artifact_uri} is not UTF-8 text") from None
    if posixpath.splitext(path)[1] in (".yml", ".yaml"):
        import yaml

        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise InvalidParameterValue(f"Unable to read YAML from {artifact_uri}: {error}") from None
    else:
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError:
            raise InvalidParameterValue("Unable to form a JSON object from file content") from None
    return loaded  # type: ignore[no-any-return]


def load_image(artifact_uri: str) -> Any:
    """An image artifact as a ``PIL.Image.Image``."""
    import io

    from PIL import Image

    data, _ = _read(artifact_uri)
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
