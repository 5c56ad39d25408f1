"""What a search asks for, and the SQL fragments both kinds of search share.

Every value is a bound parameter; SQL text is assembled only from fixed fragments
chosen by entity, key kind and comparator.  String matching follows MLflow:
``=``/``!=``/``LIKE`` are case-sensitive (LIKE runs as GLOB, SQLite's
case-sensitive matcher, on a translated pattern) and ``ILIKE`` uses Python's
Unicode-aware case folding through the ``gitrun_ilike`` SQL function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from gitrun.core.index.grammar import Clause, OrderKey

View = Literal["active", "deleted", "all"]

PLAIN_OPS = frozenset(("=", "!=", "<", "<=", ">", ">="))


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
            out.append(f"[{char}]")  # a one-character class: the character itself
        else:
            out.append(char)
    return "".join(out)


def text_condition(column: str, clause: Clause, params: list[Any]) -> str:
    """``column <op> ?`` for the string comparators (and lists); appends the values."""
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
    assert op in PLAIN_OPS
    params.append(value)
    return f"{column} {op} ?"
