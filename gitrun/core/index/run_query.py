"""search_runs over the index: MLflow's matching and ordering, planned for speed.

Matching, as MLflow does it: a run lacking a key never matches a comparison on
that key, ``!=`` included; a NaN metric (stored as NULL) matches only ``!=``.
Ordering: present values, then NaN, then missing, in both directions; ties are
broken by ``start_time DESC`` then ``run_id ASC``.

Plan: one clause *drives*: its matching runs come straight from a ``(key, value)``
index, and every other clause is checked per candidate by a primary-key probe.
The driver is the clause with the fewest matches, counted beforehand with a
shrinking cap (a selective clause counted first makes the other counts nearly
free).  Without an indexable clause the experiments' runs are scanned in
``start_time`` order, which is also the default order.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Hashable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from gitrun.core.allocation import collector_paused
from gitrun.core.index.grammar import Clause
from gitrun.core.index.query import PLAIN_OPS, RunSearch, text_condition
from gitrun.core.index.rows import search_result, unpack_values

R = TypeVar("R")
_TABLES = {"metric": "metrics", "param": "params", "tag": "tags"}
_COLUMNS = {
    name: f"r.{name}"
    for name in ("run_id", "run_name", "status", "user_id", "artifact_uri", "start_time", "end_time")
}
_DATASET_COLUMNS = {"name": "name", "digest": "digest", "context": "context"}
_COUNT_CAP = 20_000
_RUN_COLUMNS = (
    "r.rid, r.run_id, r.experiment_id, r.run_name, r.status, r.user_id, r.artifact_uri, "
    "r.lifecycle_stage, r.start_time, r.end_time"
)
_PAGE_DATA = "SELECT rid, data, metric_values FROM run_data WHERE rid IN ({})"
_CHUNK = 500  # ids per IN list, well below SQLite's limit on bound parameters


@dataclass
class _Compiled:
    """One clause: how each candidate run is checked, and (when an index can list
    the matching runs) a query listing them.

    A check is either a WHERE condition on ``r`` or, for a key of a run's params,
    tags or metrics, a ``CROSS JOIN`` on that key's row (one row at most: the key is
    part of the primary key); CROSS keeps ``runs`` the outer loop, so each check is
    one primary-key probe per candidate, without a subquery's overhead.
    """

    check: str
    check_params: list[Any]
    join: bool = False
    source: str | None = None
    source_params: list[Any] = field(default_factory=list)
    rank: int = 2  # counting order: likely-selective clauses first
    table: str | None = None  # for a key's clause: its table, and its test on alias `d`
    test: str = ""


def _value_test(clause: Clause, alias: str, params: list[Any]) -> str:
    """The condition on ``<alias>.value`` for a param, tag or metric clause."""
    if clause.comparator == "IS NOT NULL":
        return "1"
    if clause.entity == "metric":
        assert clause.comparator in PLAIN_OPS
        params.append(clause.value)
        # NaN is NULL: false in every comparison, but MLflow lets it through `!=`.
        if clause.comparator == "!=":
            return f"({alias}.value != ? OR {alias}.value IS NULL)"
        return f"{alias}.value {clause.comparator} ?"
    return text_condition(f"{alias}.value", clause, params)


def _compile(clause: Clause, kids: Mapping[str, int], alias: str) -> _Compiled:
    entity, op, key = clause.entity, clause.comparator, clause.key
    params: list[Any] = []
    if entity == "attribute":
        check = text_condition(_COLUMNS[key], clause, params)
        if key == "run_id" and op in ("=", "IN"):
            source = f"SELECT rid FROM runs r WHERE {check}"  # noqa: S608 - fixed fragments
            return _Compiled(check, params, source=source, source_params=params, rank=0)
        return _Compiled(check, params)
    if entity == "dataset":
        test = text_condition(_DATASET_COLUMNS[key], clause, params)
        source = f"SELECT rid FROM datasets WHERE {test}"  # noqa: S608 - fixed fragments
        return _Compiled(f"r.rid IN ({source})", params, source=source, source_params=params, rank=0)
    table = _TABLES[entity]
    # A key no run has resolves to NULL: `kid = NULL` matches nothing, as it should.
    kid = kids.get(key)
    if op == "IS NULL":
        absent = f"NOT EXISTS (SELECT 1 FROM {table} x WHERE x.rid = r.rid AND x.kid = ?)"  # noqa: S608
        return _Compiled(absent, [kid])
    check_params: list[Any] = [kid]
    # `{rid}`: the column the probe joins on (the driving table's, see compile_runs).
    check = f"CROSS JOIN {table} {alias} ON {alias}.rid = {{rid}} AND {alias}.kid = ? AND "
    check += _value_test(clause, alias, check_params)
    source_params: list[Any] = [kid]
    test = _value_test(clause, "d", source_params)
    source = f"SELECT d.rid FROM {table} d WHERE d.kid = ? AND {test}"  # noqa: S608 - fixed fragments
    compiled = _Compiled(check, check_params, True, source, source_params, rank=1 if op == "=" else 2)
    compiled.table, compiled.test = table, test
    return compiled


def _driver(conn: sqlite3.Connection, compiled: list[_Compiled], page_end: int | None) -> int | None:
    """Index of the clause to drive the search with; None to scan the runs instead.

    The driver is the clause with the fewest matching runs.  ``page_end`` (offset +
    limit) is given when the order is the default one, newest first: the runs can
    then be scanned in that order from an index, stopping once the page is full.
    With ``m`` of ``n`` runs matching, that scan reads about ``page_end * n / m``
    runs, each checked by a probe per clause (~4 times a driver row's cost), while
    a driver reads ``m`` rows and sorts them: drive only when that is cheaper.
    """
    order = sorted((c.rank, i) for i, c in enumerate(compiled) if c.source is not None)
    if not order:
        return None
    if len(order) == 1 and page_end is None:
        return order[0][1]
    best, best_count = order[0][1], _COUNT_CAP
    for _, i in order:
        c = compiled[i]
        sql = f"SELECT count(*) FROM ({c.source} LIMIT ?)"  # noqa: S608 - fixed fragments
        count = conn.execute(sql, [*c.source_params, best_count]).fetchone()[0]
        if count < best_count:
            best, best_count = i, count
    if page_end is not None:
        runs = conn.execute("SELECT MAX(rid) FROM runs").fetchone()[0] or 0  # ~ the number of runs
        if best_count * best_count > 4 * page_end * runs:
            return None
    return best


def _order_terms(search: RunSearch, kids: Mapping[str, int]) -> tuple[list[str], list[str], list[Any]]:
    """ORDER BY terms, with the LEFT JOINs (and their parameters) they need."""
    joins: list[str] = []
    params: list[Any] = []
    order: list[str] = []
    for i, key in enumerate(search.order_by):
        direction = "ASC" if key.ascending else "DESC"
        if key.entity in _TABLES:
            alias = f"o{i}"
            joins.append(
                f"LEFT JOIN {_TABLES[key.entity]} {alias} ON {alias}.rid = r.rid AND {alias}.kid = ?"
            )
            params.append(kids.get(key.key))
            order.append(f"{alias}.rid IS NULL")  # missing: last
            if key.entity == "metric":
                order.append(f"{alias}.value IS NULL")  # NaN: after values, before missing
            order.append(f"{alias}.value {direction}")
        elif key.key == "start_time":
            order.append(f"r.start_time {direction}")  # never NULL in the index
        else:
            column = _COLUMNS[key.key]
            order += [f"{column} IS NULL", f"{column} {direction}"]
    named = {(k.entity, k.key) for k in search.order_by}
    if ("attribute", "start_time") not in named:
        order.append("r.start_time DESC")
    if ("attribute", "run_id") not in named:
        order.append("r.run_id ASC")
    return joins, order, params


def compile_runs(
    conn: sqlite3.Connection,
    search: RunSearch,
    kids: Mapping[str, int],
    limit: int,
    offset: int,
    plans: MutableMapping[Hashable, int | None] | None = None,
) -> tuple[str, list[Any]]:
    """The SELECT of the run ids on one page, with its parameters.

    ``kids`` maps the keys the search names to their ids in the ``keys`` table.
    ``plans`` remembers driver choices (they only depend on the data, which the
    caller clears it for when the index changes; a stale choice is only slower).
    """
    compiled = [_compile(clause, kids, f"f{i}") for i, clause in enumerate(search.clauses)]
    page_end = None if search.order_by else limit + offset
    plan_key = (search.clauses, page_end)
    if plans is not None and plan_key in plans:
        driver = plans[plan_key]
    else:
        driver = _driver(conn, compiled, page_end)
        if plans is not None:
            plans[plan_key] = driver
    lead = compiled[driver] if driver is not None else None
    # A key's clause drives from the outside: its (key, value) index range is the
    # outer loop, the other clauses probe by run id, and `runs` is read last, for
    # the survivors only.  Other drivers (run ids, datasets) list ids for `runs`.
    outer = lead is not None and lead.table is not None
    rid = "d.rid" if outer else "r.rid"
    params: list[Any] = []
    joins = []
    for i, c in enumerate(compiled):
        if c.join and i != driver:
            joins.append(c.check.format(rid=rid))
            params += c.check_params
    where: list[str] = []
    if lead is not None and lead.table is not None:
        head = f"FROM {lead.table} d {' '.join(joins)} CROSS JOIN runs r ON r.rid = d.rid"
        where.append(f"d.kid = ? AND {lead.test}")
    else:
        head = f"FROM runs r {' '.join(joins)}"
        if lead is not None:
            where.append(f"r.rid IN ({lead.source})")
    order_joins, order, order_params = _order_terms(search, kids)
    params += order_params
    if lead is not None:
        params += lead.source_params
    # With a driver, `+` keeps the planner off the experiment index: it would scan.
    plus = "+" if lead is not None else ""
    where.append(f"{plus}r.experiment_id IN ({','.join('?' * len(search.experiment_ids))})")
    params += search.experiment_ids
    if search.view != "all":
        where.append(f"{plus}r.lifecycle_stage = ?")
        params.append(search.view)
    for i, c in enumerate(compiled):
        if not c.join and i != driver:
            where.append(c.check)
            params += c.check_params
    sql = (
        f"SELECT {_RUN_COLUMNS} {head} {' '.join(order_joins)} WHERE {' AND '.join(where)} "
        f"ORDER BY {', '.join(order)} LIMIT ? OFFSET ?"
    )
    return sql, [*params, limit, offset]


def fetch_runs(
    conn: sqlite3.Connection,
    search: RunSearch,
    limit: int,
    offset: int,
    plans: MutableMapping[Hashable, int | None] | None = None,
    make: Callable[..., R] = search_result,  # type: ignore[assignment]  # R is RunRecord by default
) -> list[R]:
    """The runs on one page: their info columns in order, then their data in bulk.

    Sorting the slim ``runs`` columns only keeps the sort small; a run's params,
    tags and metrics are read only when the run is on the page.  Call inside one
    read transaction (key ids must not change between the statements).  ``make``
    builds each result from :class:`RunRecord`'s first twelve fields, in order (the tracking
    layer builds its entities directly).
    """
    if not search.experiment_ids:
        return []
    names = sorted(
        {c.key for c in search.clauses if c.entity in _TABLES}
        | {k.key for k in search.order_by if k.entity in _TABLES}
    )
    kids: dict[str, int] = {}
    if names:
        marks = ",".join("?" * len(names))
        kids.update(conn.execute(f"SELECT key, kid FROM keys WHERE key IN ({marks})", names))  # noqa: S608
    sql, params = compile_runs(conn, search, kids, limit, offset, plans)
    page = conn.execute(sql, params).fetchall()
    results: list[R] = []
    with collector_paused():  # a page of runs is thousands of acyclic objects
        for start in range(0, len(page), _CHUNK):
            part = page[start : start + _CHUNK]
            ids = [row[0] for row in part]
            data = dict.fromkeys(ids)
            for rid, text, values in conn.execute(_PAGE_DATA.format(",".join("?" * len(ids))), ids):
                data[rid] = (text, values)
            results.extend(_build(part, data, make))
    return results


def _build(
    runs: list[Any], data: Mapping[int, tuple[str, bytes] | None], make: Callable[..., R]
) -> Iterator[R]:
    """A result for each row of ``_RUN_COLUMNS``, with its ``run_data`` by rid."""
    documents = [d for d in (data[row[0]] for row in runs) if d is not None]
    if len(documents) != len(runs):
        raise sqlite3.DatabaseError("run_data: a run has no row")  # rebuilds the index
    # One decode for all the rows: per-call overhead is most of a small document's cost.
    datas = json.loads("[" + ",".join(text for text, _ in documents) + "]")
    values = unpack_values(b"".join(packed for _, packed in documents))
    if len(values) != sum(len(names) for _, _, names in datas):
        raise sqlite3.DatabaseError("run_data: metric names and values disagree")  # rebuilds the index
    # zip stops at the end of a run's names without taking a value from the next run.
    following = iter(values)
    for (_, run_id, exp, name, status, user, uri, stage, begin, end), (params, tags, names) in zip(
        runs, datas, strict=True
    ):
        yield make(
            run_id, exp, name, status, user, uri, stage, begin, end, params, tags, dict(zip(names, following))
        )
