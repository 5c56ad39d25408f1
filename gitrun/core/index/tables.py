"""Counts and aggregates over the index, for tables of runs (the web UI's runs table).

search_runs answers "which runs, in what order"; a table of runs also needs "how
many", "which columns vary", "how many children has each parent" and "mean and
spread per group".  Each function here is one or two SQL statements over the same
compiled search as :mod:`run_query` (so a filter means exactly what it means to
search_runs), run inside :meth:`RunIndex.read`'s read transaction.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from gitrun.core.index import run_query
from gitrun.core.index.grammar import Clause, OrderKey
from gitrun.core.index.query import RunSearch, View

R = TypeVar("R")
PARENT_TAG = "mlflow.parentRunId"
_ALL = 2**62  # "no limit" for compile_runs (SQLite's LIMIT takes a signed 64-bit integer)
_TABLES = {"param": "params", "metric": "metrics", "tag": "tags"}


@dataclass(frozen=True)
class ExperimentActivity:
    """Runs of one experiment: how many (and how many are RUNNING), and the last activity."""

    experiment_id: str
    runs: int
    running: int
    last_start_time: int | None
    last_end_time: int | None


@dataclass(frozen=True)
class KeyStats:
    """One param, metric or tag key over a set of runs."""

    key: str
    runs: int
    """Runs that have the key."""
    distinct: int
    """Distinct values among them."""


@dataclass(frozen=True)
class GroupStats:
    """The runs whose param has one value, and each metric's mean and spread over them."""

    value: str | None
    """The param's value; None for the runs that lack the param."""
    runs: int
    metrics: dict[str, tuple[int, float, float, float, float]]
    """metric key -> (count, mean, standard deviation, min, max) over the group's non-NaN values."""


def key_ids(conn: sqlite3.Connection, search: RunSearch) -> dict[str, int]:
    """The ``keys`` ids of the keys a search names (the mapping compile_runs needs)."""
    names = sorted(
        {c.key for c in search.clauses if c.entity in _TABLES}
        | {k.key for k in search.order_by if k.entity in _TABLES}
    )
    if not names:
        return {}
    marks = ",".join("?" * len(names))
    return dict(conn.execute(f"SELECT key, kid FROM keys WHERE key IN ({marks})", names))  # noqa: S608


def _matching(conn: sqlite3.Connection, search: RunSearch, limit: int = _ALL) -> tuple[str, list[Any]]:
    """A SELECT whose first column (``rid``) lists the runs matching ``search``."""
    return run_query.compile_runs(conn, search, key_ids(conn, search), limit, 0)


def count_runs(conn: sqlite3.Connection, search: RunSearch) -> int:
    """How many runs match ``search`` (its order is ignored)."""
    unordered = RunSearch(search.experiment_ids, search.clauses, (), search.view)
    if not unordered.experiment_ids:
        return 0
    sql, params = _matching(conn, unordered)
    return int(conn.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0])  # noqa: S608


def page(
    conn: sqlite3.Connection, search: RunSearch, limit: int, offset: int, make: Callable[..., R]
) -> list[R]:
    """The runs at ``offset .. offset + limit`` of a search, in its order."""
    return run_query.fetch_runs(conn, search, limit, offset, None, make)


def experiment_activity(conn: sqlite3.Connection, view: View = "active") -> list[ExperimentActivity]:
    """Per experiment: the number of runs in ``view``, RUNNING ones, last start and end."""
    where = "" if view == "all" else "WHERE lifecycle_stage = ?"
    sql = (
        "SELECT experiment_id, count(*), sum(status = 'RUNNING'), max(start_time), max(end_time) "  # noqa: S608
        f"FROM runs {where} GROUP BY experiment_id"
    )
    rows = conn.execute(sql, () if view == "all" else (view,))
    return [ExperimentActivity(e, n, int(running or 0), start, end) for e, n, running, start, end in rows]


def sample_rids(conn: sqlite3.Connection, search: RunSearch, sample: int) -> list[int]:
    """Row ids of the first ``sample`` runs matching ``search``, in its order."""
    sql, params = _matching(conn, search, sample)
    return [row[0] for row in conn.execute(sql, params)]


