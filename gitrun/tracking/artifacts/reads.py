"""Reading a run's artifacts: listing, downloading, loading small ones in memory.

Every byte read is verified against its address.  Objects missing from the local
store are fetched from the remote into it first; then the files are written to the
destination all at once (see :mod:`gitrun.core.artifacts.placement`), so a corrupt
or missing object leaves the destination untouched.
"""

from __future__ import annotations

import os
import tempfile

from gitrun.core.artifacts.digest import Digest
from gitrun.core.artifacts.paths import normalize_artifact_path
from gitrun.core.artifacts.placement import check_destinations, place_files
from gitrun.core.artifacts.view import ArtifactTree
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from gitrun.tracking import entities as ent
from gitrun.tracking.artifacts.records import run_tree
from gitrun.tracking.artifacts.stores import stores_for
from gitrun.tracking.store import TrackingStore

TEXT_LIMIT = 256 * 2**20
"""Largest artifact :func:`read_bytes` loads into memory."""


def _path(path: str | None) -> str | None:
    if path is None or path in ("", ".", "/"):
        return None
    return normalize_artifact_path(path)


def list_artifacts(store: TrackingStore, run_id: str, path: str | None = None) -> list[ent.FileInfo]:
    """What is directly under ``path`` (the root for None), as MLflow lists it:
    sorted, run-relative paths, ``file_size=None`` for folders; ``[]`` for a file
    or a missing path."""
    folder = _path(path)
    tree = run_tree(store, run_id)
    if folder is not None and not tree.is_folder(folder):
        return []
    return [ent.FileInfo(p, is_dir, size) for p, is_dir, size in tree.children(folder)]


def path_tree(store: TrackingStore, run_id: str, path: str | None) -> ArtifactTree:
    """The run's view restricted to the entries that make ``path`` (its own entry, the
    folders above it, the entries below it): reading one file needs no manifest of an
    unrelated folder, so a folder missing from every store cannot hide a file."""
    if path is None:
        return run_tree(store, run_id)
    from gitrun.core.artifacts.view import build_tree
    from gitrun.tracking.artifacts.records import read_entries

    entries = read_entries(store, run_id, committed=True)
    relevant = {
        p: e for p, e in entries.items() if p == path or path.startswith(p + "/") or p.startswith(path + "/")
    }
    return build_tree(relevant, stores_for(store).manifest)


def _missing_message(
    stores: object, run_id: str, files: dict[str, Digest], error: ResourceDoesNotExist
) -> str:
    """Which of the run's files are in no store, by path and digest."""
    from gitrun.tracking.artifacts.stores import ArtifactStores

    assert isinstance(stores, ArtifactStores)
    local = stores.local.has_many(set(files.values()))
    remote = stores.remote()
    there = remote.has_many(set(files.values())) if remote is not None else set()
    gone = [(p, d) for p, d in sorted(files.items()) if d not in local and d not in there]
    if not gone:
        return error.message
    shown = ", ".join(f"{p} ({d})" for p, d in gone[:3]) + (
        f" and {len(gone) - 3} more" if len(gone) > 3 else ""
    )
    where = f"the local store or {stores.config.remote}" if remote is not None else "the local store"
    return (
        f"run {run_id[:8]}: {shown} {'is' if len(gone) == 1 else 'are'} in neither {where}; the machine that "
        "logged the run must run `gitrun push` (or `gitrun artifacts push`)"
    )


def select(tree: ArtifactTree, run_id: str, path: str | None) -> dict[str, Digest]:
    """The files that downloading ``path`` writes: run-relative path -> digest."""
    if path is None:
        return {p: f.digest for p, f in tree.files.items()}
    if path in tree.files:
        return {path: tree.files[path].digest}
    if tree.is_folder(path):
        return {f"{path}/{rel}": f.digest for rel, f in tree.below(path).items()}
    raise ResourceDoesNotExist(f"artifact {path!r} not found in run {run_id}")


def download_artifacts(
    store: TrackingStore, run_id: str, path: str | None, dst_path: str | os.PathLike[str] | None = None
) -> str:
    """Write a file or folder of a run below ``dst_path`` (a new temporary folder
    for None), keeping its run-relative path; return the local path of it."""
    wanted = _path(path)
    tree = path_tree(store, run_id, wanted)
    files = select(tree, run_id, wanted)
    if dst_path is None:
        dst_path = tempfile.mkdtemp(prefix="gitrun-artifacts-")
    root = os.path.abspath(dst_path)
    check_destinations(root, sorted(files))  # refuse before fetching anything
    stores = stores_for(store)
    try:
        stores.ensure_local(files.values())
    except ResourceDoesNotExist as error:
        raise ResourceDoesNotExist(_missing_message(stores, run_id, files, error)) from None
    place_files(stores.local, files, root)
    if wanted is None:
        os.makedirs(root, exist_ok=True)
        return root
    result = os.path.join(root, *wanted.split("/"))
    if tree.is_folder(wanted):
        os.makedirs(result, exist_ok=True)
    return result


def read_bytes(store: TrackingStore, run_id: str, path: str, limit: int = TEXT_LIMIT) -> bytes:
    """The verified bytes of one artifact file, in memory."""
    wanted = _path(path)
    if wanted is None:
        raise InvalidParameterValue("an artifact file path is required, not the run's root")
    tree = run_tree(store, run_id)
    item = tree.files.get(wanted)
    if item is None:
        kind = "a folder" if tree.is_folder(wanted) else "not found"
        raise ResourceDoesNotExist(f"artifact {wanted!r} in run {run_id} is {kind}; a file is required")
    stores = stores_for(store)
    stores.ensure_local([item.digest])
    return stores.local.read_bytes(item.digest, limit)
