"""Keeping artifact stores healthy: ``gitrun gc`` and ``gitrun fsck``.

gc removes local objects that no run references (deleted runs count: they can be
restored) and temporary files left by killed processes.  Objects written or
re-used in the last ``grace`` seconds are kept, because a run logging in another
process right now may reference them before its record is committed (the local
store touches an object each time a write finds it already there).  A remote
store is only collected when asked explicitly: other machines may hold records
not pushed yet that reference objects already uploaded.

fsck re-hashes every object and quarantines corrupt ones (``quarantine/`` in the
store), so that a good copy can be fetched or stored again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gitrun.core.artifacts import layout
from gitrun.core.artifacts.digest import Digest
from gitrun.core.artifacts.local import LocalBackend
from gitrun.core.artifacts.store import ArtifactStore, FsckReport
from gitrun.errors import GitrunError
from gitrun.tracking.artifacts.stores import stores_for
from gitrun.tracking.artifacts.transfer import referenced_digests
from gitrun.tracking.store import TrackingStore

DEFAULT_GRACE = 3600.0
"""Seconds during which a new or re-used local object is never collected."""


@dataclass(frozen=True)
class GcReport:
    """What :func:`collect_garbage` removed (or would remove, in a dry run)."""

    store: str
    referenced: int
    removed: tuple[Digest, ...]
    removed_bytes: int
    recent: int
    """Unreferenced objects kept because they are younger than the grace period."""
    temp_files: tuple[str, ...]
    """Stale temporary files removed."""
    dry_run: bool
    present: int = 0
    """Objects the store held before gc (what ``gitrun fsck`` counts as checked)."""
    referenced_present: int = 0
    """Of those, objects some run references."""

    @property
    def kept(self) -> int:
        return self.present - len(self.removed)


def _age(path: Path, now: float) -> float:
    try:
        return now - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _stale_temp_files(backend: LocalBackend, now: float, grace: float) -> Iterator[Path]:
    for folder in (layout.STAGING, layout.OBJECTS):
        top = backend.root / folder
        for dirpath, _dirs, files in os.walk(top):
            for name in files:
                path = Path(dirpath, name)
                if name.startswith(layout.TEMP_PREFIX) and _age(path, now) > grace:
                    yield path


def collect_garbage(
    store: TrackingStore, *, dry_run: bool = False, remote: bool = False, grace: float = DEFAULT_GRACE
) -> list[GcReport]:
    """Remove unreferenced objects from the local store (and the remote if ``remote``).

    Raises:
        GitrunError: a directory manifest some run references cannot be read, so
            the files it lists are unknown; nothing is removed.
    """
    stores = stores_for(store)
    refs = referenced_digests(store)
    if refs.unreadable:
        shown = ", ".join(str(d) for d in sorted(refs.unreadable)[:3])
        raise GitrunError(
            f"gc removed nothing: the directory manifest(s) {shown} referenced by runs are in no store, "
            "so the files they list are unknown (configure the artifact remote, or `gitrun artifacts "
            "fetch`)"
        )
    reports = [_collect_local(stores.local, refs.digests, dry_run, grace)]
    if remote:
        target = stores.remote()
        if target is None:
            raise GitrunError("gc --remote: no artifact remote is configured")
        reports.append(_collect(target, refs.digests, dry_run))
    return reports


def _collect_local(local: ArtifactStore, keep: frozenset[Digest], dry_run: bool, grace: float) -> GcReport:
    backend = local.backend
    assert isinstance(backend, LocalBackend)
    now = time.time()
    removed: list[Digest] = []
    size = 0
    recent = 0
    if not backend.root.exists():
        return GcReport(local.url, len(keep), (), 0, 0, (), dry_run)
    present = set(local.iter_digests())
    for digest in sorted(present - keep):
        path = backend.path(layout.object_key(digest))
        if _age(path, now) <= grace:
            recent += 1
            continue
        size += path.stat().st_size
        removed.append(digest)
        if not dry_run:
            local.delete(digest)
    temps = list(_stale_temp_files(backend, now, grace))
    if not dry_run:
        for path in temps:
            path.unlink(missing_ok=True)
    shown = tuple(str(p.relative_to(backend.root)) for p in temps)
    return GcReport(
        local.url, len(keep), tuple(removed), size, recent, shown, dry_run, len(present), len(present & keep)
    )


def _collect(target: ArtifactStore, keep: frozenset[Digest], dry_run: bool) -> GcReport:
    present = set(target.iter_digests())
    removed = sorted(present - keep)
    size = sum(target.size(d) for d in removed)
    if not dry_run:
        for digest in removed:
            target.delete(digest)
    return GcReport(
        target.url, len(keep), tuple(removed), size, 0, (), dry_run, len(present), len(present & keep)
    )


def check_stores(store: TrackingStore, *, remote: bool = False) -> list[tuple[str, FsckReport]]:
    """Re-hash every object of the local store (and the remote if ``remote``);
    corrupt objects are quarantined.

    Returns:
        ``(store URL, report)`` for each store checked.
    """
    stores = stores_for(store)
    reports = [(stores.local.url, stores.local.fsck())]
    if remote:
        target = stores.remote()
        if target is None:
            raise GitrunError("fsck --remote: no artifact remote is configured")
        reports.append((target.url, target.fsck()))
    return reports
