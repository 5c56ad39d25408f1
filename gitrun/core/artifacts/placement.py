"""Writing stored objects to a destination folder: all verified, or nothing.

:func:`place_files` checks every destination first (no path may escape the
folder, also through a symlink already there; no file may land where a folder
is or below a file), writes every object into a staging folder inside the
destination (same filesystem), verifying each against its address, and only
once all of them are verified moves them into place with ``rename``.  A corrupt
or missing object therefore leaves the destination as it was.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Mapping
from pathlib import Path

from gitrun.core.artifacts.digest import Digest
from gitrun.core.artifacts.paths import safe_destination
from gitrun.core.artifacts.store import ArtifactStore
from gitrun.errors import InvalidParameterValue

STAGING_PREFIX = ".gitrun-staging-"


def _check_target(root: Path, target: Path, rel: str) -> None:
    if target.is_dir() and not target.is_symlink():
        raise InvalidParameterValue(f"cannot write artifact {rel!r} to {target}: a directory is there")
    for parent in target.relative_to(root).parents:
        folder = root / parent
        if folder != root and folder.exists() and not folder.is_dir():
            raise InvalidParameterValue(f"cannot write artifact {rel!r}: {folder} is a file, not a folder")


def check_destinations(dest_dir: str | os.PathLike[str], paths: list[str]) -> dict[str, Path]:
    """Where each artifact path goes below ``dest_dir``, after every check.

    Raises:
        InvalidParameterValue: a path is invalid, escapes ``dest_dir``, or clashes
            with what is already there.
    """
    root = Path(dest_dir)
    if root.exists() and not root.is_dir():
        raise InvalidParameterValue(f"cannot download artifacts into {root}: it is not a directory")
    targets = {rel: safe_destination(root, rel) for rel in paths}
    if root.exists():
        for rel, target in targets.items():
            _check_target(root, target, rel)
    return targets


def place_files(
    store: ArtifactStore, files: Mapping[str, Digest], dest_dir: str | os.PathLike[str]
) -> dict[str, Path]:
    """Write objects to ``dest_dir/<path>``, verified, all or nothing.

    Args:
        store: where the objects are (must hold all of them).
        files: artifact path (relative, ``/``-separated) -> object address.
        dest_dir: the destination folder, created if missing.

    Returns:
        The path written for each artifact path.

    Raises:
        InvalidParameterValue: a destination is refused (nothing is written).
        ResourceDoesNotExist: an object is missing (nothing is written).
        CorruptObject: an object does not match its address (nothing is written).
    """
    root = Path(dest_dir)
    targets = check_destinations(root, sorted(files))
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f"{STAGING_PREFIX}{secrets.token_hex(6)}"
    try:
        staging.mkdir()
        staged = {}
        for number, rel in enumerate(sorted(files)):
            staged[rel] = store.get_file(files[rel], staging / str(number))
        for rel, source in staged.items():
            target = targets[rel]
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            _remove_empty(root)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return targets


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
