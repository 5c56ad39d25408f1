"""search_registered_models / search_model_versions: the registry filter grammar, evaluated in memory.

A registry holds few records next to runs, and reading it whole is one tree walk,
so the clauses (``name = 'churn'``, ``name LIKE 'ch%'``, ``run_id = '...'``,
``tags.stage = 'prod'``, ``version_number > 2``) are tested in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gitrun.core.index.grammar import Clause, like_to_regex, parse_registry_filter, parse_registry_order_by
from gitrun.tracking.registry import ModelVersion, RegisteredModel

_OPS = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _value(item: Any, clause: Clause) -> Any:
    if clause.entity == "tag":
        return item.tags.get(clause.key)
    if clause.key == "version_number":
        return getattr(item, "version", None)
    if clause.key == "source_path":
        return getattr(item, "source", None)
    return getattr(item, clause.key, None)


def _test(clause: Clause, value: Any) -> bool:
    op = clause.comparator
    if op in ("IS NULL", "IS NOT NULL"):
        return (value is None) == (op == "IS NULL")
    if value is None:
        return False
    if op in ("IN", "NOT IN"):
        return (isinstance(clause.value, tuple) and str(value) in clause.value) == (op == "IN")
    if op in ("LIKE", "ILIKE"):
        return like_to_regex(str(clause.value), op == "ILIKE").match(str(value)) is not None
    if isinstance(clause.value, float):
        return bool(_OPS[op](float(value), clause.value))
    return bool(_OPS[op](str(value), clause.value))


def _filtered(items: Sequence[Any], filter_string: str | None) -> list[Any]:
    clauses = parse_registry_filter(filter_string)
    return [item for item in items if all(_test(c, _value(item, c)) for c in clauses)]


def _ordered(items: list[Any], order_by: Sequence[str] | None, default: Any) -> list[Any]:
    items = sorted(items, key=default)
    for key in reversed(parse_registry_order_by(list(order_by or []))):
        attribute = "version" if key.key == "version_number" else key.key
        items.sort(key=lambda item: getattr(item, attribute), reverse=not key.ascending)
    return items


def registered_models(
    models: list[RegisteredModel],
    filter_string: str | None,
    max_results: int | None,
    order_by: Sequence[str] | None,
) -> list[RegisteredModel]:
    found = _ordered(_filtered(models, filter_string), order_by, lambda m: m.name)
    return found if max_results is None else found[:max_results]


def model_versions(
    versions: list[ModelVersion],
    filter_string: str | None,
    max_results: int | None,
    order_by: Sequence[str] | None,
) -> list[ModelVersion]:
    found = _ordered(_filtered(versions, filter_string), order_by, lambda m: (m.name, -m.version))
    return found if max_results is None else found[:max_results]
