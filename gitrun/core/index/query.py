"""Compiling parsed searches to SQL over the index, and reading the results back.

Every value is a bound parameter; the SQL text is assembled only from fixed
fragments chosen by entity, key kind and comparator.  Matching follows MLflow:

* a run lacking a key never matches a comparison on it, ``!=`` included;
* a NaN metric (stored as NULL) matches only ``!=``;
* ``=``/``!=``/``LIKE`` are case-sensitive (LIKE runs as GLOB, SQLite's
  case-sensitive matcher, on a translated pattern); ``ILIKE`` uses Python's
  Unicode-aware case folding through the ``gitrun_ilike`` SQL function;
* order keys sort present values, then NaN, then missing, in both directions;
  ties are broken by ``start_time DESC`` then ``run_id ASC``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Literal

from gitrun.core.index.grammar import Clause, OrderKey
from gitrun.core.index.rows import IndexedExperiment, IndexedRun

View = Literal["active", "deleted", "all"]

_KID = "(SELECT kid FROM keys WHERE key = ?)"
_TABLES = {"metric": "metrics", "param": "params", "tag": "tags"}
_RUN_COLUMNS = {name: f"r.{name}" for name in (
    "run_id", "run_name", "status", "user_id", "artifact_uri", "start_time", "end_time")}
_EXPERIMENT_COLUMNS = {name: f"e.{name}" for name in (
    "experiment_id", "name", "creation_time", "last_update_time")}
_DATASET_COLUMNS = {"name": "name", "digest": "digest", "context": "context"}
_PLAIN_OPS = frozenset(("=", "!=", "<", "<=", ">", ">="))
_RUN_FIELDS = ("r.run_id, r.experiment_id, r.run_name, r.status, r.user_id, r.artifact_uri, "
               "r.lifecycle_stage, r.start_time, r.end_time, r.data")


@dataclass(frozen=True)
class RunSearch:
    """A parsed search_runs request, minus paging."""

    experiment_ids: tuple[str, ...]
    clauses: tuple[Clause, ...] = ()
    order_by: tuple[OrderKey, ...] = ()
    view: View = "active"


@dataclass(frozen=True)
class ExperimentSearch:
    """A parsed search_experiments request, minus paging."""

    clauses: tuple[Clause, ...] = ()
    order_by: tuple[OrderKey, ...] = ()
    view: View = "active"


def like_to_glob(pattern: str) -> str:
    """The GLOB pattern matching what a LIKE pattern matches (no escape character)."""
    out = []
    for char in pattern:
        if char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        elif char in "*?[":
            out.append(f"[{char}]")
        else:
            out.append(char)
    return "".join(out)


def _text_condition(column: str, clause: Clause, params: list[Any]) -> str:
    """``column <op> value`` for string comparators (and lists)."""
    op, value = clause.comparator, clause.value
    if op in ("IN", "NOT IN"):
        assert isinstance(value, tuple)
        params.extend(value)
        return f"{column} {op} ({','.join('?' * len(value))})"
    if op == "LIKE":
        params.append(like_to_glob(str(value)))
        return f"{column} GLOB ?"
    if op == "ILIKE":
        params.append(value)
        return f"gitrun_ilike(?, {column})"
    assert op in _PLAIN_OPS
    params.append(value)
    return f"{column} {op} ?"


def _run_condition(clause: Clause, params: list[Any]) -> str:
    entity, op = clause.entity, clause.comparator
    if entity == "attribute":
        return _text_condition(_RUN_COLUMNS[clause.key], clause, params)
    if entity == "dataset":
        inner = _text_condition(_DATASET_COLUMNS[clause.key], clause, params)
        return f"r.rid IN (SELECT rid FROM datasets WHERE {inner})"
    table = _TABLES[entity]
    params.append(clause.key)
    if op in ("IS NULL", "IS NOT NULL"):
        negate = "NOT " if op == "IS NULL" else ""
        return f"r.rid {negate}IN (SELECT rid FROM {table} WHERE kid = {_KID})"
    if entity == "metric":
        assert op in _PLAIN_OPS
        params.append(clause.value)
        # NaN is NULL: false for every comparison, but MLflow lets it through `!=`.
        test = "(value != ? OR value IS NULL)" if op == "!=" else f"value {op} ?"
    else:
        test = _text_condition("value", clause, params)
    return f"r.rid IN (SELECT rid FROM {table} WHERE kid = {_KID} AND {test})"


def compile_runs(search: RunSearch, limit: int, offset: int) -> tuple[str, list[Any]]:
    """The SELECT for one page of a run search, with its parameters."""
    joins: list[str] = []
    params: list[Any] = []
    order: list[str] = []
    for i, key in enumerate(search.order_by):
        direction = "ASC" if key.ascending else "DESC"
        if key.entity in _TABLES:
            alias = f"o{i}"
            joins.append(f"LEFT JOIN {_TABLES[key.entity]} {alias} ON {alias}.rid = r.rid AND {alias}.kid = {_KID}")
            params.append(key.key)
            order.append(f"{alias}.rid IS NULL")
            if key.entity == "metric":
                order.append(f"{alias}.value IS NULL")  # NaN: after values, before missing
            order.append(f"{alias}.value {direction}")
        else:
            column = _RUN_COLUMNS[key.key]
            order += [f"{column} IS NULL", f"{column} {direction}"]
    keys = {(k.entity, k.key) for k in search.order_by}
    if ("attribute", "start_time") not in keys:
        order += ["r.start_time IS NULL", "r.start_time DESC"]
    if ("attribute", "run_id") not in keys:
        order.append("r.run_id ASC")

    where = [f"r.experiment_id IN ({','.join('?' * len(search.experiment_ids))})"]
    params.extend(search.experiment_ids)
    if search.view != "all":
        where.append("r.lifecycle_stage = ?")
        params.append(search.view)
    where += [_run_condition(clause, params) for clause in search.clauses]
    params += [limit, offset]
    sql = (f"SELECT {_RUN_FIELDS} FROM runs r {' '.join(joins)} WHERE {' AND '.join(where)} "  # noqa: S608 - fixed fragments
           f"ORDER BY {', '.join(order)} LIMIT ? OFFSET ?")
    return sql, params


def fetch_runs(conn: sqlite3.Connection, search: RunSearch, limit: int, offset: int) -> list[IndexedRun]:
    """Run a compiled search; one query returns the runs with their data."""
    if not search.experiment_ids:
        return []
    sql, params = compile_runs(search, limit, offset)
    loads = json.loads
    out = []
    for run_id, exp, name, status, user, uri, stage, start, end, data in conn.execute(sql, params):
        run_params, tags, metrics = loads(data)
        out.append(IndexedRun(run_id, exp, name, status, user, uri, stage, start, end, run_params, tags, metrics))
    return out


def _experiment_condition(clause: Clause, params: list[Any]) -> str:
    if clause.entity == "attribute":
        return _text_condition(_EXPERIMENT_COLUMNS[clause.key], clause, params)
    params.append(clause.key)
    if clause.comparator in ("IS NULL", "IS NOT NULL"):
        negate = "NOT " if clause.comparator == "IS NULL" else ""
        return f"e.experiment_id {negate}IN (SELECT experiment_id FROM experiment_tags WHERE key = ?)"
    test = _text_condition("value", clause, params)
    return f"e.experiment_id IN (SELECT experiment_id FROM experiment_tags WHERE key = ? AND {test})"


def _experiment_order_column(key: str, direction: str) -> list[str]:
    # MLflow's SQL store keeps ids as integers: order them as numbers.
    if key == "experiment_id":
        return [f"e.number {direction}", f"e.experiment_id {direction}"]
    return [f"{_EXPERIMENT_COLUMNS[key]} {direction}"]


def fetch_experiments(conn: sqlite3.Connection, search: ExperimentSearch, limit: int,
                      offset: int) -> list[IndexedExperiment]:
    """One page of an experiment search (MLflow's default order and tie-breaker)."""
    params: list[Any] = []
    where = ["1 = 1"]
    if search.view != "all":
        where.append("e.lifecycle_stage = ?")
        params.append(search.view)
    where += [_experiment_condition(clause, params) for clause in search.clauses]
    keys = search.order_by or (OrderKey("attribute", "creation_time", False),
                               OrderKey("attribute", "experiment_id", True))
    order = [term for k in keys for term in _experiment_order_column(k.key, "ASC" if k.ascending else "DESC")]
    if all(k.key != "experiment_id" for k in keys):
        order += _experiment_order_column("experiment_id", "DESC")
    sql = ("SELECT e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, "  # noqa: S608 - fixed fragments
           f"e.last_update_time, e.tags FROM experiments e WHERE {' AND '.join(where)} "
           f"ORDER BY {', '.join(order)} LIMIT ? OFFSET ?")
    return [IndexedExperiment(eid, name, loc, stage, created, updated, json.loads(tags))
            for eid, name, loc, stage, created, updated, tags in conn.execute(sql, [*params, limit, offset])]
