"""Turning a list of runs into a leaderboard: which columns vary, how nested runs nest,
the best child of each sweep, and groups of runs by a param with each metric's mean
and standard deviation.

Pure functions over runs already found by a search (no store access), so that the
command line and any other front end list runs the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from gitrun.tracking import entities as ent

PARENT_TAG = "mlflow.parentRunId"


def parent_of(run: ent.Run) -> str | None:
    return run.data.tags.get(PARENT_TAG) or None


@dataclass(frozen=True)
class KeySplit:
    """The keys of one entity over some runs: those whose value differs between runs
    (or that some runs lack), and those every run has with one value."""

    varying: list[str]
    constant: list[str]


def split_keys(runs: Sequence[ent.Run], entity: str) -> KeySplit:
    """``entity`` is ``params``, ``metrics`` or ``tags``.  A key that some runs lack
    but that has one value in all the others is constant (a sweep's parent lacks the
    params its children share)."""
    maps = [getattr(r.data, entity) for r in runs]
    varying: list[str] = []
    constant: list[str] = []
    for key in sorted({k for m in maps for k in m}):
        values = [m[key] for m in maps if key in m]
        first = values[0]
        same = all(_same(first, v) for v in values[1:])
        (constant if same and len(runs) > 1 else varying).append(key)
    return KeySplit(varying, constant)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


@dataclass(frozen=True)
class TreeRow:
    run: ent.Run
    depth: int
    last: bool
    """The last child of its parent (drawn with ``└`` rather than ``├``)."""
    lines: tuple[bool, ...] = ()
    """For each ancestor level above this row: whether a vertical line continues there."""


def tree_rows(runs: Sequence[ent.Run]) -> list[TreeRow]:
    """Runs with their children right under them, as a tree.

    Roots keep the order they were given in; children of one parent are listed in the
    order they started (a sweep reads top down).  A run whose parent is not among
    ``runs`` is a root: it is never drawn under an unrelated run.
    """
    present = {r.info.run_id for r in runs}
    children: dict[str, list[ent.Run]] = {}
    roots = []
    for run in runs:
        parent = parent_of(run)
        if parent is not None and parent in present and parent != run.info.run_id:
            children.setdefault(parent, []).append(run)
        else:
            roots.append(run)
    for kids in children.values():
        kids.sort(key=lambda r: (r.info.start_time, r.info.run_id))
    out: list[TreeRow] = []
    seen: set[str] = set()

    def visit(run: ent.Run, depth: int, last: bool, lines: tuple[bool, ...]) -> None:
        if run.info.run_id in seen:  # a cycle of parent tags: draw each run once
            return
        seen.add(run.info.run_id)
        out.append(TreeRow(run, depth, last, lines))
        kids = children.get(run.info.run_id, [])
        for i, kid in enumerate(kids):
            visit(kid, depth + 1, i == len(kids) - 1, (*lines, not last) if depth else lines)

    for root in roots:
        visit(root, 0, True, ())
    for run in runs:  # runs only reachable through a cycle
        if run.info.run_id not in seen:
            visit(run, 0, True, ())
    return out


def tree_prefix(row: TreeRow) -> str:
    """``├ ``, ``└ ``, with ``│ `` for each ancestor level still open."""
    if row.depth == 0:
        return ""
    return "".join("│ " if open_ else "  " for open_ in row.lines) + ("└ " if row.last else "├ ")


@dataclass(frozen=True)
class SweepBest:
    """The best child of one parent run by a metric."""

    parent_id: str
    children: int
    """Children of the parent among the runs looked at."""
    best: ent.Run | None
    """None when no child has the metric."""


def best_children(runs: Sequence[ent.Run], metric: str, *, ascending: bool) -> list[SweepBest]:
    """For each parent of some of ``runs``: its child with the best ``metric``
    (highest, or lowest with ``ascending``); NaN never wins.  Parents in the order
    their first child appears."""
    groups: dict[str, list[ent.Run]] = {}
    for run in runs:
        parent = parent_of(run)
        if parent is not None:
            groups.setdefault(parent, []).append(run)
    out = []
    for parent, kids in groups.items():
        scored = [k for k in kids if not math.isnan(k.data.metrics.get(metric, math.nan))]
        best = None
        if scored:
            pick = min if ascending else max
            best = pick(scored, key=lambda k: k.data.metrics[metric])
        out.append(SweepBest(parent, len(kids), best))
    return out


@dataclass(frozen=True)
class Stats:
    count: int
    mean: float
    std: float
    """Sample standard deviation (n - 1); 0 for a single value."""
    minimum: float
    maximum: float


def stats(values: Sequence[float]) -> Stats | None:
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return None
    n = len(finite)
    mean = math.fsum(finite) / n
    var = math.fsum((v - mean) ** 2 for v in finite) / (n - 1) if n > 1 else 0.0
    return Stats(n, mean, math.sqrt(var), min(finite), max(finite))


@dataclass(frozen=True)
class Group:
    value: str | None
    """The param's value; None for runs without the param."""
    runs: list[ent.Run]
    metrics: dict[str, Stats]


def group_by_param(runs: Sequence[ent.Run], param: str, metrics: Sequence[str]) -> list[Group]:
    """Runs grouped by one param's value (groups in order of first appearance), with the
    mean, standard deviation, min and max of each metric over each group."""
    groups: dict[str | None, list[ent.Run]] = {}
    for run in runs:
        groups.setdefault(run.data.params.get(param), []).append(run)
    out = []
    for value, members in groups.items():
        found = {}
        for key in metrics:
            result = stats([r.data.metrics[key] for r in members if key in r.data.metrics])
            if result is not None:
                found[key] = result
        out.append(Group(value, members, found))
    return out
