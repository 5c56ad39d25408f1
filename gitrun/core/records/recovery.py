"""Recovering the journals of processes that died (SIGKILL, OOM, power cut of a node).

A journal whose ``flock`` can be taken belongs to a dead process.  Its records are
replayed on top of what that process had already committed, and the runs it owned
that are still RUNNING are marked KILLED, with everything they logged.

Replay is idempotent: metric points are matched to chunks by name (and by their
position in the chunk, ``at``, for a journal that replaced a longer one), and the
points a chunk already holds in git are skipped; other records are replayed only
after the journal's "flushed" mark.  This module decides what to replay; a journal-less
:class:`RecordWriter` does the replaying through its public methods
(:meth:`~RecordWriter.replay_chunk`, :meth:`~RecordWriter.discard`, ``create_run`` with
``overwrite``), so the writer alone changes what it buffers.

Three rules keep recovery from doing harm:

* **Never stale**: a replayed tag, info field or artifact entry never overwrites a
  value another writer committed after the dead process logged it (journal records
  carry their time; the history of the records ref says when each key last changed,
  leaving out the dead writer's own commits and what it had already seen).
* **Never blocking**: a journal that cannot be read whole (zero-filled, truncated, a
  record that is not JSON) is replayed as far as it can be read and then moved to
  ``journal/damaged/`` with a warning; a run that cannot be replayed (its record in
  git is damaged) does not stop the others; errors that may pass (a full disk, a
  locked ref) leave the journal for the next attempt.  :func:`recover` itself never
  raises.
* **Never lost**: a run whose tree in git cannot be read (objects deleted by a
  concurrent prune) is rebuilt from the journal when the journal still holds it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gitrun.core.git.objects import Oid
from gitrun.core.git.trees import diff_trees
from gitrun.core.records import journal as jnl
from gitrun.core.records import layout
from gitrun.core.records.store import ObjectsRemoved, RecordStore
from gitrun.core.records.writer import WRITER_TRAILER, RecordWriter
from gitrun.errors import (
    DamagedRecordWarning,
    GitrunError,
    RefConflict,
    StoreUnavailable,
    warn_always,
)

_ABANDONED_NEW_SECONDS = 60
_LOCK_RETRIES = 40  # 2 s
DAMAGED_DIR = "damaged"
"""Where journals that could not be replayed whole are kept (``journal/damaged/``)."""
_MAX_WALK = 10_000
"""Most commits of the records ref read to find values committed after a journal's."""
# Transient: the journal stays and the next gitrun command tries again (ObjectsRemoved:
# a concurrent prune deleted objects the commit needed, which this process did not write).
_RETRY = (StoreUnavailable, RefConflict, ObjectsRemoved, OSError)
"""Errors that may pass (full disk, read-only mount, busy ref): try again next time."""


def recover(store: RecordStore) -> list[str]:
    """Replay every dead journal of this repository; returns the runs touched.

    Never raises: a journal that cannot be recovered now is reported (warning) and left
    for the next attempt, or moved aside when it is damaged.
    """
    folder = os.path.join(store.repo.gitrun_dir, "journal")
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    touched: list[str] = []
    for name in names:
        path = os.path.join(folder, name)
        if name.endswith(".jnl.new"):
            _remove_abandoned(path)
            continue
        if not name.endswith(".jnl"):
            continue
        fd = _lock_dead(path)
        if fd is None:
            continue
        try:
            touched += _recover_one(store, path)
        except _RETRY as exc:
            message = exc.message if isinstance(exc, GitrunError) else str(exc)
            warn_always(
                f"gitrun: could not recover the journal {path} of a dead process yet ({message}); "
                "it is kept and tried again by the next gitrun command",
                DamagedRecordWarning,
            )
        except Exception as exc:  # noqa: BLE001 - one bad journal must never stop gitrun
            _quarantine(path, [f"recovery failed: {type(exc).__name__}: {exc}"], replayed=False)
        finally:
            os.close(fd)
    return touched


