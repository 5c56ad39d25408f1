"""The artifact calls of the client, with the run id first (MLflow's ``MlflowClient``).

:class:`gitrun.Client` and the fluent API delegate here; each function takes the
tracking store the client opened.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitrun.core.artifacts.paths import normalize_artifact_path
from gitrun.errors import InvalidParameterValue
from gitrun.tracking.artifacts import media, writes
from gitrun.tracking.store import TrackingStore

LOGGED_IMAGES_TAG = "mlflow.loggedImages"


def log_text(store: TrackingStore, run_id: str, text: str, artifact_file: str) -> None:
    """Log a string as a UTF-8 file at ``artifact_file``."""
    if not isinstance(text, str):
        raise InvalidParameterValue(f"log_text needs a str, got {type(text).__name__}")
    writes.log_bytes(store, run_id, text.encode("utf-8"), artifact_file)


def log_dict(store: TrackingStore, run_id: str, dictionary: Any, artifact_file: str) -> None:
    """Log a dict as YAML (``.yml``/``.yaml``) or JSON (anything else)."""
    normalize_artifact_path(artifact_file)
    writes.log_bytes(store, run_id, media.dict_bytes(dictionary, artifact_file), artifact_file)


def log_stream(store: TrackingStore, run_id: str, stream: io.IOBase | Any, artifact_file: str) -> None:
    """Log the bytes of a binary stream (read in blocks, never whole)."""
    target = normalize_artifact_path(artifact_file)
    folder, _, name = target.rpartition("/")
    with tempfile.TemporaryDirectory(prefix="gitrun-stream-") as scratch:
        path = Path(scratch) / name
        with open(path, "wb") as out:
            shutil.copyfileobj(stream, out, 4 * 2**20)
        writes.log_artifact(store, run_id, path, folder or None)


def log_figure(
    store: TrackingStore,
    run_id: str,
    figure: Any,
    artifact_file: str,
    save_kwargs: Mapping[str, Any] | None = None,
) -> None:
    """Log a matplotlib or plotly figure as ``artifact_file`` (format from the extension)."""
    folder = normalize_artifact_path(artifact_file).rpartition("/")[0] or None
    media.save_figure(
        figure, artifact_file, save_kwargs, lambda path: writes.log_artifact(store, run_id, path, folder)
    )


def log_image(
    store: TrackingStore,
    run_id: str,
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
) -> None:
    """Log a numpy array or PIL image, as ``artifact_file`` or as a step of image ``key``.

    Key mode writes ``images/<key>+step+<step>+timestamp+<ms>+<uuid>.png`` and a
    ``+compressed.webp`` thumbnail, and sets the run tag ``mlflow.loggedImages``.
    """
    if artifact_file is not None and any(arg is not None for arg in (key, step, timestamp)):
        raise TypeError(
            "The `artifact_file` parameter cannot be used in conjunction with `key`, `step`, or "
            "`timestamp` parameters. Please ensure that `artifact_file` is specified alone, without "
            "any of these conflicting parameters."
        )
    if artifact_file is None and key is None:
        raise TypeError(
            "Invalid arguments: Please specify exactly one of `artifact_file` or `key`. Use `key` to "
            "log dynamic image charts or `artifact_file` for saving static images."
        )
    picture = media.to_pil_image(image)
    if artifact_file is not None:
        normalize_artifact_path(artifact_file)
        writes.log_bytes(store, run_id, media.image_bytes(picture, artifact_file), artifact_file)
        return
    assert key is not None
    stem = media.image_stem(key, step or 0, timestamp or int(time.time() * 1000), str(uuid.uuid4()))
    normalize_artifact_path(stem)
    writes.log_bytes(store, run_id, media.image_bytes(picture, "x.png"), f"{stem}.png")
    thumbnail = media.compressed(picture)
    writes.log_bytes(store, run_id, media.image_bytes(thumbnail, "x.webp"), f"{stem}+compressed.webp")
    store.runs.log_batch(run_id, tags={LOGGED_IMAGES_TAG: "True"})


def artifact_uri(run_id: str, artifact_path: str | None = None) -> str:
    """``runs:/<run_id>``, or ``runs:/<run_id>/<artifact_path>``."""
    if artifact_path is None or artifact_path in ("", "."):
        return f"runs:/{run_id}"
    return f"runs:/{run_id}/{normalize_artifact_path(artifact_path)}"
