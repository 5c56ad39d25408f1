"""Remembering what a flush wrote, to write it again if a concurrent prune deleted it.

A flush writes loose objects (blobs, trees, a commit) and then moves the records
ref.  Until the ref moves they are unreachable, and ``git gc --prune=now`` (git's
documented unsafe case) deletes unreachable objects whatever their age; a prune
whose reachability walk started before the ref moved may even delete them after.
The ref would then name a commit whose trees are gone: the runs a process ended
would be silently missing.  The record writer therefore writes through a
:class:`RecordingRepository`, checks after each commit (and once more at exit) that
every object it wrote is still on disk, and writes back the missing ones: objects
are content-addressed, so the same bytes restore the same ids and the ref becomes
whole again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gitrun.core.git.objects import Commit, Oid, TreeEntry, encode_commit, encode_tree
from gitrun.core.git.repo import Repository


@dataclass(frozen=True, slots=True)
class WrittenObject:
    oid: Oid
    kind: bytes
    data: bytes


class RecordingRepository:
    """A :class:`Repository` whose object writes are remembered (reads pass through)."""

    def __init__(self, repo: Repository) -> None:
        self._repo = repo
        self.written: list[WrittenObject] = []

    def _keep(self, kind: bytes, data: bytes) -> Oid:
        oid = self._repo.odb.write(kind, data)
        self.written.append(WrittenObject(oid, kind, data))
        return oid

    def write_blob(self, data: bytes) -> Oid:
        return self._keep(b"blob", data)

    def write_tree(self, entries: dict[str, TreeEntry] | list[TreeEntry]) -> Oid:
        return self._keep(b"tree", encode_tree(entries))

    def write_commit(self, commit: Commit) -> Oid:
        return self._keep(b"commit", encode_commit(commit))

    def take(self) -> list[WrittenObject]:
        """The objects written since the last call."""
        written, self.written = self.written, []
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._repo, name)


def restore_missing(repo: Repository, objects: Iterable[WrittenObject]) -> list[Oid]:
    """Write back those of ``objects`` no longer on disk; returns their ids."""
    wanted = {obj.oid: obj for obj in objects}
    missing = [obj for oid, obj in wanted.items() if not repo.odb.present(oid)]
    if missing:
        repo.odb.forget(obj.oid for obj in missing)
        for obj in missing:
            repo.odb.write(obj.kind, obj.data)
    return [obj.oid for obj in missing]