def _lock_dead(path: str) -> int | None:
    """The lock of a dead process's journal.  A process killed while it was starting a
    child (between vfork and exec) leaves that child sharing its memory, and so its
    journal's lock, for a moment: when the journal's owner is gone, wait for it."""
    fd = jnl.try_lock_dead(path)
    if fd is None and jnl.owner_gone(path):
        for _ in range(_LOCK_RETRIES):
            time.sleep(0.05)
            fd = jnl.try_lock_dead(path)
            if fd is not None:
                break
    return fd


def _remove_abandoned(path: str) -> None:
    # A process killed between creating and publishing its journal wrote nothing.
    try:
        if time.time() - os.path.getmtime(path) > _ABANDONED_NEW_SECONDS:
            fd = jnl.try_lock_dead(path)
            if fd is not None:
                os.unlink(path)
                os.close(fd)
    except OSError:
        pass


def _quarantine(path: str, reasons: list[str], *, replayed: bool) -> None:
    folder = os.path.join(os.path.dirname(path), DAMAGED_DIR)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = os.path.join(folder, f"{os.path.basename(path)}.{stamp}")
    try:
        os.makedirs(folder, exist_ok=True)
        os.replace(path, target)
        kept = f"kept as {target}"
    except OSError as exc:
        kept = f"could not be moved aside ({exc.strerror})"
    what = "what could be read was replayed" if replayed else "nothing was replayed"
    warn_always(
        f"gitrun: the journal {os.path.basename(path)} of a dead process is damaged "
        f"({'; '.join(reasons)}); {what}; {kept}",
        DamagedRecordWarning,
    )


@dataclass
class _RunLog:
    """What one journal holds for one run."""

    owned: bool = False
    create: dict[str, Any] | None = None
    bases: set[str] = field(default_factory=set)
    chunks: list[tuple[int, str, str, int]] = field(default_factory=list)  # handle, key, name, at
    changes: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)  # offset, kind, payload


def _recover_one(store: RecordStore, path: str) -> list[str]:
    contents = jnl.read_records(path)
    logs, points, damage = _parse(contents)
    end_ms = int(os.path.getmtime(path) * 1000)
    replay = _Replay(store, contents, end_ms)
    touched, failures = replay.run(logs, points)
    reasons = damage.reasons + [f"run {run_id}: {why}" for run_id, why in failures]
    if reasons:
        if damage.skipped > len(damage.reasons):
            reasons.append(f"{damage.skipped} record(s) skipped in all")
        _quarantine(path, reasons, replayed=bool(touched))
    else:
        os.unlink(path)
    return touched


def _parse(contents: jnl.JournalContents) -> tuple[dict[str, _RunLog], dict[int, list[Any]], jnl.Damage]:
    logs: dict[str, _RunLog] = {}
    points: dict[int, list[Any]] = {}
    damage = contents.damage
    for offset, kind, payload in contents.records:
        try:
            if kind == jnl.POINT:
                target = points.get(payload[0])
                if target is not None:
                    target.append(payload[1:])
                continue
            run_id = payload["run"]
            if not isinstance(run_id, str):
                damage.add(f"a record naming no run at offset {offset}")
                continue
            log = logs.setdefault(run_id, _RunLog())
            if kind == jnl.RUN:
                log.owned = log.owned or bool(payload.get("owned"))
                create = payload.get("create")
                if isinstance(create, dict) and log.create is None:
                    log.create = create
                if isinstance(payload.get("base"), str):
                    log.bases.add(payload["base"])
            elif kind == jnl.CHUNK:
                handle = int(payload["h"])
                log.chunks.append(
                    (handle, str(payload["key"]), str(payload["chunk"]), int(payload.get("at", 0)))
                )
                points[handle] = []
            else:
                log.changes.append((offset, kind, payload))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            damage.add(f"an unusable record at offset {offset} ({type(exc).__name__})")
    return logs, points, damage


