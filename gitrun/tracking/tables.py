"""Tables of runs: pages at any offset, counts, varying columns, nested runs, groups.

What a runs table (the web UI's) needs beyond :func:`gitrun.tracking.search.search_runs`:
a page at an offset (to scroll straight to row 90,000), the number of matching
runs, which params and metrics vary, each parent's number of children and best
child, and per-group mean ± std.  Every function takes the same
:class:`RunTableQuery`, so the filter means what it means to ``search_runs``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

from gitrun.core.index import tables as idx
from gitrun.core.index.grammar import Clause, Entity, OrderKey, parse_filter
from gitrun.core.index.query import RunSearch, View
from gitrun.errors import InvalidParameterValue
from gitrun.tracking import entities as ent
from gitrun.tracking.search import index_for
from gitrun.tracking.store import TrackingStore

MAX_PAGE = 5000
ATTRIBUTE_COLUMNS = ("run_name", "run_id", "status", "user_id", "start_time", "end_time")
_ENTITIES: dict[str, Entity] = {
    "params": "param",
    "metrics": "metric",
    "tags": "tag",
    "attributes": "attribute",
}
_POSITION = re.compile(r"\(at position (\d+)\)\s*$")
_VIEWS: dict[str, View] = {"active": "active", "deleted": "deleted", "all": "all"}

ExperimentActivity = idx.ExperimentActivity
KeyStats = idx.KeyStats
GroupStats = idx.GroupStats


@dataclass(frozen=True)
class SortKey:
    """A column to sort on: ``column`` is ``params.<key>``, ``metrics.<key>``,
    ``tags.<key>`` or ``attributes.<name>`` (start_time, run_name, status, ...)."""

    column: str
    ascending: bool = True

    def order_key(self) -> OrderKey:
        entity, _, key = self.column.partition(".")
        if entity not in _ENTITIES or not key:
            raise InvalidParameterValue(
                f"cannot sort on {self.column!r}: use params.<key>, metrics.<key>, tags.<key> or "
                f"attributes.<{'|'.join(ATTRIBUTE_COLUMNS)}>"
            )
        if entity == "attributes" and key not in ATTRIBUTE_COLUMNS:
            raise InvalidParameterValue(
                f"cannot sort on attribute {key!r}: one of {', '.join(ATTRIBUTE_COLUMNS)}"
            )
        return OrderKey(_ENTITIES[entity], key, self.ascending)


@dataclass(frozen=True)
class RunTableQuery:
    """Which runs a table shows, in what order.

    Attributes:
        experiment_ids: The experiments whose runs are shown.
        filter_string: An MLflow filter string, as search_runs takes it.
        sort: Sort keys, first the most significant; default newest first.
        view: ``active``, ``deleted`` or ``all``.
        top_level: Only runs without a parent (nested runs are listed under theirs).
    """

    experiment_ids: tuple[str, ...]
    filter_string: str = ""
    sort: tuple[SortKey, ...] = ()
    view: str = "active"
    top_level: bool = False

    def search(self) -> RunSearch:
        """The index search this query stands for.

        Raises:
            InvalidParameterValue: a malformed filter (with its position), sort key or view.
        """
        if self.view not in _VIEWS:
            raise InvalidParameterValue(f"unknown view {self.view!r}: use active, deleted or all")
        clauses = parse_filter(self.filter_string)
        if self.top_level:
            clauses += (Clause("tag", idx.PARENT_TAG, "IS NULL", None),)
        order = tuple(dict.fromkeys(k.order_key() for k in self.sort))
        return RunSearch(tuple(self.experiment_ids), clauses, order, _VIEWS[self.view])


@dataclass(frozen=True)
class FilterProblem:
    """Why a filter string is refused, and where (0-based character position, if known)."""

    message: str
    position: int | None


def check_filter(filter_string: str) -> FilterProblem | None:
    """None for a valid search_runs filter; else what is wrong and at which position."""
    try:
        parse_filter(filter_string)
    except InvalidParameterValue as exc:
        found = _POSITION.search(exc.message)
        message = _POSITION.sub("", exc.message).rstrip()
        return FilterProblem(message, int(found.group(1)) if found else None)
    return None


@dataclass(frozen=True)
class TablePage:
    """Runs at ``offset`` of a table, and how many children each has (parents only)."""

    offset: int
    runs: list[ent.Run]
    children: dict[str, int] = field(default_factory=dict)


def run_page(store: TrackingStore, query: RunTableQuery, offset: int, limit: int) -> TablePage:
    """The runs of a table from row ``offset`` (0-based), at most ``limit`` of them.

    Raises:
        InvalidParameterValue: a bad query, a negative offset or a limit outside 1..5000.
    """
    if offset < 0:
        raise InvalidParameterValue(f"offset must be 0 or more, got {offset}")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidParameterValue(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    search = query.search()
    store.runs.flush()

    def read(conn: sqlite3.Connection) -> TablePage:
        runs = idx.page(conn, search, limit, offset, ent.run_from_fields)
        ids = [r.info.run_id for r in runs]
        return TablePage(offset, runs, idx.children_counts(conn, ids, search.view))

    return index_for(store).read(read)


def count_runs(store: TrackingStore, query: RunTableQuery) -> int:
    """How many runs the table holds."""
    search = query.search()
    store.runs.flush()
    return index_for(store).read(lambda conn: idx.count_runs(conn, search))


def experiment_activity(store: TrackingStore, view: str = "active") -> dict[str, ExperimentActivity]:
    """Run counts and last activity of every experiment that has runs (in ``view``)."""
    if view not in _VIEWS:
        raise InvalidParameterValue(f"unknown view {view!r}: use active, deleted or all")
    store.runs.flush()
    found = index_for(store).read(lambda conn: idx.experiment_activity(conn, _VIEWS[view]))
    return {a.experiment_id: a for a in found}


@dataclass(frozen=True)
class ColumnSummary:
    """The keys found among the first ``sampled`` runs of a table."""

    sampled: int
    params: list[KeyStats]
    metrics: list[KeyStats]
    tags: list[KeyStats]

    def varying(self) -> list[str]:
        """Columns whose value is not the same in every sampled run (missing counts as a value)."""
        out = []
        for prefix, keys in (("params", self.params), ("metrics", self.metrics), ("tags", self.tags)):
            out += [f"{prefix}.{k.key}" for k in keys if k.distinct > 1 or k.runs < self.sampled]
        return out


def column_summary(store: TrackingStore, query: RunTableQuery, sample: int = 1000) -> ColumnSummary:
    """Params, metrics and tags of the first ``sample`` runs of a table."""
    search = query.search()
    store.runs.flush()

    def read(conn: sqlite3.Connection) -> ColumnSummary:
        rids = idx.sample_rids(conn, search, sample)
        found = {entity: idx.key_stats(conn, rids, entity) for entity in ("param", "metric", "tag")}
        return ColumnSummary(len(rids), found["param"], found["metric"], found["tag"])

    return index_for(store).read(read)


def best_children(
    store: TrackingStore, query: RunTableQuery, parent_ids: Sequence[str], metric: str, ascending: bool
) -> dict[str, ent.Run]:
    """For each parent, its child with the lowest (``ascending``) or highest ``metric``."""
    search = query.search()
    store.runs.flush()

    def read(conn: sqlite3.Connection) -> dict[str, ent.Run]:
        out = {}
        for parent in parent_ids:
            best = idx.best_child(
                conn,
                parent,
                search.experiment_ids,
                metric,
                ascending,
                search.view,
                ent.run_from_fields,
            )
            if best is not None:
                out[parent] = best
        return out

    return index_for(store).read(read)


def group_runs(
    store: TrackingStore, query: RunTableQuery, param: str, metrics: Sequence[str], limit: int = 100_000
) -> list[GroupStats]:
    """The table's first ``limit`` runs grouped by ``param``: size, mean ± std per metric."""
    search = query.search()
    store.runs.flush()
    return index_for(store).read(lambda conn: idx.group_stats(conn, search, param, metrics, limit))
