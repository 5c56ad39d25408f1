"""Searching runs and experiments: MLflow's search_runs and search_experiments.

Searches are answered by the derived index (:mod:`gitrun.core.index`), one per
tracking store, brought up to date with git on every search.  What this process
has buffered but not committed yet is committed first, so a search sees this
process's own writes.
"""

from __future__ import annotations

import os
import threading
import warnings
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from gitrun.core.index.database import MEMORY
from gitrun.core.index.grammar import (
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_filter,
    parse_order_by,
)
from gitrun.core.index.index import RunIndex
from gitrun.core.index.query import ExperimentSearch, RunSearch, View
from gitrun.core.records import layout
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from gitrun.tracking import entities as ent
from gitrun.tracking.mapping import to_experiment
from gitrun.tracking.store import DEFAULT_EXPERIMENT_ID, TrackingStore

if TYPE_CHECKING:
    from gitrun.tracking.client import Client

SEARCH_MAX_RESULTS_DEFAULT = 1000
SEARCH_MAX_RESULTS_PANDAS = 100_000
_PAGE_SIZE_PANDAS = 10_000  # MLflow's page size when it collects runs for a DataFrame

_indexes: weakref.WeakKeyDictionary[TrackingStore, RunIndex] = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def index_for(store: TrackingStore) -> RunIndex:
    """The search index of a tracking store (one per store per process)."""
    with _indexes_lock:
        index = _indexes.get(store)
        if index is None:
            # A read in a repository gitrun never wrote to (a shared bare remote, a fresh
            # clone) gets a private in-memory index: reading must not create files there.
            untouched = not os.path.isdir(store.repo.gitrun_dir)
            path = MEMORY if store.read_only and untouched else None
            index = RunIndex(store.records, path)
            _indexes[store] = index
        return index


def view_of(view_type: Any) -> View:
    """A ``ViewType`` (number or name) as the index's view."""
    if isinstance(view_type, str):
        try:
            view_type = ent.ViewType.from_string(view_type)
        except ValueError:
            pass
    views: dict[Any, View] = {
        ent.ViewType.ACTIVE_ONLY: "active",
        ent.ViewType.DELETED_ONLY: "deleted",
        ent.ViewType.ALL: "all",
    }
    if isinstance(view_type, bool) or view_type not in views:
        raise InvalidParameterValue(
            f"Invalid view type {view_type!r}: use ViewType.ACTIVE_ONLY, DELETED_ONLY or ALL"
        )
    return views[view_type]


def _experiment_ids(experiment_ids: Any) -> tuple[str, ...]:
    if isinstance(experiment_ids, (str, int)) and not isinstance(experiment_ids, bool):
        return (str(experiment_ids),)
    if experiment_ids is None:
        raise InvalidParameterValue("experiment_ids must be a list of experiment ids (or one id)")
    return tuple(str(e) for e in experiment_ids)


def search_runs(
    store: TrackingStore,
    experiment_ids: Any,
    *,
    filter_string: str | None = "",
    run_view_type: Any = ent.ViewType.ACTIVE_ONLY,
    max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
    order_by: Sequence[str] | None = None,
    page_token: str | None = None,
) -> ent.PagedList[ent.Run]:
    """One page of runs matching an MLflow filter string, in MLflow's order.

    Raises:
        InvalidParameterValue: The filter or order_by is malformed (the message gives
            the position), max_results is outside 1..50000, or the page token does
            not belong to this search.
    """
    search = RunSearch(
        _experiment_ids(experiment_ids),
        parse_filter(filter_string),
        parse_order_by(order_by),
        view_of(run_view_type),
    )
    store.runs.flush()
    page = index_for(store).search_runs(search, max_results, page_token, make=ent.run_from_fields)
    return ent.PagedList(page.items, page.token)


def search_experiments(
    store: TrackingStore,
    *,
    view_type: Any = ent.ViewType.ACTIVE_ONLY,
    max_results: int = SEARCH_MAX_RESULTS_DEFAULT,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
    page_token: str | None = None,
) -> ent.PagedList[ent.Experiment]:
    """One page of experiments matching a filter (MLflow's experiment grammar)."""
    search = ExperimentSearch(
        parse_experiment_filter(filter_string), parse_experiment_order_by(order_by), view_of(view_type)
    )
    if not store.read_only and store.records.entry(layout.experiment_file(DEFAULT_EXPERIMENT_ID)) is None:
        store.get_experiment(DEFAULT_EXPERIMENT_ID)  # created on first use, as MLflow's always exists
    page = index_for(store).search_experiments(search, max_results, page_token)
    return ent.PagedList([to_experiment(row) for row in page.items], page.token)