class _Replay:
    def __init__(self, store: RecordStore, contents: jnl.JournalContents, end_ms: int) -> None:
        self.store = store
        self.contents = contents
        self.end_ms = end_ms
        self.writer = RecordWriter(store, flush_interval=0, use_journal=False)

    def run(
        self, logs: dict[str, _RunLog], points: dict[int, list[Any]]
    ) -> tuple[list[str], list[tuple[str, str]]]:
        failures: list[tuple[str, str]] = []
        applied: list[str] = []
        for run_id, log in logs.items():
            try:
                if self._apply(run_id, log, points):
                    applied.append(run_id)
            except _RETRY:
                raise
            except Exception as exc:  # noqa: BLE001 - one damaged run must not stop the others
                self.writer.discard(run_id)
                failures.append((run_id, _reason(exc)))
        try:
            self.writer.flush()
        except _RETRY:
            raise
        except Exception:  # noqa: BLE001 - find the run that cannot be committed, commit the rest
            applied = self._flush_one_by_one(applied, failures)
        return sorted(applied), failures

    def _flush_one_by_one(self, run_ids: list[str], failures: list[tuple[str, str]]) -> list[str]:
        done = []
        for run_id in run_ids:
            try:
                self.writer.flush([run_id])
                done.append(run_id)
            except _RETRY:
                raise
            except Exception as exc:  # noqa: BLE001
                self.writer.discard(run_id)
                failures.append((run_id, _reason(exc)))
        return done

    def _open(self, run_id: str, log: _RunLog) -> bool | None:
        """Open the run in the writer to replay into it: whether its tree in git is
        unreadable (it is rebuilt from the journal), or None when there is nothing to
        replay."""
        try:
            if self.store.entry(layout.run_dir(run_id)) is not None:
                self.writer.open_run(run_id, owned=False)
                return False
            broken = False
        except _RETRY:
            raise
        except GitrunError:
            broken = True
        if log.create is None:
            if broken:
                raise GitrunError("its record in git cannot be read and the journal cannot rebuild it")
            return None  # never committed, nothing to create it from: nothing to replay
        create = log.create
        files = {k: (int(v[0]), Oid(v[1])) if v else None for k, v in dict(create.get("files") or {}).items()}
        self.writer.create_run(
            run_id, dict(create["info"]), dict(create.get("tags") or {}), files, overwrite=broken
        )
        return broken

    def _apply(self, run_id: str, log: _RunLog, points: dict[int, list[Any]]) -> bool:
        rebuild = self._open(run_id, log)
        if rebuild is None:
            return False
        for handle, key, name, at in log.chunks:
            self.writer.replay_chunk(run_id, key, name, at, points.get(handle, []))
        flushed = self.contents.flushed
        changes = [(o, k, p) for o, k, p in log.changes if rebuild or o >= flushed]
        guard = _Guard(self.store, run_id, changes, self.contents.writer_id, log.bases)
        for _offset, kind, payload in changes:
            self._replay_change(run_id, kind, payload, guard)
        if log.owned and self.writer.view(run_id).info.get("status") == "RUNNING":
            self.writer.update_info(run_id, {"status": "KILLED", "end_time": self.end_ms}, allow_deleted=True)
        return True

    def _replay_change(self, run_id: str, kind: int, payload: dict[str, Any], guard: _Guard) -> None:
        writer = self.writer
        when = payload.get("t")
        try:
            if kind == jnl.PARAMS:
                for key, value in dict(payload["params"]).items():
                    try:
                        writer.log_params(run_id, {str(key): str(value)})
                    except GitrunError:
                        pass  # params are write-once: a value committed first stays
            elif kind == jnl.TAGS:
                tags = {
                    k: v for k, v in dict(payload["set"]).items() if guard.allows(layout.TAGS_FILE, k, when)
                }
                current = writer.view(run_id).tags
                gone = [
                    k for k in payload["delete"] if k in current and guard.allows(layout.TAGS_FILE, k, when)
                ]
                if tags or gone:
                    writer.set_tags(run_id, tags, gone)
            elif kind == jnl.INFO:
                fields = {
                    k: v for k, v in dict(payload["info"]).items() if guard.allows(layout.RUN_FILE, k, when)
                }
                if fields:
                    writer.update_info(run_id, fields, allow_deleted=True)
            elif kind == jnl.FILES:
                files = {k: (int(v[0]), Oid(v[1])) if v else None for k, v in dict(payload["files"]).items()}
                writer.put_files(run_id, files)
            elif kind == jnl.MAP:
                name = str(payload["file"])
                items = {k: v for k, v in dict(payload["set"]).items() if guard.allows(name, k, when)}
                gone = [k for k in payload["delete"] if guard.allows(name, k, when)]
                if items or gone:
                    writer.update_map(run_id, name, items, gone)
        except _RETRY:
            raise
        except GitrunError:
            pass  # e.g. the run was deleted since: a later change by another writer wins


