"""The search index of one repository: a derived SQLite file, never the source of truth.

``<git common dir>/gitrun/index.sqlite`` records which commit of the records ref it
reflects.  Every search first reads the ref (one small file); when it moved, the
index is brought up to date by diffing trees (:mod:`sync`) in one ``BEGIN
IMMEDIATE`` transaction, so readers in other processes see the old state or the
new one, never a mixture.  A missing, damaged or other-version file is rebuilt
from git automatically; when the file cannot be written at all (a read-only
clone), a private in-memory index is used instead.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import warnings
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from gitrun.core.git.objects import Oid
from gitrun.core.index import experiment_query, paging, run_query, sync
from gitrun.core.index.database import MEMORY, IndexDatabase, classify
from gitrun.core.index.query import ExperimentSearch, RunSearch
from gitrun.core.index.rows import IndexedExperiment, search_result
from gitrun.core.records.store import RecordStore
from gitrun.core.records.values import RunRecord
from gitrun.errors import (
    DamagedRecordWarning,
    GitrunError,
    InvalidParameterValue,
    InvalidRecord,
    warn_always,
)

T = TypeVar("T")
INDEX_FILE = "index.sqlite"


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results and the token of the next page (None on the last page)."""

    items: list[T]
    token: str | None


@contextlib.contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """Several statements that must see one state of the index (key ids included)."""
    conn.execute("BEGIN")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


_SHOWN_DAMAGED = 5


def _warn_damaged(damaged: dict[str, str]) -> None:
    """One warning per damaged run (a few at most), on every search: never forgotten."""
    items = sorted(damaged.items())
    for run_id, reason in items[:_SHOWN_DAMAGED]:
        warn_always(f"gitrun: search leaves out run {run_id}: {reason}", DamagedRecordWarning)
    if len(items) > _SHOWN_DAMAGED:
        warn_always(
            f"gitrun: search leaves out {len(items) - _SHOWN_DAMAGED} more run(s) whose record "
            "cannot be read",
            DamagedRecordWarning,
        )


