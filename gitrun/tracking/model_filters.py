"""Filtering and ordering logged models in memory, with the search grammar's clauses.

Logged models are few next to runs (at most a handful per run), and a search reads
each candidate's record anyway, so the clauses are evaluated here in Python
rather than compiled to SQL.  The semantics are the run filters': a missing
metric, param or tag fails every comparison; LIKE is case-sensitive, ILIKE not.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

from gitrun.core.index.grammar import (
    Clause,
    OrderKey,
    like_to_regex,
    parse_logged_model_filter,
    parse_logged_model_order_by,
)
from gitrun.tracking import entities as ent

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def parse(filter_string: str | None) -> tuple[Clause, ...]:
    return parse_logged_model_filter(filter_string)


def _value(model: ent.LoggedModel, entity: str, key: str) -> Any:
    if entity == "metric":
        latest = {m.key: m.value for m in model.metrics}
        return latest.get(key)
    if entity == "param":
        return model.params.get(key)
    if entity == "tag":
        return model.tags.get(key)
    return getattr(model, key)


def _test(clause: Clause, value: Any) -> bool:
    op = clause.comparator
    if op == "IS NULL":
        return value is None
    if op == "IS NOT NULL":
        return value is not None
    if value is None:
        return False
    if op in ("IN", "NOT IN"):
        inside = isinstance(clause.value, tuple) and str(value) in clause.value
        return inside if op == "IN" else not inside
    if op in ("LIKE", "ILIKE"):
        return like_to_regex(str(clause.value), op == "ILIKE").match(str(value)) is not None
    if isinstance(clause.value, float):
        number = float(value)
        if math.isnan(number):
            return op == "!="
        return _COMPARE[op](number, clause.value)
    return _COMPARE[op](str(value), clause.value)


def matches(model: ent.LoggedModel, clauses: Sequence[Clause]) -> bool:
    return all(_test(c, _value(model, c.entity, c.key)) for c in clauses)


def sort(models: list[ent.LoggedModel], order_by: Sequence[Any] | None) -> list[ent.LoggedModel]:
    """Newest first by default; ``order_by`` strings (``"metrics.rmse ASC"``) or MLflow's
    dicts (``{"field_name": "metrics.rmse", "ascending": True}``)."""
    items = [_order_text(item) for item in order_by or ()]
    keys: tuple[OrderKey, ...] = parse_logged_model_order_by(items) if items else ()
    ordered = sorted(models, key=lambda m: (-m.creation_timestamp, m.model_id))
    for key in reversed(keys):
        present = [m for m in ordered if _value(m, key.entity, key.key) is not None]
        missing = [m for m in ordered if _value(m, key.entity, key.key) is None]
        present.sort(key=lambda m: _sortable(_value(m, key.entity, key.key)), reverse=not key.ascending)
        ordered = present + missing  # missing values last, in both directions (MLflow's rule)
    return ordered


def _order_text(item: Any) -> str:
    if isinstance(item, dict):
        return f"{item['field_name']} {'ASC' if item.get('ascending', True) else 'DESC'}"
    return str(item)


def _sortable(value: Any) -> tuple[int, Any]:
    return (0, float(value)) if isinstance(value, (int, float)) else (1, str(value))
