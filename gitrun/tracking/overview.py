"""The experiments of a store at a glance, and opening a store only if it exists.

Unlike ``search_experiments`` (which, as MLflow's, makes sure the Default experiment
exists), nothing here writes: a browser looking at a fresh clone must not create
records in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gitrun.core import location as loc
from gitrun.core.git.repo import Repository
from gitrun.core.index.query import ExperimentSearch
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from gitrun.tracking import search
from gitrun.tracking.store import TrackingStore
from gitrun.tracking.tables import experiment_activity


@dataclass(frozen=True)
class ExperimentRow:
    """An experiment with its number of runs and its last activity (ms, None: no run)."""

    experiment_id: str
    name: str
    lifecycle_stage: str
    creation_time: int | None
    last_update_time: int | None
    tags: dict[str, str]
    runs: int
    running: int
    last_activity: int | None


@dataclass(frozen=True)
class Overview:
    """``has_records`` is False in a repository where no run was recorded or fetched yet."""

    has_records: bool
    experiments: list[ExperimentRow] = field(default_factory=list)


def experiments(store: TrackingStore, view: str = "active", *, counts: bool = True) -> Overview:
    """Every experiment (in ``view``: active, deleted or all) with run counts, newest activity
    first; ``counts=False`` skips counting runs (a pass over every run: names only, by name)."""
    if view not in _VIEW_TYPES:
        raise InvalidParameterValue(f"unknown view {view!r}: use active, deleted or all")
    if store.records.tip() is None:
        return Overview(False)
    activity = experiment_activity(store, "active") if counts else {}
    index = search.index_for(store)
    rows: list[ExperimentRow] = []
    token = None
    while True:
        page = index.search_experiments(ExperimentSearch(view=search.view_of(_VIEW_TYPES[view])), 1000, token)
        for item in page.items:
            seen = activity.get(item.experiment_id)
            last = (
                max((t for t in (seen.last_start_time, seen.last_end_time) if t), default=None)
                if seen
                else None
            )
            rows.append(
                ExperimentRow(
                    item.experiment_id,
                    item.name,
                    item.lifecycle_stage,
                    item.creation_time,
                    item.last_update_time,
                    dict(item.tags),
                    seen.runs if seen else 0,
                    seen.running if seen else 0,
                    last,
                )
            )
        token = page.token
        if not token:
            break
    rows.sort(key=lambda r: r.last_activity or r.creation_time or 0, reverse=True)
    return Overview(True, rows)


_VIEW_TYPES = {"active": "ACTIVE_ONLY", "deleted": "DELETED_ONLY", "all": "ALL"}


def open_existing(uri: str | None) -> str:
    """The location ``uri`` names (None: the current one), refusing to create a store.

    Returns:
        The path of the repository or standalone store.

    Raises:
        ResourceDoesNotExist: there is no repository or gitrun store there.
    """
    location = loc.resolve(uri)
    if location.standalone and Repository.at(location.path) is None:
        raise ResourceDoesNotExist(
            f"no git repository or gitrun store at {location.path}: run inside a repository, "
            "or pass --repo PATH"
        )
    return location.path