def _reason(exc: BaseException) -> str:
    text = exc.message if isinstance(exc, GitrunError) else str(exc)
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, GitrunError) else text


class _Guard:
    """Which journal changes another writer overwrote later (they are not replayed).

    Walks the records ref back from its tip over the commits made since the earliest
    change to replay, skipping the dead writer's own commits (trailer) and stopping at
    a state of the run that writer had loaded (it saw everything before).  The time of
    the first commit found changing a key is when that key was last set by someone
    else; a journal change older than that (by git's one-second resolution: a tie goes
    to the committed value) is not replayed.
    """

    def __init__(
        self,
        store: RecordStore,
        run_id: str,
        changes: Iterable[tuple[int, int, dict[str, Any]]],
        writer_id: str,
        bases: set[str],
    ) -> None:
        self.later: dict[tuple[str, str], int] = {}
        files = {layout.RUN_FILE, layout.TAGS_FILE}
        times = []
        for _offset, kind, payload in changes:
            if kind in (jnl.TAGS, jnl.INFO, jnl.MAP) and isinstance(payload.get("t"), int):
                times.append(payload["t"])
                if kind == jnl.MAP:
                    files.add(str(payload.get("file")))
        if times:
            self._walk(store, layout.run_dir(run_id), min(times) // 1_000_000_000, files, writer_id, bases)

    def allows(self, name: str, key: Any, when: Any) -> bool:
        last = self.later.get((name, str(key)))
        if last is None or not isinstance(when, int):
            return True
        return last < when // 1_000_000_000

    def _walk(
        self, store: RecordStore, path: str, since: int, files: set[str], writer_id: str, bases: set[str]
    ) -> None:
        repo = store.repo
        own = f"{WRITER_TRAILER}: {writer_id}" if writer_id else None
        current = store.tip()
        for _ in range(_MAX_WALK):
            if current is None:
                return
            commit = repo.read_commit(current)
            when = _commit_time(commit.committer)
            if when < since:
                return
            here = _run_tree(repo, commit.tree, path)
            if here is not None and here in bases:
                return  # the dead writer had loaded this state: nothing older is later
            parent = commit.parents[0] if commit.parents else None
            if own is None or own not in commit.message:
                before = _run_tree(repo, repo.read_commit(parent).tree, path) if parent else None
                if here != before:
                    self._note(store, before, here, files, when)
            current = parent

    def _note(
        self, store: RecordStore, before: Oid | None, after: Oid | None, files: set[str], when: int
    ) -> None:
        repo = store.repo
        for change in diff_trees(repo, before, after, depth=0):
            name, a, b = change.path, change.old, change.new
            if name not in files or (a.oid if a else None) == (b.oid if b else None):
                continue
            try:
                va = store.load_yaml(a.oid, name) if a else {}
                vb = store.load_yaml(b.oid, name) if b else {}
            except GitrunError:
                continue
            for key in set(va) | set(vb):
                if va.get(key) != vb.get(key) or (key in va) != (key in vb):
                    self.later.setdefault((name, str(key)), when)


def _run_tree(repo: Any, root: Oid, path: str) -> Oid | None:
    entry = repo.lookup(root, path)
    return entry.oid if entry is not None else None


def _commit_time(person: str) -> int:
    try:
        return int(person.rsplit(" ", 2)[-2])
    except (IndexError, ValueError):
        return 0
