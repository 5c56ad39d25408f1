"""The in-process record writer: logging lands in memory and a journal, git later.

``log_metric`` appends to in-memory arrays and to the process's journal (a memory
copy), never to git.  Records reach git on a schedule (every ``flush_interval``
seconds, or sooner when ``max_pending`` points wait), when a run ends, when a
reader in this process asks for a run, and at exit.  One flush is one commit for
every run that changed, whatever the number of runs.

Metric series are written in chunks (:mod:`series`): a flush re-encodes only the
chunk each series is filling, so its cost does not grow with the series.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from gitrun.core.git import fs
from gitrun.core.git.objects import MODE_TREE, Oid
from gitrun.core.records import journal as jnl
from gitrun.core.records import layout, merge, series
from gitrun.core.records.pending import (
    Chunk,
    FileValue,
    PendingRun,
    Point,
    Snapshot,
    absorb,
    build_tree,
    load_run,
    take_snapshot,
)
from gitrun.core.records.run_store import RunState
from gitrun.core.records.store import Edit, RecordStore
from gitrun.core.records.text import readable
from gitrun.errors import GitrunError, InvalidParameterValue, ResourceDoesNotExist, storage_error

DEFAULT_FLUSH_INTERVAL = 5.0
DEFAULT_MAX_PENDING = 100_000
ROTATE_BYTES = 1 << 20
"""A journal holding more than this (flushed) is replaced by a fresh one after a full
flush, so it never grows with the length of a run."""
WRITER_TRAILER = "Gitrun-Writer"
"""Commit message trailer naming the writer (recovery tells a dead writer's own commits
from later ones by it)."""
_VERIFY_AT_EXIT = 1_000
"""At exit, the most recently committed runs checked to be readable."""


class RecordWriter:
    """Buffers the writes of this process and commits them to a :class:`RecordStore`."""

    def __init__(
        self,
        store: RecordStore,
        *,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        max_pending: int = DEFAULT_MAX_PENDING,
        use_journal: bool = True,
    ) -> None:
        self.store = store
        self.flush_interval = flush_interval
        self.max_pending = max_pending
        self._use_journal = use_journal
        self._init_state()
        weak = weakref.ref(self)

        def after_fork_in_child() -> None:
            writer = weak()
            if writer is not None:
                writer._after_fork()

        os.register_at_fork(after_in_child=after_fork_in_child)

    def _init_state(self) -> None:
        self.writer_id = secrets.token_hex(4)
        self._journal_seq = 0
        self._committed: dict[str, None] = {}  # runs this writer committed, oldest first
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._runs: dict[str, PendingRun] = {}
        self._dirty: set[PendingRun] = set()
        self._pending = 0
        self._handles = 0
        self._last_ns = 0
        self._journal: jnl.Journal | None = None
        self._thread: threading.Thread | None = None
        self._kick = threading.Event()
        self._closed = False

    def _after_fork(self) -> None:
        # The child must not write into its parent's journal or trust its buffers.
        if self._journal is not None:
            self._journal.abandon_after_fork()
        self._init_state()

    # -- journal and background flushing --------------------------------------------

    @property
    def journal_dir(self) -> str:
        return os.path.join(self.store.repo.gitrun_dir, "journal")

    def _journal_path(self) -> str:
        suffix = f"-{self._journal_seq}" if self._journal_seq else ""
        return os.path.join(self.journal_dir, f"{self.writer_id}{suffix}.jnl")

    def _journal_or_none(self) -> jnl.Journal | None:
        if self._journal is None and self._use_journal:
            # Made as git makes folders (group-writable in a shared repository), so that
            # a teammate's gitrun can keep its journal beside ours.
            fs.make_dirs(self.journal_dir, self.store.repo.format.shared)
            self._journal = jnl.Journal(self._journal_path(), self.writer_id)
        if self._thread is None and self.flush_interval > 0:
            self._thread = threading.Thread(target=self._loop, name="gitrun-flush", daemon=True)
            self._thread.start()
        return self._journal

    def _loop(self) -> None:
        while not self._closed:
            self._kick.wait(self.flush_interval)
            self._kick.clear()
            if self._closed:
                return
            try:
                self.flush()
            except Exception as exc:  # noqa: BLE001 - the next attempt retries; never kill the thread
                import warnings

                warnings.warn(f"gitrun could not commit runs yet (will retry): {exc}", stacklevel=1)

    def _chunk_name(self) -> str:
        now = max(time.time_ns(), self._last_ns + 1)
        self._last_ns = now
        return f"{now:016x}-{self.writer_id}"

    # -- runs --------------------------------------------------------------------------

    def create_run(
        self,
        run_id: str,
        info: dict[str, Any],
        tags: Mapping[str, str],
        files: Mapping[str, FileValue],
        *,
        owned: bool = True,
        overwrite: bool = False,
    ) -> None:
        """Start a new run, committed by the next flush.

        ``overwrite`` is for recovery rebuilding a run from a dead writer's journal when
        the run's tree in git cannot be read (objects deleted by a concurrent prune): the
        first commit then replaces that tree instead of merging with it.
        """
        run = PendingRun(
            run_id,
            layout.run_dir(run_id),
            None,
            dict(info),
            {},
            dict(tags),
            {},
            owned,
            files=dict(files),
            overwrite=overwrite,
        )
        with self._lock:
            if run_id in self._runs:
                raise InvalidParameterValue(f"run {run_id} already exists")
            journal = self._journal_or_none()
            if journal is not None:
                journal.append_json(
                    jnl.RUN,
                    {
                        "run": run_id,
                        "owned": owned,
                        "create": {
                            "info": run.info,
                            "tags": run.tags,
                            "files": {k: list(v) if v else None for k, v in run.files.items()},
                        },
                        "t": time.time_ns(),
                    },
                )
            run.dirty.update((layout.RUN_FILE, layout.TAGS_FILE, layout.PARAMS_FILE, layout.METRICS_FILE))
            self._runs[run_id] = run
            self._dirty.add(run)

    def open_run(self, run_id: str, *, owned: bool) -> dict[str, Any]:
        """Start writing to an existing run; returns its info.  ``owned`` runs are
        marked KILLED by recovery if this process dies while they are RUNNING."""
        with self._lock:
            run = self._get(run_id)
            if owned and not run.owned:
                run.owned = True
                journal = self._journal_or_none()
                if journal is not None:
                    journal.append_json(
                        jnl.RUN, {"run": run_id, "owned": True, "create": None, "base": run.base}
                    )
            return dict(run.info)

    def view(self, run_id: str, maps: Iterable[str] = (), files: Iterable[str] = ()) -> RunState:
        """The run as this process sees it (unflushed changes included), with the mapping
        files and extra tree entries asked for, read under one lock."""
        with self._lock:
            run = self._get(run_id)
            found: dict[str, FileValue] = {}
            for name in files:
                value = run.files.get(name)
                if value is None and name not in run.files and run.base is not None:
                    entry = self.store.repo.lookup(run.base, name)
                    value = (entry.mode, entry.oid) if entry is not None else None
                if value is not None:
                    found[name] = value
            return RunState(
                dict(run.info),
                dict(run.tags),
                {name: dict(self._map_of(run, name)) for name in maps},
                found,
            )

    def is_live(self, run_id: str) -> bool:
        return run_id in self._runs

    def _get(self, run_id: str) -> PendingRun:
        run = self._runs.get(run_id)
        if run is None:
            run = load_run(self.store, run_id)
            journal = self._journal_or_none()
            if journal is not None:
                # The run's tree as loaded: recovery knows what this writer had seen.
                journal.append_json(
                    jnl.RUN, {"run": run_id, "owned": False, "create": None, "base": run.base}
                )
            self._runs[run_id] = run
        return run

    def _writable(self, run_id: str) -> PendingRun:
        run = self._get(run_id)
        if run.deleted:
            raise InvalidParameterValue(
                f"The run {run_id} must be in the 'active' state. Current state is deleted."
            )
        return run

    def _mark(self, run: PendingRun, name: str) -> None:
        run.dirty.add(name)
        self._dirty.add(run)

    # -- params, tags, info, files -----------------------------------------------------

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        with self._lock:
            run = self._writable(run_id)
            new = {}
            for key, value in params.items():
                old = run.params.get(key)
                if old is None:
                    new[key] = value
                elif old != value:
                    raise InvalidParameterValue(
                        f"Changing param values is not allowed. Param with key='{key}' was already "
                        f"logged with value='{old}' for run ID='{run_id}'. Attempted logging new "
                        f"value '{value}'."
                    )
            if not new:
                return
            # Journal first: a call that fails (disk full) changes nothing in memory either.
            self._journal_write(jnl.PARAMS, {"run": run_id, "params": new})
            run.params.update(new)
            self._mark(run, layout.PARAMS_FILE)

    def set_tags(self, run_id: str, tags: Mapping[str, str], delete: Iterable[str] = ()) -> None:
        with self._lock:
            run = self._writable(run_id)
            gone = [k for k in delete]
            for key in gone:
                if key not in run.tags:
                    raise ResourceDoesNotExist(f"No tag with name: {key} in run with id {run_id}")
            self._journal_write(jnl.TAGS, {"run": run_id, "set": dict(tags), "delete": gone})
            run.tags.update(tags)
            for key in gone:
                del run.tags[key]
            self._mark(run, layout.TAGS_FILE)

    def update_info(self, run_id: str, fields: Mapping[str, Any], *, allow_deleted: bool = False) -> None:
        with self._lock:
            run = self._get(run_id) if allow_deleted else self._writable(run_id)
            self._journal_write(jnl.INFO, {"run": run_id, "info": dict(fields)})
            run.info.update(fields)
            self._mark(run, layout.RUN_FILE)

    def put_files(self, run_id: str, files: Mapping[str, FileValue]) -> None:
        """Set (or remove, with None) extra entries of the run's tree."""
        with self._lock:
            run = self._writable(run_id)
            self._journal_write(
                jnl.FILES, {"run": run_id, "files": {k: list(v) if v else None for k, v in files.items()}}
            )
            run.files.update(files)
            self._dirty.add(run)

    def update_map(
        self, run_id: str, name: str, items: Mapping[str, Any], delete: Iterable[str] = ()
    ) -> None:
        """Set and delete keys of a YAML mapping file of the run (``artifacts.yaml``, ...).

        Such files merge key by key when two writers change the same run.
        """
        with self._lock:
            run = self._writable(run_id)
            current = self._map_of(run, name)
            gone = list(delete)
            self._journal_write(jnl.MAP, {"run": run_id, "file": name, "set": dict(items), "delete": gone})
            current.update(items)
            for key in gone:
                current.pop(key, None)
            self._mark(run, name)

    def _map_of(self, run: PendingRun, name: str) -> dict[str, Any]:
        current = run.maps.get(name)
        if current is None:
            entry = self.store.repo.lookup(run.base, name) if run.base else None
            current = self.store.load_yaml(entry.oid, f"run {run.run_id} {name}") if entry else {}
            run.maps[name] = current
        return current

    def _journal_write(self, kind: int, payload: dict[str, Any]) -> None:
        journal = self._journal_or_none()
        if journal is not None:
            # When it was logged: recovery never replays it over a value committed later.
            payload["t"] = time.time_ns()
            journal.append_json(kind, payload)

    # -- metrics (the hot path) ----------------------------------------------------------

    def log_metric(self, run_id: str, key: str, value: float, step: int, timestamp: int) -> None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or run.deleted:
                run = self._writable(run_id)
            chunk = run.tails.get(key)
            if chunk is None or len(chunk.values) >= series.CHUNK_POINTS:
                chunk = self._new_chunk(run, key, chunk)
            journal = self._journal
            if journal is not None:
                # First: if it raises (disk full), the point is not half-logged.
                journal.append_point(chunk.handle, step, timestamp, value)
            chunk.steps.append(step)
            chunk.timestamps.append(timestamp)
            chunk.values.append(value)
            point = (step, timestamp, value)
            latest = run.latest.get(key)
            if latest is None or point > latest:
                run.latest[key] = point
            run.dirty.add(layout.METRICS_FILE)
            self._dirty.add(run)
            self._pending += 1
            if self._pending >= self.max_pending:
                self._pending = 0
                self._kick.set()

    def log_metric_columns(
        self,
        run_id: str,
        keys: Sequence[str],
        values: Sequence[float],
        steps: Sequence[int],
        timestamps: Sequence[int],
    ) -> None:
        """Points given as columns; a series (one key) is appended with array copies."""
        with self._lock:
            run = self._writable(run_id)
            distinct = set(keys)
            if len(distinct) == 1:
                self._append_series(run, keys[0], values, steps, timestamps)
            else:
                for key in distinct:
                    rows = [i for i, k in enumerate(keys) if k == key]
                    self._append_series(
                        run,
                        key,
                        [values[i] for i in rows],
                        [steps[i] for i in rows],
                        [timestamps[i] for i in rows],
                    )
            count = len(keys)
            run.dirty.add(layout.METRICS_FILE)
            self._dirty.add(run)
            self._pending += count
            if self._pending >= self.max_pending:
                self._pending = 0
                self._kick.set()

    def _append_series(
        self,
        run: PendingRun,
        key: str,
        values: Sequence[float],
        steps: Sequence[int],
        timestamps: Sequence[int],
    ) -> None:
        total = len(values)
        handles: list[int] = []
        segments: list[tuple[Chunk, int, int]] = []
        chunk = run.tails.get(key)
        fill = len(chunk.values) if chunk is not None else 0
        pos = 0
        while pos < total:
            if chunk is None or fill >= series.CHUNK_POINTS:
                chunk = self._new_chunk(run, key, chunk)
                fill = 0
            take = min(series.CHUNK_POINTS - fill, total - pos)
            segments.append((chunk, pos, pos + take))
            handles += [chunk.handle] * take
            fill += take
            pos += take
        # Each point names its chunk; the CHUNK records written above precede them.  The
        # journal goes first: when it raises (disk full) no point of the batch is logged.
        if self._journal is not None:
            self._journal.append_points(handles, steps, timestamps, values)
        for target, start, end in segments:
            target.steps.extend(steps[start:end])
            target.timestamps.extend(timestamps[start:end])
            target.values.extend(values[start:end])
        best = max(zip(steps, timestamps, values))
        old = run.latest.get(key)
        if old is None or best > old:
            run.latest[key] = best

    def _new_chunk(self, run: PendingRun, key: str, full: Chunk | None, name: str | None = None) -> Chunk:
        self._handles += 1
        chunk = Chunk(name or self._chunk_name(), self._handles)
        journal = self._journal_or_none()
        if journal is not None:
            journal.append_json(
                jnl.CHUNK, {"h": chunk.handle, "run": run.run_id, "key": key, "chunk": chunk.name}
            )
        # Registered only once journaled: a point is never logged to an unjournaled chunk.
        if full is not None:
            run.sealed.append((key, full))
        run.tails[key] = chunk
        return chunk

    # -- replaying a dead writer's journal (recovery decides what, the writer does it) ----

    def replay_chunk(self, run_id: str, key: str, name: str, at: int, points: Sequence[Point]) -> None:
        """Replay one series chunk of a dead writer's journal into an open run.

        The chunk keeps the dead writer's name, so its commit replaces the blob that
        writer may have committed instead of adding a second copy.  The points the chunk
        holds in git are read back first; ``points`` are the journaled ones from position
        ``at`` of the chunk on (a rotated journal keeps only what was not in git yet), and
        only those beyond what git holds are added: replaying twice adds nothing.

        Only for a writer without a journal: the journal being replayed is what keeps
        these points safe until they are committed.

        Raises:
            GitrunError: the chunk's first ``at`` points are neither in git nor in
                ``points`` (git does not hold the chunk: the run is rebuilt from the
                journal, was never committed, or lost the chunk).
        """
        self._check_replaying()
        with self._lock:
            run = self._get(run_id)
            chunk = self._new_chunk(run, key, run.tails.get(key), name=name)
            committed = 0
            path = f"{layout.METRICS_DIR}/{layout.encode_key(key)}/{name}"
            # A run being rebuilt (``overwrite``) or never committed has no base to read.
            entry = None if run.base is None else self.store.repo.lookup(run.base, path)
            if entry is not None:
                steps, timestamps, values = series.decode_chunk(self.store.repo.read_blob(entry.oid), path)
                chunk.steps, chunk.timestamps, chunk.values = steps, timestamps, values
                chunk.committed = committed = len(values)
            elif at:
                raise GitrunError(
                    f"chunk {name} of {key!r}: its first {at} points are neither in git nor here"
                )
            fresh = points[max(0, committed - at) :]
            for step, timestamp, value in fresh:
                chunk.steps.append(step)
                chunk.timestamps.append(timestamp)
                chunk.values.append(value)
                point = (step, timestamp, value)
                if key not in run.latest or point > run.latest[key]:
                    run.latest[key] = point
            if fresh:
                self._mark(run, layout.METRICS_FILE)

    def discard(self, run_id: str) -> None:
        """Forget the run and everything buffered for it, without committing.

        Recovery discards a run it cannot replay (its record in git is damaged), so that
        the flush still commits the others.  Only for a writer without a journal, whose
        buffers nothing else holds a copy of.
        """
        self._check_replaying()
        with self._lock:
            run = self._runs.pop(run_id, None)
            if run is not None:
                self._dirty.discard(run)

    def _check_replaying(self) -> None:
        if self._use_journal:
            # Replayed points are not journaled again, and a discarded run's records
            # would come back from this writer's journal after a crash.
            raise GitrunError("replaying a journal needs a writer without a journal of its own")

    # -- flushing -------------------------------------------------------------------------

    def flush(self, run_ids: Iterable[str] | None = None) -> None:
        """Commit buffered changes (of the given runs, or of all) in one commit.

        Raises:
            NoSpace: the disk is full (or a quota or file size limit was reached).
            StoreUnavailable: the repository cannot be written (read-only...).
            Nothing is lost either way: the changes stay buffered and journaled, and
            the next flush tries again.
        """
        with self._flush_lock:
            with self._lock:
                wanted = None if run_ids is None else {self._runs[r] for r in run_ids if r in self._runs}
                batch = [r for r in self._dirty if wanted is None or r in wanted]
                if not batch:
                    return
                snapshots = [take_snapshot(run) for run in batch]
                self._dirty.difference_update(batch)
                offset = self._journal.offset if self._journal is not None else 0
            try:
                with self.store.repo.odb.tracking() as written:
                    edits = {
                        snap.run.path: Edit(
                            self._build(snap),
                            MODE_TREE,
                            snap.run.base,
                            None if snap.run.overwrite else merge.merge_run,
                        )
                        for snap in snapshots
                    }
                    # Entries written before this flush (a run's code tree, its
                    # environment) must still exist too.
                    written.update(v[1] for snap in snapshots for v in snap.files.values() if v)
                message = commit_message([s.run for s in snapshots], self.writer_id)
                landed = self.store.commit(edits, message, written)
            except BaseException as exc:
                with self._lock:
                    for snap in snapshots:
                        snap.restore()
                        self._dirty.add(snap.run)
                if isinstance(exc, FileNotFoundError) or isinstance(exc.__cause__, FileNotFoundError):
                    # A concurrent `git prune` removed a fan-out folder this process
                    # remembered making: forget it, so that the retry makes it again.
                    self.store.repo.odb.forget(())
                if isinstance(exc, OSError):
                    raise storage_error(exc, f"commit runs to {self.store.repo.common_dir}") from exc
                raise
            with self._lock:
                for snap in snapshots:
                    absorb(self.store, snap, landed[snap.run.path], edits[snap.run.path].oid)
                    snap.run.overwrite = False
                    self._committed.pop(snap.run.run_id, None)
                    self._committed[snap.run.run_id] = None
                    if len(self._committed) > _VERIFY_AT_EXIT:
                        del self._committed[next(iter(self._committed))]
                # A full flush took every run with records before `offset`.
                if self._journal is not None and wanted is None:
                    self._journal.mark_flushed(offset)
                    if self._journal.offset >= ROTATE_BYTES:
                        self._rotate_journal()
                self._evict()

    def _rotate_journal(self) -> None:
        """Start a fresh journal holding only what is not in git yet (under the lock).

        Only when every run's pending changes are metric points: those are copied with
        their chunk's position (``at``), so replay matches them to the chunks in git.
        """
        if any(
            run.dirty - {layout.METRICS_FILE} or run.files or run.base is None for run in self._runs.values()
        ):
            return
        old = self._journal
        assert old is not None
        pending = sum(
            len(chunk.values) - chunk.committed
            for run in self._runs.values()
            for _key, chunk in [*run.sealed, *run.tails.items()]
        )
        if pending * jnl.POINT_SIZE > old.offset // 2:
            return  # copying would cost more than it frees: after a later flush
        self._journal_seq += 1
        try:
            new = jnl.Journal(self._journal_path(), self.writer_id)
            now = time.time_ns()
            for run in self._runs.values():
                new.append_json(
                    jnl.RUN,
                    {"run": run.run_id, "owned": run.owned, "create": None, "base": run.base, "t": now},
                )
                # Chunks filled since the flush, then the ones filling: the order they began in.
                for key, chunk in [*run.sealed, *run.tails.items()]:
                    done = chunk.committed
                    new.append_json(
                        jnl.CHUNK,
                        {"h": chunk.handle, "run": run.run_id, "key": key, "chunk": chunk.name, "at": done},
                    )
                    if len(chunk.values) > done:
                        count = len(chunk.values) - done
                        new.append_points(
                            [chunk.handle] * count,
                            chunk.steps[done:],
                            chunk.timestamps[done:],
                            chunk.values[done:],
                        )
            new.mark_flushed(new.offset)
        except GitrunError:
            return  # no room for a new journal now: keep the old one, try after the next flush
        self._journal = new
        old.close(delete=True)

    def _build(self, snap: Snapshot) -> Oid:
        # A concurrent `git prune` may remove a fan-out folder (or our temporary object
        # file) while we write: try again, as the record store does for its commits.
        return self.store.retrying(lambda: build_tree(self.store, snap), "write records into")

    def _evict(self) -> None:
        for run_id, run in list(self._runs.items()):
            if not run.owned and run not in self._dirty and not run.sealed:
                del self._runs[run_id]

    # -- ending -------------------------------------------------------------------------

    def release(self, run_id: str) -> None:
        """This process stops owning the run (it ended): commit it, then forget it.

        The commit is made by the background flusher right away, so ending a run costs
        the caller no git work and runs ending together share one commit.  Reads in
        this process still see the run at once (they flush what is pending first), and
        the journal keeps it safe until the commit lands.
        """
        with self._lock:
            run = self._runs.get(run_id)
            if run is not None:
                run.owned = False
                self._dirty.add(run)
        if self._thread is not None and self._thread.is_alive():
            self._kick.set()
        else:
            self.flush([run_id])

    def close(self) -> None:
        """Final flush; the journal is deleted once everything is in git and readable.

        If a run this process recorded cannot be read back (a concurrent prune deleted
        objects that could not be written again), the journal is kept, so the next
        gitrun command re-commits what it holds, and the problem is reported on stderr.
        """
        self._closed = True
        self._kick.set()
        broken: list[str] = []
        try:
            self.flush()
            self.store.recheck()
            broken = self._unreadable_runs()
        finally:
            with self._lock:
                if self._journal is not None:
                    keep = bool(self._dirty) or bool(broken) or any(r.owned for r in self._runs.values())
                    path = self._journal.path
                    self._journal.close(delete=not keep)
                    self._journal = None
                    if broken:
                        print(
                            f"gitrun: error: run(s) {', '.join(broken[:5])} cannot be read back from git "
                            f"(objects deleted by a concurrent prune?); their journal is kept at {path} "
                            "and the next gitrun command in this repository re-commits what it holds",
                            file=sys.stderr,
                        )

    def _unreadable_runs(self) -> list[str]:
        """Runs this writer committed whose record files are not all on disk."""
        odb = self.store.repo.odb
        broken = []
        record_files = (layout.RUN_FILE, layout.PARAMS_FILE, layout.TAGS_FILE, layout.METRICS_FILE)
        for run_id in list(self._committed):
            try:
                entry = self.store.entry(layout.run_dir(run_id))
                if entry is None:
                    broken.append(run_id)
                    continue
                files = self.store.repo.read_tree(entry.oid)
                if not odb.present(entry.oid) or not all(
                    odb.present(files[name].oid) for name in record_files if name in files
                ):
                    broken.append(run_id)
            except GitrunError:
                broken.append(run_id)
        return broken


def commit_message(runs: Sequence[PendingRun], writer_id: str) -> str:
    """``gitrun: record 2 runs: lr-0.1, lr-0.01`` then one ``<id> <name> <status>`` line
    per run, so that ``git log refs/gitrun/records`` says which runs each commit holds,
    and the writer's trailer (recovery tells a dead writer's own commits by it)."""
    names = [" ".join(readable(r.info.get("run_name") or r.run_id[:8]).split()) for r in runs]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    subject = f"gitrun: record {len(runs)} run{'s' if len(runs) != 1 else ''}: {shown}"
    body = [f"{r.run_id} {name} {r.info.get('status') or ''}".rstrip() for r, name in zip(runs[:50], names)]
    if len(runs) > 50:
        body.append(f"... and {len(runs) - 50} more")
    return subject + "\n\n" + "\n".join(body) + f"\n\n{WRITER_TRAILER}: {writer_id}"
