"""Logging artifacts into a run: store the bytes, upload them, then record them.

Every path is checked before anything is stored: an artifact path that is
absolute, has ``..`` or ``.`` components, or is empty is refused with a clear
error and nothing is written.
"""

from __future__ import annotations

import os
from pathlib import Path

from gitrun.core.artifacts.manifest import scan_directory
from gitrun.core.artifacts.paths import join_artifact_path, normalize_artifact_path
from gitrun.errors import InvalidParameterValue
from gitrun.tracking.artifacts.records import entry_paths, record_dir, record_file
from gitrun.tracking.artifacts.stores import stores_for
from gitrun.tracking.store import TrackingStore


def _folder(artifact_path: str | None) -> str | None:
    if artifact_path is None or artifact_path in ("", "."):
        return None
    return normalize_artifact_path(artifact_path)


def log_artifact(
    store: TrackingStore, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None
) -> str:
    """Log a file as ``<artifact_path>/<name>``, or a directory as ``<artifact_path>/<dirname>/...``.

    Returns:
        The run-relative path logged.
    """
    source = Path(local_path)
    folder = _folder(artifact_path)
    if not source.exists():
        raise InvalidParameterValue(
            f"cannot log artifact {os.fspath(local_path)!r}: no such file or directory"
        )
    name = source.resolve().name if source.name in ("", ".", "..") else source.name
    target = join_artifact_path(folder, name)
    if source.is_dir():
        _log_directory(store, run_id, source, target)
        return target
    entry_paths(store, run_id)  # an unknown run fails before anything is stored
    stores = stores_for(store)
    with stores.pinned():
        [(digest, size)] = stores.local.put_files([source])
        stores.write_through([digest])
        record_file(store, run_id, target, digest, size)
    return target


def log_artifacts(
    store: TrackingStore,
    run_id: str,
    local_dir: str | os.PathLike[str],
    artifact_path: str | None,
    *,
    replace: bool = False,
) -> None:
    """Log the contents of a directory under ``artifact_path`` (the run's root for None).

    Args:
        replace: drop files already logged under ``artifact_path`` that the
            directory does not have (MLflow keeps them: the default).
    """
    source = Path(local_dir)
    if not source.is_dir():
        raise InvalidParameterValue(f"cannot log artifacts from {os.fspath(local_dir)!r}: not a directory")
    _log_directory(store, run_id, source, _folder(artifact_path), replace=replace)


def _log_directory(
    store: TrackingStore, run_id: str, source: Path, target: str | None, *, replace: bool = False
) -> None:
    found = scan_directory(source)
    if target is not None:
        join_artifact_path(target, "x")  # check the folder before storing anything
    entry_paths(store, run_id)
    stores = stores_for(store)
    with stores.pinned():
        stored = stores.local.put_files(file for _, file in found)
        files = {rel: item for (rel, _), item in zip(found, stored, strict=True)}
        record_dir(store, run_id, target, files, replace=replace, upload=stores.write_through)


def log_bytes(store: TrackingStore, run_id: str, data: bytes, artifact_file: str) -> str:
    """Log bytes in memory as the file ``artifact_file`` (a run-relative path)."""
    target = normalize_artifact_path(artifact_file)
    entry_paths(store, run_id)
    stores = stores_for(store)
    with stores.pinned():
        digest = stores.local.put_bytes(data)
        stores.write_through([digest])
        record_file(store, run_id, target, digest, len(data))
    return target
