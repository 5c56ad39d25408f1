"""Declared inputs of a run (``gitrun.log_input``, ``gitrun run --input``).

An input file or folder is hashed and stored in the artifact store like an artifact
(written through to the shared store when one is configured), and recorded in the
run's ``inputs.yaml`` under its path relative to the code's work tree (absolute when
outside it), in the same entry format as ``artifacts.yaml``.  ``gitrun reproduce``
puts every input back at its place in the new worktree, verified; ``gitrun push``,
``gc`` and ``fsck`` treat inputs like artifacts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gitrun.core.artifacts import materialize, safe_destination, store_directory
from gitrun.core.artifacts.view import ArtifactEntry, parse_entries
from gitrun.core.records import layout
from gitrun.errors import InvalidParameterValue
from gitrun.tracking.artifacts.stores import stores_for
from gitrun.tracking.store import TrackingStore

REPRODUCED_OUTSIDE = ".gitrun-reproduce/inputs"


def _record_path(store: TrackingStore, path: str) -> str:
    full = os.path.abspath(path)
    code = store.capture.code_repository()
    root = code.work_tree if code is not None else None
    if root and (full == root or full.startswith(root + os.sep)):
        return os.path.relpath(full, root).replace(os.sep, "/")
    return full


def log_input(store: TrackingStore, run_id: str, path: str) -> ArtifactEntry:
    """Hash and store ``path`` (a file or a folder); record it as an input of the run."""
    if not os.path.exists(path):
        raise InvalidParameterValue(f"input {path} does not exist")
    stores = stores_for(store)
    with stores.pinned():  # gc never runs between storing and recording
        if os.path.isdir(path):
            digest, manifest = store_directory(stores.local, path)
            entry = ArtifactEntry(digest, manifest.total_size, len(manifest.entries))
        else:
            digest = stores.local.put_file(path)
            entry = ArtifactEntry(digest, os.path.getsize(path))
        stores.write_through([digest])
        store.runs.update_map(run_id, layout.INPUTS_FILE, {_record_path(store, path): entry.to_record()})
    return entry


def recorded_entries(store: TrackingStore, run_id: str) -> dict[str, Any]:
    """The run's ``inputs.yaml`` (this process's unflushed changes included)."""
    if store.runs.is_live(run_id):
        return dict(store.runs.read_state(run_id, maps=[layout.INPUTS_FILE]).maps[layout.INPUTS_FILE])
    entry = store.records.entry(f"{layout.run_dir(run_id)}/{layout.INPUTS_FILE}")
    return store.records.load_yaml(entry.oid, layout.INPUTS_FILE) if entry else {}


def restore(store: TrackingStore, run_id: str, directory: str) -> list[Path]:
    """Materialise every recorded input under ``directory`` (verified); the paths written.

    Inputs recorded by absolute path (outside the work tree) go under
    ``.gitrun-reproduce/inputs/`` instead of their original place.
    """
    items = parse_entries(recorded_entries(store, run_id))
    if not items:
        return []
    stores = stores_for(store)
    local = stores.ensure_local(entry.digest for entry in items.values())
    written = []
    for name, entry in sorted(items.items()):
        relative = f"{REPRODUCED_OUTSIDE}/{name.lstrip('/')}" if os.path.isabs(name) else name
        target = safe_destination(directory, relative)
        if entry.is_dir:
            materialize(local, entry.digest, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            local.get_file(entry.digest, target)
        written.append(target)
    return written
