"""Files of a run's code snapshot (its ``code/`` tree), read back from git.

Models logged with ``infer_code_paths=True`` record which of the run's source
files they import instead of copying them: the run already holds the exact code
in git (uncommitted edits included), pushed and fetched with the run.  Loading
such a model writes those files from the snapshot into the model's folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from gitrun.core.artifacts.paths import normalize_artifact_path
from gitrun.core.records import layout
from gitrun.errors import ResourceDoesNotExist
from gitrun.tracking.store import TrackingStore


def code_tree(store: TrackingStore, run_id: str) -> str | None:
    """The id of the run's code tree (None: the run recorded no code)."""
    tree = store.runs.run_tree(run_id)
    entry = store.repo.lookup(tree, layout.CODE_DIR)
    return str(entry.oid) if entry is not None else None


def restore(store: TrackingStore, run_id: str, paths: list[str], destination: str) -> list[Path]:
    """Write ``paths`` (relative to the work tree) as they are in the run's snapshot.

    Raises:
        ResourceDoesNotExist: the run recorded no code, or a path is not in it.
    """
    tree = code_tree(store, run_id)
    if tree is None:
        raise ResourceDoesNotExist(f"run {run_id} recorded no code snapshot")
    written = []
    for relative in paths:
        clean = normalize_artifact_path(relative)
        entry = store.repo.lookup(tree, clean)  # type: ignore[arg-type]
        if entry is None or entry.is_tree:
            raise ResourceDoesNotExist(f"{relative} is not a file of run {run_id}'s code snapshot")
        target = Path(destination, *clean.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(store.repo.read_blob(entry.oid))
        written.append(target)
    return written


def work_tree(store: TrackingStore) -> str | None:
    """The work tree whose code runs record (None outside a repository)."""
    code = store.capture.code_repository()
    return os.path.abspath(code.work_tree) if code is not None and code.work_tree else None
