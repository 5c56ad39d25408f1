"""A run's artifact entries in its record (``artifacts.yaml``), and its view.

Entries are written through :meth:`RecordWriter.update_map`, so they are journaled
with the rest of the run and merge key by key when two writers touch one run.
Objects always reach the store before the entry that references them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from gitrun.core.artifacts.digest import Digest
from gitrun.core.artifacts.manifest import Manifest
from gitrun.core.artifacts.view import (
    ArtifactEntry,
    ArtifactFile,
    ArtifactTree,
    build_tree,
    conflicting_keys,
    parse_entries,
)
from gitrun.core.records import layout
from gitrun.errors import ResourceDoesNotExist
from gitrun.tracking.artifacts.stores import ArtifactStores, stores_for
from gitrun.tracking.store import TrackingStore


def read_entries(store: TrackingStore, run_id: str, *, committed: bool = False) -> dict[str, ArtifactEntry]:
    """The artifact entries of a run, with what this process has not committed yet.

    Args:
        committed: commit this process's pending changes of the run first and read
            git, so that what other processes committed meanwhile is seen too (reads);
            otherwise a run this process writes is read from memory (writes).

    Raises:
        ResourceDoesNotExist: no such run.
    """
    runs = store.runs
    if runs.is_live(run_id):
        if not committed:
            return parse_entries(
                runs.read_state(run_id, maps=[layout.ARTIFACTS_FILE]).maps[layout.ARTIFACTS_FILE]
            )
        runs.flush([run_id])
    folder = layout.run_dir(run_id)
    if store.records.entry(folder) is None:
        raise ResourceDoesNotExist(f"Run '{run_id}' not found")
    entry = store.records.entry(f"{folder}/{layout.ARTIFACTS_FILE}")
    if entry is None:
        return {}
    return parse_entries(store.records.load_yaml(entry.oid, f"run {run_id} {layout.ARTIFACTS_FILE}"))


def run_tree(store: TrackingStore, run_id: str) -> ArtifactTree:
    """The files a run's artifacts make (directories expanded, overrides applied), as committed."""
    stores = stores_for(store)
    return build_tree(read_entries(store, run_id, committed=True), stores.manifest)


def entry_paths(store: TrackingStore, run_id: str) -> list[str]:
    """The paths of a run's entries (as this process will write them; nothing parsed).

    Raises:
        ResourceDoesNotExist: no such run.
    """
    return list(store.runs.read_state(run_id, maps=[layout.ARTIFACTS_FILE]).maps[layout.ARTIFACTS_FILE])


def record_file(store: TrackingStore, run_id: str, path: str, digest: Digest, size: int) -> None:
    """Make ``path`` in the run the file ``digest`` (stored already)."""
    keys = entry_paths(store, run_id)
    stale = [k for k in conflicting_keys(keys, path) if k != path]
    store.runs.update_map(
        run_id, layout.ARTIFACTS_FILE, {path: ArtifactEntry(digest, size).to_record()}, stale
    )


def record_dir(
    store: TrackingStore,
    run_id: str,
    path: str | None,
    files: Mapping[str, tuple[Digest, int]],
    *,
    replace: bool = False,
    upload: Callable[[Iterable[Digest]], object] | None = None,
) -> list[Digest]:
    """Make the folder ``path`` (the run's root for None) hold ``files`` (stored already).

    Unless ``replace``, files already in the folder and not among ``files`` stay
    (MLflow's ``log_artifacts`` adds to a folder).  A folder becomes one directory
    entry whose manifest holds all its files; the run's root is never one entry:
    its top-level files and folders are.  ``upload`` is called with every object
    the new entries reference (files and new manifests) before they are recorded.

    Returns:
        The digests of the manifests stored (to upload with the files).
    """
    entries = read_entries(store, run_id)
    stores = stores_for(store)
    current = build_tree(entries, stores.manifest) if entries and not replace else ArtifactTree()
    groups: dict[str, dict[str, tuple[Digest, int]]] = {}
    plain: dict[str, tuple[Digest, int]] = {}
    for rel, item in files.items():
        if path is not None:
            groups.setdefault(path, {})[rel] = item
        elif "/" in rel:
            head, _, tail = rel.partition("/")
            groups.setdefault(head, {})[tail] = item
        else:
            plain[rel] = item
    updates: dict[str, dict[str, object]] = {}
    stale: set[str] = set()
    manifests: list[Digest] = []
    for folder, members in groups.items():
        digest, manifest = _merged_manifest(stores, current, folder, members)
        manifests.append(digest)
        updates[folder] = ArtifactEntry(digest, manifest.total_size, len(manifest.entries)).to_record()
        stale.update(conflicting_keys(entries, folder))
    for name, (digest, size) in plain.items():
        updates[name] = ArtifactEntry(digest, size).to_record()
        stale.update(conflicting_keys(entries, name))
    if replace and path is not None and not files:
        stale.update(conflicting_keys(entries, path))
    if upload is not None:
        upload([*(digest for digest, _ in files.values()), *manifests])
    if updates or stale:
        store.runs.update_map(run_id, layout.ARTIFACTS_FILE, updates, sorted(stale - set(updates)))
    return manifests


def seal_folder(
    store: TrackingStore, run_id: str, path: str
) -> tuple[Digest, dict[str, ArtifactFile]] | None:
    """Make the folder ``path`` one directory entry (files logged one by one under it
    are separate entries); returns its manifest's digest and its files, None when it
    holds none.  The folder's files do not change, only how the record lists them."""
    stores = stores_for(store)
    files = build_tree(read_entries(store, run_id), stores.manifest).below(path)
    if not files:
        return None
    record_dir(
        store,
        run_id,
        path,
        {rel: (f.digest, f.size) for rel, f in files.items()},
        replace=True,
        upload=stores.write_through,
    )
    entry = read_entries(store, run_id)[path]
    return entry.digest, files


def _merged_manifest(
    stores: ArtifactStores,
    current: ArtifactTree,
    folder: str,
    members: Mapping[str, tuple[Digest, int]],
) -> tuple[Digest, Manifest]:
    merged = ArtifactTree()
    for rel, item in current.below(folder).items():
        merged.put(rel, item)
    for rel, (digest, size) in members.items():
        merged.put(rel, ArtifactFile(digest, size))
    manifest = merged.manifest(None)
    return stores.local.put_bytes(manifest.to_bytes()), manifest
