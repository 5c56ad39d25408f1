"""Remembering what this process wrote, to write it again if a concurrent prune deleted it.

A commit of records writes loose objects (blobs, trees, the commit) and then moves the
records ref; the objects a run will reference (its environment, its code snapshot)
are written even earlier.  Until the ref moves they are unreachable, and
``git gc --prune=now`` (git's documented unsafe case) deletes unreachable objects
whatever their age; a prune whose reachability walk started before the ref moved
may even delete them after.  The ref would then name trees that are gone: the runs
a process ended silently missing, every later commit built on a broken tree, and
``git push`` refusing the repository.

So every object this process writes to a repository's object database is noted
(:class:`WriteLog`, fed by the database's write hook); after each commit of the
records ref the objects written since the last one are checked on disk and the
missing ones written back (content-addressed: same bytes, same id, and the ref is
whole again); the objects of recent commits are checked once more at exit.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from gitrun.core.git.objects import Oid
from gitrun.core.git.odb import ObjectDatabase

PENDING_BYTES = 128 * 2**20
"""Most bytes of objects kept between two commits (beyond it the oldest are dropped)."""
RECENT_BYTES = 32 * 2**20
"""Most bytes of objects of past commits kept for the check at exit."""
LARGEST_KEPT = 16 * 2**20
"""Larger objects (a big file of a code snapshot) are not kept: memory matters more."""
_WRITE_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class WrittenObject:
    oid: Oid
    kind: bytes
    data: bytes


class WriteLog:
    """The objects written to one object database by this process, since the last
    commit (pending) and in the last commits (recent)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: dict[Oid, WrittenObject] = {}
        self._pending_bytes = 0
        self._recent: dict[Oid, WrittenObject] = {}  # oldest first
        self._recent_bytes = 0

    def add(self, oid: Oid, kind: bytes, data: bytes) -> None:
        if len(data) > LARGEST_KEPT:
            return
        with self._lock:
            if oid in self._pending:
                return
            self._pending[oid] = WrittenObject(oid, kind, data)
            self._pending_bytes += len(data)
            while self._pending_bytes > PENDING_BYTES and len(self._pending) > 1:
                oldest = next(iter(self._pending))
                self._pending_bytes -= len(self._pending.pop(oldest).data)

    def after_commit(self, odb: ObjectDatabase) -> list[Oid]:
        """Check the objects written since the last commit; write back the missing ones."""
        with self._lock:
            pending = list(self._pending.values())
            self._pending.clear()
            self._pending_bytes = 0
            for obj in pending:
                if self._recent.pop(obj.oid, None) is None:
                    self._recent_bytes += len(obj.data)
                self._recent[obj.oid] = obj
            while self._recent_bytes > RECENT_BYTES and len(self._recent) > 1:
                oldest = next(iter(self._recent))
                self._recent_bytes -= len(self._recent.pop(oldest).data)
        return restore_missing(odb, pending)

    def recheck(self, odb: ObjectDatabase) -> list[Oid]:
        """Check the objects of recent commits (and pending ones) once more (at exit)."""
        with self._lock:
            objects = list(self._recent.values()) + list(self._pending.values())
        return restore_missing(odb, objects)

    def restore_ids(self, odb: ObjectDatabase, oids: Iterable[Oid]) -> list[Oid]:
        """Write back those of ``oids`` this process wrote (and still holds); returns the
        ones it cannot (not ours, or too large to have been kept)."""
        with self._lock:
            held = {oid: self._pending.get(oid) or self._recent.get(oid) for oid in oids}
        restore_missing(odb, [obj for obj in held.values() if obj is not None])
        return [oid for oid, obj in held.items() if obj is None]

    def restore_one(self, odb: ObjectDatabase, oid: Oid) -> tuple[bytes, bytes] | None:
        """``(kind, data)`` of an object this process wrote and that is gone, written
        back; None if it is not one of ours (the database's missing-object hook)."""
        with self._lock:
            obj = self._pending.get(oid) or self._recent.get(oid)
        if obj is None:
            return None
        restore_missing(odb, [obj])
        from gitrun.errors import DamagedRecordWarning, warn_always

        warn_always(
            f"gitrun: git object {oid}, written by this process, was deleted by a concurrent "
            "`git gc --prune=now` (or `git prune`); it was written again",
            DamagedRecordWarning,
        )
        return obj.kind, obj.data


_logs: weakref.WeakKeyDictionary[ObjectDatabase, WriteLog] = weakref.WeakKeyDictionary()
_logs_lock = threading.Lock()


def write_log(odb: ObjectDatabase) -> WriteLog:
    """The write log of an object database (one per database, fed by its write hook)."""
    with _logs_lock:
        log = _logs.get(odb)
        if log is None:
            log = WriteLog()
            odb.write_hooks.append(log.add)
            odb.missing_hooks.append(_restorer(weakref.ref(odb), log))
            _logs[odb] = log
        return log


def _restorer(
    odb_ref: weakref.ReferenceType[ObjectDatabase], log: WriteLog
) -> Callable[[Oid], tuple[bytes, bytes] | None]:
    def restore(oid: Oid) -> tuple[bytes, bytes] | None:
        odb = odb_ref()
        return log.restore_one(odb, oid) if odb is not None else None

    return restore


def restore_missing(odb: ObjectDatabase, objects: Iterable[WrittenObject]) -> list[Oid]:
    """Write back those of ``objects`` no longer on disk; returns their ids."""
    wanted = {obj.oid: obj for obj in objects}
    missing = [obj for oid, obj in wanted.items() if not odb.present(oid)]
    if missing:
        odb.forget(obj.oid for obj in missing)
        for obj in missing:
            for attempt in range(_WRITE_ATTEMPTS):
                try:
                    odb.write(obj.kind, obj.data)
                    break
                except FileNotFoundError:
                    # The prune is still going: it removed the folder or our temporary file.
                    if attempt == _WRITE_ATTEMPTS - 1:
                        raise
                    odb.forget((obj.oid,))
    return [obj.oid for obj in missing]
