"""Bringing the index up to date with the records ref by diffing git trees.

The diff walks the old and the new records tree side by side and descends only
into subtrees whose object ids differ: ``runs/``, then the three fan-out levels,
then the run directories that changed, and ``experiments/``.  After one new run
at 100k runs that is a dozen tree reads and the run's four record files, so the
cost follows the change, not the history.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from gitrun.core.git.trees import diff_trees
from gitrun.core.index import bulk, rows, schema
from gitrun.core.records import changes as run_changes
from gitrun.core.records import layout, values
from gitrun.core.records.store import RecordStore
from gitrun.errors import GitrunError

_BATCH = 2000  # runs read before they are written: bounds memory on a full build


@dataclass
class UpdateStats:
    """What one update did (for benchmarks and logs)."""

    full: bool = False
    runs_written: int = 0
    runs_removed: int = 0
    experiments_written: int = 0


def changed_runs(repo: Repository, old: Oid | None, new: Oid | None) -> Iterator[tuple[str, Oid | None]]:
    """``(run_id, new run tree or None)`` for every run dir that differs below ``runs/``."""
    for run_id, _, tree in run_changes.changed_runs(repo, old, new):
        yield run_id, tree


def changed_experiments(
    repo: Repository, old: Oid | None, new: Oid | None
) -> Iterator[tuple[str, Oid | None]]:
    """``(experiment_id, new blob or None)`` for every experiment file that differs."""
    for change in diff_trees(repo, old, new, depth=0):
        if not change.path.endswith(".yaml"):
            continue
        a = change.old.oid if change.old is not None and not change.old.is_tree else None
        b = change.new.oid if change.new is not None and not change.new.is_tree else None
        if a != b:
            yield change.path[: -len(".yaml")], b


def _subtree(repo: Repository, root: Oid | None, name: str) -> Oid | None:
    if root is None:
        return None
    entry = repo.read_tree(root).get(name)
    return entry.oid if entry is not None and entry.is_tree else None


class IndexWriter:
    """Writes runs and experiments into the index (inside the caller's transaction)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._kids = dict(conn.execute("SELECT key, kid FROM keys"))
        self._next_rid = (conn.execute("SELECT MAX(rid) FROM runs").fetchone()[0] or 0) + 1

    def _kid(self, key: str) -> int:
        kid = self._kids.get(key)
        if kid is None:
            kid = self.conn.execute("INSERT INTO keys (key) VALUES (?)", (key,)).lastrowid
            assert kid is not None
            self._kids[key] = kid
        return kid

    def _rids(self, run_ids: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(run_ids), 500):
            part = run_ids[start : start + 500]
            marks = ",".join("?" * len(part))
            found.update(self.conn.execute(f"SELECT run_id, rid FROM runs WHERE run_id IN ({marks})", part))  # noqa: S608 - placeholders only
        return found

    def remove_runs(self, run_ids: list[str]) -> None:
        rids = list(self._rids(run_ids).values())
        for table in ("params", "tags", "metrics", "datasets", "logged_models", "run_data", "runs"):
            self.conn.executemany(f"DELETE FROM {table} WHERE rid = ?", [(r,) for r in rids])  # noqa: S608 - fixed names

    def put_runs(self, batch: list[tuple[rows.RunRow, Oid]]) -> None:
        existing = self._rids([row.record.run_id for row, _ in batch])
        self.remove_runs(list(existing))
        run_rows, data_rows, param_rows, tag_rows, metric_rows, input_rows = [], [], [], [], [], []
        model_rows: list[tuple[int, str, str]] = []
        for row, tree in batch:
            run = row.record
            rid = existing.get(run.run_id)
            if rid is None:
                rid = self._next_rid
                self._next_rid += 1
            data = json.dumps([run.params, run.tags, list(run.metrics)], separators=(",", ":"))
            run_rows.append(
                (
                    rid,
                    run.run_id,
                    tree,
                    run.experiment_id,
                    run.run_name,
                    run.status,
                    run.user_id,
                    run.artifact_uri,
                    run.lifecycle_stage,
                    run.start_time,
                    run.end_time,
                )
            )
            data_rows.append((rid, data, rows.pack_values(run.metrics.values())))
            kid = self._kid
            param_rows += [(rid, kid(k), v) for k, v in run.params.items()]
            tag_rows += [(rid, kid(k), v) for k, v in run.tags.items()]
            metric_rows += [(rid, kid(k), rows.sql_metric(v)) for k, v in run.metrics.items()]
            input_rows += [(rid, name, digest, context) for name, digest, context in row.inputs]
            model_rows += [(rid, model_id, name) for model_id, name in row.models]
        self.conn.executemany("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?)", run_rows)
        self.conn.executemany("INSERT INTO run_data VALUES (?,?,?)", data_rows)
        self.conn.executemany("INSERT INTO params VALUES (?,?,?)", param_rows)
        self.conn.executemany("INSERT INTO tags VALUES (?,?,?)", tag_rows)
        self.conn.executemany("INSERT INTO metrics VALUES (?,?,?)", metric_rows)
        self.conn.executemany("INSERT INTO datasets VALUES (?,?,?,?)", input_rows)
        self.conn.executemany("INSERT INTO logged_models VALUES (?,?,?)", model_rows)

    def put_experiment(self, exp: rows.IndexedExperiment, blob: Oid) -> None:
        number = int(exp.experiment_id) if exp.experiment_id.isdigit() else None
        self.remove_experiment(exp.experiment_id)
        self.conn.execute(
            "INSERT INTO experiments VALUES (?,?,?,?,?,?,?,?,?)",
            (
                exp.experiment_id,
                number,
                blob,
                exp.name,
                exp.artifact_location,
                exp.lifecycle_stage,
                exp.creation_time,
                exp.last_update_time,
                json.dumps(exp.tags, separators=(",", ":")),
            ),
        )
        self.conn.executemany(
            "INSERT INTO experiment_tags VALUES (?,?,?)",
            [(exp.experiment_id, k, v) for k, v in exp.tags.items()],
        )

    def remove_experiment(self, experiment_id: str) -> None:
        self.conn.execute("DELETE FROM experiments WHERE experiment_id = ?", (experiment_id,))
        self.conn.execute("DELETE FROM experiment_tags WHERE experiment_id = ?", (experiment_id,))

    def clear(self) -> None:
        for table in schema.TABLES:
            if table != "meta":  # the schema version and the indexed tip stay
                self.conn.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
        self._kids.clear()
        self._next_rid = 1


def _record_files(
    repo: Repository, runs: list[tuple[str, Oid]]
) -> Iterator[tuple[str, Oid, dict[str, bytes] | GitrunError]]:
    """Each run's record files (or why they cannot be read): in bulk through git when many."""
    done = 0
    if len(runs) >= bulk.MIN_RUNS and bulk.available():
        try:
            for item in bulk.record_files(repo, runs):
                yield item
                done += 1
            return
        except GitrunError:
            pass  # finish with gitrun's own reader
    for run_id, tree in runs[done:]:
        try:
            files: dict[str, bytes] | GitrunError = values.record_files(repo, tree)
        except GitrunError as exc:
            files = exc
        yield run_id, tree, files


DAMAGED_KEY = "damaged"
"""The ``meta`` row listing the runs left out because their record cannot be read."""


def damaged_runs(conn: sqlite3.Connection) -> dict[str, str]:
    """``run_id -> reason`` of the runs the index left out (as of its tip)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (DAMAGED_KEY,)).fetchone()
    if not row or not row[0]:
        return {}
    try:
        found = json.loads(row[0])
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def _root_of(store: RecordStore, tip: Oid | None) -> Oid | None:
    return store.root(tip) if tip is not None else None


def apply(
    conn: sqlite3.Connection, store: RecordStore, indexed_tip: Oid | None, tip: Oid | None
) -> UpdateStats:
    """Change the index from reflecting ``indexed_tip`` to reflecting ``tip``.

    When the indexed commit cannot be read (pruned, from another repository, not a
    commit at all), the index is cleared and rebuilt from ``tip``.
    """
    repo = store.repo
    writer = IndexWriter(conn)
    stats = UpdateStats()
    try:
        old_root = _root_of(store, indexed_tip)
    except GitrunError:
        old_root = None
        indexed_tip = None
    if indexed_tip is None:
        writer.clear()
        stats.full = True
    new_root = _root_of(store, tip)

    old_exps, new_exps = (
        _subtree(repo, old_root, layout.EXPERIMENTS_DIR),
        _subtree(repo, new_root, layout.EXPERIMENTS_DIR),
    )
    for experiment_id, blob in changed_experiments(repo, old_exps, new_exps):
        exp = rows.read_experiment(repo, experiment_id, blob) if blob is not None else None
        if exp is None:
            writer.remove_experiment(experiment_id)
        else:
            writer.put_experiment(exp, blob)  # type: ignore[arg-type]  # blob is set when exp is
            stats.experiments_written += 1

    old_runs, new_runs = _subtree(repo, old_root, layout.RUNS_DIR), _subtree(repo, new_root, layout.RUNS_DIR)
    changes = list(changed_runs(repo, old_runs, new_runs))
    present = [(run_id, tree) for run_id, tree in changes if tree is not None]
    gone = [run_id for run_id, tree in changes if tree is None]
    damaged = {} if stats.full else damaged_runs(conn)
    for run_id, _tree in changes:
        damaged.pop(run_id, None)
    batch: list[tuple[rows.RunRow, Oid]] = []
    for run_id, tree, files in _record_files(repo, present):
        try:
            if isinstance(files, GitrunError):
                raise files
            run = rows.parse_run(run_id, files)
        except GitrunError as exc:
            damaged[run_id] = exc.message
            run = None
        if run is None:
            gone.append(run_id)  # unreadable now: whatever was indexed before goes too
            continue
        batch.append((run, tree))
        if len(batch) >= _BATCH:
            writer.put_runs(batch)
            stats.runs_written += len(batch)
            batch = []
    writer.put_runs(batch)
    stats.runs_written += len(batch)
    writer.remove_runs(gone)
    stats.runs_removed = len(gone)
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        (DAMAGED_KEY, json.dumps(damaged, sort_keys=True)),
    )
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('tip', ?)", (tip,))
    return stats
