"""Keeping artifact stores healthy: ``gitrun gc`` and ``gitrun fsck``.

gc removes local objects that no run references (deleted runs count: they can be
restored) and temporary files left by killed processes.  Whatever the grace
period, it never removes what a live writer needs: it holds an exclusive lock that
every logging call holds shared from storing an object until the record naming it
is journaled (:meth:`ArtifactStores.pinned`), and it counts as referenced every
digest any journal holds (live processes, dead ones not recovered yet, damaged
ones kept aside).  Temporary files are removed only when no writer holds their
lock (their writer died) and they are a minute old.  Objects written or re-used in
the last ``grace`` seconds are kept too.  Abandoned multipart uploads of an S3
remote (a killed upload) are aborted after ``GITRUN_ABANDONED_UPLOAD_HOURS`` (24).
A remote store is only collected when asked explicitly: other machines may hold
records not pushed yet that reference objects already uploaded.

fsck re-hashes every object and quarantines corrupt ones (``quarantine/`` in the
store), so that a good copy can be fetched or stored again.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gitrun.core.artifacts import layout
from gitrun.core.artifacts.digest import Digest
from gitrun.core.artifacts.local import LocalBackend, temp_in_use
from gitrun.core.artifacts.manifest import is_manifest
from gitrun.core.artifacts.store import ArtifactStore, FsckReport
from gitrun.errors import GitrunError
from gitrun.tracking.artifacts.stores import ArtifactStores, stores_for
from gitrun.tracking.artifacts.transfer import References, expand_references, referenced_digests
from gitrun.tracking.store import TrackingStore

DEFAULT_GRACE = 3600.0
"""Seconds during which a new or re-used local object is never collected."""
TEMP_MIN_AGE = 60.0
"""An unlocked temporary file younger than this may be one a writer is just locking."""
_DIGEST = re.compile(rb"sha256:[0-9a-f]{64}")


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


def _stale_temp_files(backend: LocalBackend, now: float) -> Iterator[Path]:
    """Temporary files of writers that are gone (their lock is free), whatever the grace."""
    for folder in (layout.STAGING, layout.OBJECTS):
        top = backend.root / folder
        for dirpath, _dirs, files in os.walk(top):
            for name in files:
                path = Path(dirpath, name)
                if (
                    name.startswith(layout.TEMP_PREFIX)
                    and _age(path, now) > TEMP_MIN_AGE
                    and not temp_in_use(path)
                ):
                    yield path


def journal_digests(store: TrackingStore) -> set[Digest]:
    """Every artifact digest named in a journal: of live writers, of dead ones not
    recovered yet, and of damaged journals kept aside (their references may be real)."""
    found: set[Digest] = set()
    top = os.path.join(store.repo.gitrun_dir, "journal")
    for dirpath, _dirs, files in os.walk(top):
        for name in files:
            try:
                with open(os.path.join(dirpath, name), "rb") as fh:
                    data = fh.read()
            except OSError:
                continue
            for match in set(_DIGEST.findall(data)):
                found.add(Digest.parse(match.decode()))
    return found


def _references(store: TrackingStore, stores: ArtifactStores) -> References:
    # Journals first, then git: a writer commits a journaled reference to git before it
    # drops it from its journal, so read in this order nothing is missed in between.
    pending = journal_digests(store)
    manifests = {d for d in stores.local.has_many(pending) if is_manifest(stores.local, d)}
    from_journals = expand_references(stores, set(pending), manifests)
    committed = referenced_digests(store)
    return References(
        committed.digests | from_journals.digests, committed.unreadable | from_journals.unreadable
    )


def collect_garbage(
    store: TrackingStore, *, dry_run: bool = False, remote: bool = False, grace: float = DEFAULT_GRACE
) -> list[GcReport]:
    """Remove unreferenced objects from the local store (and the remote if ``remote``).

    Raises:
        GitrunError: a directory manifest some run references cannot be read, so
            the files it lists are unknown; nothing is removed.
    """
    stores = stores_for(store)
    with stores.collecting():
        refs = _references(store, stores)
        if refs.unreadable:
            shown = ", ".join(str(d) for d in sorted(refs.unreadable)[:3])
            raise GitrunError(
                f"gc removed nothing: the directory manifest(s) {shown} referenced by runs are in no "
                "store, so the files they list are unknown (configure the artifact remote, or `gitrun "
                "artifacts fetch`)"
            )
        reports = [_collect_local(stores.local, refs.digests, dry_run, grace)]
        if remote:
            target = stores.remote()
            if target is None:
                raise GitrunError("gc --remote: no artifact remote is configured")
            reports.append(_collect(target, refs.digests, dry_run))
    if not dry_run:
        abort_abandoned_uploads(stores)
    return reports


def abort_abandoned_uploads(stores: ArtifactStores) -> int:
    """Abort the remote's multipart uploads started more than
    ``GITRUN_ABANDONED_UPLOAD_HOURS`` (24) ago by killed writers (S3 keeps their parts,
    and bills them, forever).  Best effort: returns how many were aborted."""
    try:
        hours = float(os.environ.get("GITRUN_ABANDONED_UPLOAD_HOURS", "24"))
    except ValueError:
        hours = 24.0
    try:
        target = stores.remote()
        abort = getattr(target.backend, "abort_abandoned_uploads", None) if target else None
        return int(abort(hours * 3600)) if abort is not None else 0
    except GitrunError:
        return 0


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
    temps = list(_stale_temp_files(backend, now))
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
