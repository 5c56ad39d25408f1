"""Which objects runs reference, and moving them between the local store and the remote.

``gitrun push`` calls :func:`push_referenced` before it pushes records, so a
record never reaches a shared git remote before the objects it references reach
the shared store (git-lfs's "object does not exist on server" trap).  Only
missing objects move; existence checks are batched listings.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from gitrun.core.artifacts.digest import Digest
from gitrun.core.artifacts.store import ArtifactStore
from gitrun.core.artifacts.view import REFERENCE_FILES, ArtifactEntry, parse_entries
from gitrun.core.git.objects import MODE_TREE, Oid
from gitrun.core.records import layout
from gitrun.errors import GitrunError, InvalidParameterValue
from gitrun.tracking.artifacts.records import read_entries
from gitrun.tracking.artifacts.stores import ArtifactStores, stores_for
from gitrun.tracking.store import TrackingStore


@dataclass(frozen=True)
class References:
    """The objects some runs reference."""

    digests: frozenset[Digest]
    """Files, directory manifests and the files those manifests list."""
    unreadable: frozenset[Digest]
    """Manifests found in neither store: the files they list are unknown."""


@dataclass(frozen=True)
class TransferReport:
    """What :func:`push_referenced` or :func:`fetch_referenced` did."""

    store: str | None
    """The remote store's URL; None when no remote is configured (nothing was done)."""
    referenced: int
    """Objects the runs reference."""
    copied: tuple[Digest, ...]
    """Objects copied (the others were there already)."""
    bytes: int
    """Bytes copied."""
    missing: tuple[Digest, ...]
    """Referenced objects found in neither store."""

    @property
    def ok(self) -> bool:
        return not self.missing


def _run_artifact_files(store: TrackingStore) -> Iterator[tuple[str, Oid]]:
    """``(run_id, blob id of a reference file)`` for every run on the records ref."""
    repo = store.repo
    root = store.records.root()
    runs = repo.lookup(root, layout.RUNS_DIR) if root is not None else None
    if runs is None:
        return
    level = [runs.oid]
    for _ in range(layout.FANOUT_DEPTH):
        level = [e.oid for tree in level for e in repo.read_tree(tree).values() if e.mode == MODE_TREE]
    for tree in level:
        for run_id, run in repo.read_tree(tree).items():
            files = repo.read_tree(run.oid)
            for name in REFERENCE_FILES:
                found = files.get(name)
                if found is not None:
                    yield run_id, found.oid


def _all_entries(store: TrackingStore, run_ids: Iterable[str] | None) -> Iterator[ArtifactEntry]:
    if run_ids is not None:
        from gitrun.tracking import inputs

        for run_id in run_ids:
            yield from read_entries(store, run_id).values()
            yield from parse_entries(inputs.recorded_entries(store, run_id)).values()
        return
    store.runs.flush()  # this process's runs are walked in git like the others
    parsed: set[Oid] = set()  # many runs share one artifacts.yaml blob
    for run_id, oid in _run_artifact_files(store):
        if oid not in parsed:
            parsed.add(oid)
            data = store.records.load_yaml(oid, f"run {run_id} artifact references")
            yield from parse_entries(data).values()


def _entry_digests(store: TrackingStore, run_ids: Iterable[str] | None) -> tuple[set[Digest], set[Digest]]:
    """The digests of the runs' entries, and which of them are directory manifests."""
    digests: set[Digest] = set()
    manifests: set[Digest] = set()
    for entry in _all_entries(store, run_ids):
        digests.add(entry.digest)
        if entry.is_dir:
            manifests.add(entry.digest)
    return digests, manifests


def expand_references(stores: ArtifactStores, digests: set[Digest], manifests: set[Digest]) -> References:
    """``digests`` plus the files of the directory ``manifests`` among them."""
    unreadable = set()
    for digest in sorted(manifests):
        try:
            digests.update(e.digest for e in stores.manifest(digest).entries)
        except GitrunError:
            unreadable.add(digest)
    return References(frozenset(digests), frozenset(unreadable))


def referenced_digests(store: TrackingStore, run_ids: Iterable[str] | None = None) -> References:
    """The objects referenced by the given runs (every run on the records ref for None).

    Directory manifests missing locally are fetched from the remote to learn their files.
    """
    return expand_references(stores_for(store), *_entry_digests(store, run_ids))


def _remote(stores: ArtifactStores, url: str | None) -> ArtifactStore | None:
    remote = stores.remote(url)
    if remote is None and url is not None:
        raise InvalidParameterValue(f"cannot use artifact store {url!r}")
    return remote


def _sizes(store: ArtifactStore, digests: Iterable[Digest]) -> int:
    return sum(store.size(d) for d in digests)


def push_referenced(
    store: TrackingStore,
    digests: Iterable[Digest] | None = None,
    remote_url: str | None = None,
) -> TransferReport:
    """Upload to the remote the referenced objects it lacks.

    Args:
        store: the tracking location.
        digests: the objects to push; None: every object any run references
            (pass ``referenced_digests(store, run_ids).digests`` to push only some runs').
        remote_url: a store URL instead of the configured remote.

    Returns:
        The report; ``store`` is None (and nothing happened) when no remote is configured.
    """
    stores = stores_for(store)
    remote = _remote(stores, remote_url)
    if remote is None:
        return TransferReport(None, 0, (), 0, ())
    wanted = set(referenced_digests(store).digests if digests is None else digests)
    local_has = stores.local.has_many(wanted)
    copied = stores.local.copy_to(remote, local_has)
    absent = wanted - local_has
    missing = sorted(absent - remote.has_many(absent)) if absent else []
    return TransferReport(
        remote.url, len(wanted), tuple(copied), _sizes(stores.local, copied), tuple(missing)
    )


def fetch_referenced(
    store: TrackingStore, run_ids: Iterable[str] | None = None, remote_url: str | None = None
) -> TransferReport:
    """Download from the remote the objects the given runs (all for None) reference
    and the local store lacks, verified."""
    stores = stores_for(store)
    remote = _remote(stores, remote_url)
    if remote is None:
        return TransferReport(None, 0, (), 0, ())
    digests, manifests = _entry_digests(store, run_ids)
    absent_manifests = manifests - stores.local.has_many(manifests)
    refs = expand_references(stores, digests, manifests)  # fetches the manifests it needs
    wanted = set(refs.digests)
    need = wanted - stores.local.has_many(wanted)
    there = remote.has_many(need) if need else set()
    copied = sorted({*remote.copy_to(stores.local, there), *(absent_manifests - refs.unreadable)})
    missing = sorted((need - there) | set(refs.unreadable))
    return TransferReport(
        remote.url, len(wanted), tuple(copied), _sizes(stores.local, copied), tuple(missing)
    )
