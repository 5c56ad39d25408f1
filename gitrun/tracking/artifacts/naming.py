"""What a stored object is called: the file name some run logged it under.

Objects are stored by content, so an object has no name of its own; ``gitrun pull
HASH`` writes it under the name a run gave it (``model.pkl``), found in the runs'
``artifacts.yaml``/``inputs.yaml`` — read once per pull, newest records first.
"""

from __future__ import annotations

import posixpath

from gitrun.core.artifacts.digest import Digest
from gitrun.core.artifacts.view import parse_entries
from gitrun.core.records import layout
from gitrun.errors import GitrunError
from gitrun.tracking.store import TrackingStore


def logged_name(store: TrackingStore, digest: Digest) -> str | None:
    """The base name of a file or folder entry some run recorded with this digest."""
    from gitrun.tracking.artifact_sync import changed_artifact_files

    tip = store.records.tip()
    if tip is None:
        return None
    repo = store.repo
    runs = repo.lookup(repo.read_commit(tip).tree, layout.RUNS_DIR)
    if runs is None:
        return None
    for oid in changed_artifact_files(repo, runs.oid, None):
        try:
            entries = parse_entries(store.records.load_yaml(oid, "artifact references"))
        except GitrunError:
            continue  # a damaged record names nothing
        for path, entry in entries.items():
            if entry.digest == digest:
                return posixpath.basename(path.rstrip("/")) or None
    return None