class RunIndex:
    """Searches over the runs and experiments of one record store.

    Args:
        store: The records to index.
        path: The index file; default ``<repo.gitrun_dir>/index.sqlite``.
    """

    def __init__(self, store: RecordStore, path: str | None = None) -> None:
        self.store = store
        self.path = path or os.path.join(store.repo.gitrun_dir, INDEX_FILE)
        self._db = IndexDatabase(self.path)
        self._lock = threading.Lock()
        self.last_update: sync.UpdateStats | None = None
        self._tip: Oid | None = None  # the records commit the index reflected at the last check
        # Driver choices of recent searches (see run_query.compile_runs), for one tip.
        self._plans: dict[Hashable, int | None] = {}
        self._plans_tip: Oid | None = None

    # -- keeping up to date ------------------------------------------------------------------

    def update(self) -> sync.UpdateStats | None:
        """Bring the index up to date with the records ref; None if it already was."""
        with self._lock:
            return self._guarded(self._update)

    def _indexed_tip(self, conn: sqlite3.Connection) -> Oid | None:
        row = conn.execute("SELECT value FROM meta WHERE key = 'tip'").fetchone()
        return Oid(row[0]) if row and row[0] else None

    def _update(self, conn: sqlite3.Connection) -> sync.UpdateStats | None:
        tip = self.store.tip()
        row = conn.execute("SELECT value FROM meta WHERE key = 'tip'").fetchone()
        if row is not None and row[0] == tip:
            self._tip = tip
            return None
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have brought it up to date while we waited.
            indexed = self._indexed_tip(conn)
            tip = self.store.tip()
            stats = None
            if row is None or indexed != tip:
                stats = sync.apply(conn, self.store, indexed, tip)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        if stats is not None and stats.full and not self._db.in_memory:
            # A full build leaves a WAL the size of the index: fold it in now (best effort:
            # it waits for no reader).
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.last_update = stats
        self._tip = tip
        return stats

    def _guarded(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``operation`` on a current connection, rebuilding a damaged file once."""
        for attempt in range(3):
            try:
                return operation(self._db.connection())
            except OSError as exc:  # the folder or lock file cannot be created
                if self._db.in_memory:
                    raise
                self._use_memory(exc)
            except sqlite3.Error as exc:
                kind = classify(exc)
                if kind == "query":
                    # The user's filter, not the index: say so, and keep the index.
                    raise InvalidParameterValue(
                        f"the search is too complex for the index ({exc}); use fewer filter clauses "
                        "(each metrics./params./tags. condition joins one table; SQLite allows 64)"
                    ) from None
                if kind == "busy":
                    raise GitrunError(
                        f"the search index {self.path} stayed locked by another process; try again, or "
                        "delete the file if no other gitrun process is running (it is rebuilt)"
                    ) from exc
                if kind == "unavailable" and not self._db.in_memory:
                    self._use_memory(exc)
                elif attempt == 2:
                    raise InvalidRecord(f"the search index {self.path} cannot be rebuilt: {exc}") from exc
                else:
                    self._db.discard()
        raise AssertionError("unreachable")

    def _use_memory(self, reason: Exception) -> None:
        warnings.warn(
            f"gitrun cannot write the search index {self.path} ({reason}); searching with a private "
            "in-memory index instead, rebuilt in every process (slower)",
            stacklevel=5,
        )
        self._db.close()
        self._db = IndexDatabase(MEMORY)

    # -- searching --------------------------------------------------------------------------------

    @overload
    def search_runs(
        self, search: RunSearch, max_results: int, page_token: str | None = None
    ) -> Page[RunRecord]: ...

    @overload
    def search_runs(
        self, search: RunSearch, max_results: int, page_token: str | None = None, *, make: Callable[..., T]
    ) -> Page[T]: ...

    def search_runs(
        self,
        search: RunSearch,
        max_results: int,
        page_token: str | None = None,
        *,
        make: Callable[..., Any] = search_result,
    ) -> Page[Any]:
        """One page of runs, in MLflow's order, after bringing the index up to date.

        ``make`` builds each result from :class:`RunRecord`'s first twelve fields, in order.

        Raises:
            InvalidParameterValue: ``max_results`` is out of bounds or the token does
                not belong to this search.
        """
        limit = paging.check_max_results(max_results)
        key = paging.fingerprint(
            sorted(set(search.experiment_ids)), search.clauses, search.order_by, search.view
        )
        offset = paging.decode_token(page_token, key)

        damaged: dict[str, str] = {}

        def run(conn: sqlite3.Connection) -> list[Any]:
            self._update(conn)
            if self._tip != self._plans_tip or len(self._plans) > 256:
                self._plans.clear()
                self._plans_tip = self._tip
            with _snapshot(conn):
                damaged.update(sync.damaged_runs(conn))
                return run_query.fetch_runs(conn, search, limit + 1, offset, self._plans, make)

        with self._lock:
            found = self._guarded(run)
        if damaged:
            _warn_damaged(damaged)
        token = paging.encode_token(offset + limit, key) if len(found) > limit else None
        return Page(found[:limit], token)

    def search_experiments(
        self, search: ExperimentSearch, max_results: int, page_token: str | None = None
    ) -> Page[IndexedExperiment]:
        """One page of experiments (MLflow's default order: newest first)."""
        limit = paging.check_max_results(max_results)
        key = paging.fingerprint("experiments", search.clauses, search.order_by, search.view)
        offset = paging.decode_token(page_token, key)

        def run(conn: sqlite3.Connection) -> list[IndexedExperiment]:
            self._update(conn)
            return experiment_query.fetch_experiments(conn, search, limit + 1, offset)

        with self._lock:
            found = self._guarded(run)
        token = paging.encode_token(offset + limit, key) if len(found) > limit else None
        return Page(found[:limit], token)

    def read(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read-only ``operation`` on the up-to-date index, in one read transaction.

        For queries the methods here do not cover (counts and aggregates, see
        :mod:`gitrun.core.index.tables`); ``operation`` must not write.
        """

        def run(conn: sqlite3.Connection) -> T:
            self._update(conn)
            with _snapshot(conn):
                return operation(conn)

        with self._lock:
            return self._guarded(run)

    def run_ids_with_prefix(self, prefix: str, limit: int = 20) -> list[str]:
        """Ids of runs (any lifecycle stage) starting with ``prefix``, at most ``limit``."""

        def run(conn: sqlite3.Connection) -> list[str]:
            self._update(conn)
            # A range on the unique index: every id starting with the prefix sorts below
            # prefix + U+10FFFF (ids are hex, far below that code point).
            sql = "SELECT run_id FROM runs WHERE run_id >= ? AND run_id < ? ORDER BY run_id LIMIT ?"
            return [r[0] for r in conn.execute(sql, (prefix, prefix + "\U0010ffff", limit))]

        with self._lock:
            return self._guarded(run)

    def child_run_ids(self, run_id: str) -> list[str]:
        """Runs whose ``mlflow.parentRunId`` tag names ``run_id``, oldest first."""

        def run(conn: sqlite3.Connection) -> list[str]:
            self._update(conn)
            sql = (
                "SELECT r.run_id FROM tags t JOIN runs r ON r.rid = t.rid "
                "WHERE t.kid = (SELECT kid FROM keys WHERE key = 'mlflow.parentRunId') AND t.value = ? "
                "ORDER BY r.start_time, r.run_id"
            )
            return [r[0] for r in conn.execute(sql, (run_id,))]

        with self._lock:
            return self._guarded(run)

    def logged_models(
        self, model_id: str | None = None, experiment_ids: tuple[str, ...] | None = None
    ) -> list[tuple[str, str, str, str]]:
        """``(run_id, name, model_id, experiment_id)`` of logged models: the one with
        ``model_id``, or those of active runs in ``experiment_ids`` (every experiment for
        None), newest run first."""

        def run(conn: sqlite3.Connection) -> list[tuple[str, str, str, str]]:
            self._update(conn)
            sql = (
                "SELECT r.run_id, m.name, m.model_id, r.experiment_id FROM logged_models m "
                "JOIN runs r ON r.rid = m.rid"
            )
            params: list[str] = []
            if model_id is not None:
                sql += " WHERE m.model_id = ?"
                params.append(model_id)
            else:
                sql += " WHERE r.lifecycle_stage = 'active'"
                if experiment_ids is not None:
                    sql += f" AND r.experiment_id IN ({','.join('?' * len(experiment_ids))})"
                    params += list(experiment_ids)
            sql += " ORDER BY r.start_time DESC, r.run_id, m.name"
            return [tuple(row) for row in conn.execute(sql, params)]

        with self._lock:
            return self._guarded(run)

    def close(self) -> None:
        with self._lock:
            self._db.close()