def all_experiments(
    client: Client,
    *,
    view_type: Any = ent.ViewType.ACTIVE_ONLY,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
    max_results: int | None = None,
) -> list[ent.Experiment]:
    """Every matching experiment (up to ``max_results``), following page tokens."""
    out: list[ent.Experiment] = []
    token = None
    while max_results is None or len(out) < max_results:
        size = SEARCH_MAX_RESULTS_DEFAULT if max_results is None else min(max_results - len(out), 50_000)
        page = client.search_experiments(
            view_type=view_type,
            max_results=size,
            filter_string=filter_string,
            order_by=order_by,
            page_token=token,
        )
        out += page
        token = page.token
        if not token:
            break
    return ent.PagedList(out, None)  # a list, with a table for notebooks


def collect_runs(
    client: Client,
    experiment_ids: Any,
    *,
    filter_string: str | None = "",
    run_view_type: Any = ent.ViewType.ACTIVE_ONLY,
    max_results: int = SEARCH_MAX_RESULTS_PANDAS,
    order_by: Sequence[str] | None = None,
) -> list[ent.Run]:
    """Up to ``max_results`` runs, fetched page by page as MLflow's fluent API does."""
    runs: list[ent.Run] = []
    token = None
    while True:
        # A max_results below 1 goes to the index as is, which refuses it with MLflow's message.
        size = min(max_results - len(runs), _PAGE_SIZE_PANDAS) if max_results > 0 else max_results
        page = client.search_runs(
            experiment_ids,
            filter_string=filter_string or "",
            run_view_type=run_view_type,
            max_results=size,
            order_by=order_by,
            page_token=token,
        )
        runs += page
        token = page.token
        if not token or len(runs) >= max_results:
            return runs


def fluent_search_runs(
    client: Client,
    active_experiment: Callable[[], str],
    *,
    experiment_ids: Any,
    filter_string: str | None,
    run_view_type: Any,
    max_results: int,
    order_by: Sequence[str] | None,
    output_format: str,
    search_all_experiments: bool,
    experiment_names: Sequence[str] | None,
) -> Any:
    """``gitrun.search_runs``: resolve the experiments, collect the runs, shape the result."""
    if output_format not in ("pandas", "list"):
        raise ValueError(
            f"Unsupported output format: {output_format}. Supported string values are 'pandas' or 'list'"
        )
    if experiment_ids and experiment_names:
        raise InvalidParameterValue("Only experiment_ids or experiment_names can be used, but not both")
    if experiment_names:
        ids = []
        for name in experiment_names:
            found = client.get_experiment_by_name(name)
            if found is None:
                warnings.warn(f"Cannot retrieve experiment by name {name}", stacklevel=3)
            else:
                ids.append(found.experiment_id)
    elif experiment_ids:
        ids = list(_experiment_ids(experiment_ids))
    elif search_all_experiments:
        ids = [e.experiment_id for e in all_experiments(client)]
    else:
        ids = [active_experiment()]
    runs = (
        collect_runs(
            client,
            ids,
            filter_string=filter_string,
            run_view_type=run_view_type,
            max_results=max_results,
            order_by=order_by,
        )
        if ids
        else []
    )
    if output_format == "list":
        return ent.PagedList(runs, None)  # a list, with a table for notebooks
    from gitrun.tracking.frames import runs_dataframe

    return runs_dataframe(runs)


def resolve_run_id(store: TrackingStore, text: str) -> str:
    """The run a full id or a unique prefix names (like git's abbreviated commits).

    Raises:
        ResourceDoesNotExist: No run id starts with ``text``.
        InvalidParameterValue: Several do; the message lists them.
    """
    text = text.strip().lower()
    if not text:
        raise InvalidParameterValue("a run id (or a unique prefix of one) is required")
    store.runs.flush()
    if store.run_exists(text):
        return text
    found = index_for(store).run_ids_with_prefix(text, limit=11)
    if not found:
        raise ResourceDoesNotExist(f"no run id starts with '{text}'")
    if len(found) > 1:
        shown = ", ".join(found[:10]) + (", ..." if len(found) > 10 else "")
        raise InvalidParameterValue(
            f"run id prefix '{text}' is ambiguous; it matches {shown}. Give more characters."
        )
    return found[0]


def child_run_ids(store: TrackingStore, run_id: str) -> list[str]:
    """Runs nested under ``run_id`` (its ``mlflow.parentRunId`` tag), oldest first."""
    store.runs.flush()
    return index_for(store).child_run_ids(run_id)
