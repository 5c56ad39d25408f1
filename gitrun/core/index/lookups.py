"""Small read-only questions the command line asks the index: how many runs match,
which keys exist, which runs carry a name, which run is the newest.

Each function takes a connection inside :meth:`RunIndex.read`'s read transaction and
uses the same compiled search as :mod:`run_query`, so a filter means here exactly what
it means to search_runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from gitrun.core.index import run_query
from gitrun.core.index.query import RunSearch

_ALL = 2**62  # "no limit" (SQLite's LIMIT takes a signed 64-bit integer)
_TABLES = {"param": "params", "metric": "metrics", "tag": "tags"}


def _kids(conn: sqlite3.Connection, search: RunSearch) -> dict[str, int]:
    names = sorted({c.key for c in search.clauses if c.entity in _TABLES})
    if not names:
        return {}
    marks = ",".join("?" * len(names))
    return dict(conn.execute(f"SELECT key, kid FROM keys WHERE key IN ({marks})", names))  # noqa: S608


def count_runs(conn: sqlite3.Connection, search: RunSearch) -> int:
    """How many runs match ``search`` (its order is ignored)."""
    unordered = RunSearch(search.experiment_ids, search.clauses, (), search.view)
    sql, params = run_query.compile_runs(conn, unordered, _kids(conn, unordered), _ALL, 0)
    return int(conn.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0])  # noqa: S608


def known_keys(conn: sqlite3.Connection, entity: str) -> list[str]:
    """Every key of an entity (``param``, ``metric`` or ``tag``) some run has, sorted."""
    table = _TABLES[entity]
    sql = f"SELECT k.key FROM keys k WHERE EXISTS (SELECT 1 FROM {table} t WHERE t.kid = k.kid)"  # noqa: S608
    return sorted(row[0] for row in conn.execute(sql))


def run_ids_named(conn: sqlite3.Connection, name: str, experiment_ids: Sequence[str] | None) -> list[str]:
    """Active runs called ``name``, newest first (in the given experiments, or any)."""
    sql = "SELECT run_id FROM runs WHERE run_name = ? AND lifecycle_stage = 'active'"
    params: list[object] = [name]
    if experiment_ids is not None:
        sql += f" AND experiment_id IN ({','.join('?' * len(experiment_ids))})"
        params += list(experiment_ids)
    return [row[0] for row in conn.execute(sql + " ORDER BY start_time DESC, run_id", params)]


def newest_run_ids(conn: sqlite3.Connection, experiment_ids: Sequence[str] | None, count: int) -> list[str]:
    """The ``count`` most recently started active runs, newest first."""
    sql = "SELECT run_id FROM runs WHERE lifecycle_stage = 'active'"
    params: list[object] = []
    if experiment_ids is not None:
        sql += f" AND experiment_id IN ({','.join('?' * len(experiment_ids))})"
        params += list(experiment_ids)
    sql += " ORDER BY start_time DESC, run_id LIMIT ?"
    return [row[0] for row in conn.execute(sql, [*params, count])]


def run_counts(conn: sqlite3.Connection) -> dict[str, tuple[int, int]]:
    """experiment id -> (active runs, deleted runs)."""
    out: dict[str, tuple[int, int]] = {}
    sql = "SELECT experiment_id, lifecycle_stage, count(*) FROM runs GROUP BY experiment_id, lifecycle_stage"
    for experiment_id, stage, count in conn.execute(sql):
        active, deleted = out.get(experiment_id, (0, 0))
        out[experiment_id] = (active + count, deleted) if stage == "active" else (active, deleted + count)
    return out
