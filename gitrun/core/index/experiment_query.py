"""search_experiments over the index: MLflow's experiment grammar and ordering.

Default order ``creation_time DESC, experiment_id ASC``; ``experiment_id DESC`` is
added as the last tie-breaker unless the order names it.  Ids order as numbers,
as in MLflow's SQL store where they are integers.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from gitrun.core.index.grammar import Clause, OrderKey
from gitrun.core.index.query import ExperimentSearch, text_condition
from gitrun.core.index.rows import IndexedExperiment

_COLUMNS = {name: f"e.{name}" for name in ("experiment_id", "name", "creation_time", "last_update_time")}
_DEFAULT_ORDER = (OrderKey("attribute", "creation_time", False), OrderKey("attribute", "experiment_id", True))
_TAGGED = "SELECT experiment_id FROM experiment_tags WHERE key = ?"


def _condition(clause: Clause, params: list[Any]) -> str:
    if clause.entity == "attribute":
        return text_condition(_COLUMNS[clause.key], clause, params)
    params.append(clause.key)
    if clause.comparator == "IS NULL":
        return f"e.experiment_id NOT IN ({_TAGGED})"
    if clause.comparator == "IS NOT NULL":
        return f"e.experiment_id IN ({_TAGGED})"
    return f"e.experiment_id IN ({_TAGGED} AND {text_condition('value', clause, params)})"


def _order_terms(key: str, ascending: bool) -> list[str]:
    direction = "ASC" if ascending else "DESC"
    if key == "experiment_id":
        return [f"e.number {direction}", f"e.experiment_id {direction}"]
    return [f"{_COLUMNS[key]} {direction}"]


def fetch_experiments(
    conn: sqlite3.Connection, search: ExperimentSearch, limit: int, offset: int
) -> list[IndexedExperiment]:
    """One page of an experiment search."""
    params: list[Any] = []
    where = ["1 = 1"]
    if search.view != "all":
        where.append("e.lifecycle_stage = ?")
        params.append(search.view)
    where += [_condition(clause, params) for clause in search.clauses]
    keys = search.order_by or _DEFAULT_ORDER
    order = [term for k in keys for term in _order_terms(k.key, k.ascending)]
    if all(k.key != "experiment_id" for k in keys):
        order += _order_terms("experiment_id", False)
    sql = (
        "SELECT e.experiment_id, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, "  # noqa: S608
        f"e.last_update_time, e.tags FROM experiments e WHERE {' AND '.join(where)} "
        f"ORDER BY {', '.join(order)} LIMIT ? OFFSET ?"
    )
    return [
        IndexedExperiment(eid, name, loc, stage, created, updated, json.loads(tags))
        for eid, name, loc, stage, created, updated, tags in conn.execute(sql, [*params, limit, offset])
    ]
