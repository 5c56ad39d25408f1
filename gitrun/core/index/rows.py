"""What the index holds about one run or experiment, and how it is read from git.

The values are normalised exactly as :class:`gitrun.tracking.store.TrackingStore`
normalises them when it builds entities, so a run found by a search equals the
same run read with ``get_run``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from gitrun.core.index import recordyaml
from gitrun.core.records import layout
from gitrun.errors import GitrunError


@dataclass(frozen=True, slots=True)
class IndexedRun:
    """One run as the index returns it: MLflow's info fields plus its data."""

    run_id: str
    experiment_id: str
    run_name: str
    status: str
    user_id: str
    artifact_uri: str
    lifecycle_stage: str
    start_time: int | None
    end_time: int | None
    params: dict[str, str]
    tags: dict[str, str]
    metrics: dict[str, float]


@dataclass(frozen=True, slots=True)
class IndexedExperiment:
    """One experiment as the index returns it."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    creation_time: int | None
    last_update_time: int | None
    tags: dict[str, str]


def _mapping(repo: Repository, entries: dict[str, Any], name: str, where: str) -> dict[str, Any]:
    entry = entries.get(name)
    if entry is None:
        return {}
    data = recordyaml.load(repo.read_blob(entry.oid), f"{where} {name}")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise GitrunError(f"{where} {name} should hold a mapping, found {type(data).__name__}")
    return data


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_run(repo: Repository, run_id: str, tree: Oid) -> IndexedRun | None:
    """Read a run's record files; None (with a warning) if they cannot be used.

    A run whose record is damaged is left out of searches rather than making every
    search fail; ``gitrun show`` on it reports the problem.
    """
    where = f"run {run_id}"
    try:
        entries = repo.read_tree(tree)
        info = _mapping(repo, entries, layout.RUN_FILE, where)
        if not info:
            return None  # not a run directory (or an empty one): nothing to search
        latest = _mapping(repo, entries, layout.METRICS_FILE, where)
        metrics = {str(k): float(v["value"]) for k, v in latest.items()}
        params = {str(k): str(v) for k, v in _mapping(repo, entries, layout.PARAMS_FILE, where).items()}
        tags = {str(k): str(v) for k, v in _mapping(repo, entries, layout.TAGS_FILE, where).items()}
        return IndexedRun(
            run_id=run_id,  # the directory name: what the diff finds again later
            experiment_id=str(info["experiment_id"]),
            run_name=str(info.get("run_name") or ""),
            status=str(info["status"]),
            user_id=str(info.get("user_id") or "unknown"),
            artifact_uri=str(info.get("artifact_uri") or f"runs:/{run_id}"),
            lifecycle_stage=str(info.get("lifecycle_stage") or "active"),
            start_time=_int_or_none(info.get("start_time")),
            end_time=_int_or_none(info.get("end_time")),
            params=params,
            tags=tags,
            metrics=metrics,
        )
    except (GitrunError, KeyError, TypeError, ValueError, AttributeError) as exc:
        warnings.warn(f"gitrun: search leaves out run {run_id}: its record cannot be read ({exc})",
                      stacklevel=2)
        return None


def read_experiment(repo: Repository, experiment_id: str, blob: Oid) -> IndexedExperiment | None:
    """Read ``experiments/<id>.yaml``; None (with a warning) if it cannot be used."""
    where = f"experiment {experiment_id}"
    try:
        data = recordyaml.load(repo.read_blob(blob), where)
        if not isinstance(data, dict):
            raise GitrunError(f"{where} should hold a mapping")
        return IndexedExperiment(
            experiment_id=str(data.get("experiment_id", experiment_id)),
            name=str(data["name"]),
            artifact_location=str(data.get("artifact_location") or ""),
            lifecycle_stage=str(data.get("lifecycle_stage") or "active"),
            creation_time=_int_or_none(data.get("creation_time")),
            last_update_time=_int_or_none(data.get("last_update_time")),
            tags={str(k): str(v) for k, v in (data.get("tags") or {}).items()},
        )
    except (GitrunError, KeyError, TypeError, ValueError, AttributeError) as exc:
        warnings.warn(f"gitrun: search leaves out experiment {experiment_id}: {exc}", stacklevel=2)
        return None


def sql_metric(value: float) -> float | None:
    """A metric value as stored: NaN becomes NULL (see :mod:`schema`)."""
    return None if math.isnan(value) else value