def key_stats(conn: sqlite3.Connection, rids: Sequence[int], entity: str) -> list[KeyStats]:
    """Keys of ``entity`` (param, metric or tag) among the runs ``rids`` (from
    :func:`sample_rids`): how many of them have each key, and its number of distinct
    values (NaN counts as one value), keys sorted."""
    table = _TABLES[entity]
    rows = conn.execute(
        f"SELECT k.key, count(*), count(DISTINCT coalesce(d.value, 'NaN')) FROM {table} d "  # noqa: S608
        "JOIN keys k ON k.kid = d.kid WHERE d.rid IN (SELECT value FROM json_each(?)) "
        "GROUP BY d.kid ORDER BY k.key",
        (json.dumps(list(rids)),),
    ).fetchall()
    return [KeyStats(key, n, distinct) for key, n, distinct in rows]


def children_counts(
    conn: sqlite3.Connection, parent_ids: Sequence[str], view: View = "active"
) -> dict[str, int]:
    """How many runs (in ``view``) name each of ``parent_ids`` as their parent."""
    if not parent_ids:
        return {}
    kid = conn.execute("SELECT kid FROM keys WHERE key = ?", (PARENT_TAG,)).fetchone()
    if kid is None:
        return {}
    stage = "" if view == "all" else "AND r.lifecycle_stage = ?"
    out: dict[str, int] = {}
    for start in range(0, len(parent_ids), run_query._CHUNK):
        part = list(parent_ids[start : start + run_query._CHUNK])
        sql = (
            "SELECT t.value, count(*) FROM tags t JOIN runs r ON r.rid = t.rid "  # noqa: S608
            f"WHERE t.kid = ? AND t.value IN ({','.join('?' * len(part))}) {stage} GROUP BY t.value"
        )
        out.update(conn.execute(sql, [kid[0], *part, *([] if view == "all" else [view])]))
    return out


def best_child(
    conn: sqlite3.Connection,
    parent_id: str,
    experiment_ids: tuple[str, ...],
    metric: str,
    ascending: bool,
    view: View,
    make: Callable[..., R],
) -> R | None:
    """The child of ``parent_id`` with the lowest (``ascending``) or highest ``metric``."""
    search = RunSearch(
        experiment_ids,
        (Clause("tag", PARENT_TAG, "=", parent_id), Clause("metric", metric, "IS NOT NULL", None)),
        (OrderKey("metric", metric, ascending),),
        view,
    )
    found = run_query.fetch_runs(conn, search, 1, 0, None, make)
    return found[0] if found else None


def group_stats(
    conn: sqlite3.Connection, search: RunSearch, param: str, metrics: Iterable[str], limit: int
) -> list[GroupStats]:
    """The first ``limit`` matching runs grouped by their value of ``param``.

    Groups are sorted by value (runs lacking the param last); each metric's mean and
    population standard deviation skip NaN values (stored as NULL).
    """
    sql, params = _matching(conn, search, limit)
    pkid = conn.execute("SELECT kid FROM keys WHERE key = ?", (param,)).fetchone()
    wanted = list(dict.fromkeys(metrics))
    group_cte = (
        f"WITH g AS MATERIALIZED (SELECT m.rid AS rid, p.value AS value FROM ({sql}) m "  # noqa: S608
        "LEFT JOIN params p ON p.rid = m.rid AND p.kid = ?) "
    )
    params = [*params, pkid[0] if pkid else None]
    sizes = dict(conn.execute(f"{group_cte}SELECT value, count(*) FROM g GROUP BY value", params))  # noqa: S608
    stats: dict[str | None, dict[str, tuple[int, float, float, float, float]]] = {v: {} for v in sizes}
    if wanted:
        marks = ",".join("?" * len(wanted))
        rows = conn.execute(
            f"{group_cte}SELECT g.value, k.key, count(d.value), avg(d.value), avg(d.value * d.value), "  # noqa: S608
            "min(d.value), max(d.value) FROM g JOIN metrics d ON d.rid = g.rid "
            f"JOIN keys k ON k.kid = d.kid WHERE k.key IN ({marks}) GROUP BY g.value, d.kid",
            [*params, *wanted],
        )
        for value, key, n, mean, square, low, high in rows:
            if n:
                spread = math.sqrt(max(square - mean * mean, 0.0))
                stats[value][key] = (n, mean, spread, low, high)
    order = sorted(sizes, key=lambda v: (v is None, v or ""))
    return [GroupStats(value, sizes[value], stats[value]) for value in order]
