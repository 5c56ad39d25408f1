"""Runs made elsewhere: created by a remote client (the MLflow REST server) or imported.

A run created through :mod:`gitrun.server.mlflow` or imported from an MLflow store
did not run in this process, so nothing of this process is captured for it: no code
snapshot, no environment, no source (argv, host, pid).  Its id, times, user, name and
status are the ones given.  Everything else (params, metrics, tags, artifacts) goes
through the same record writer as any run, so it is journaled before the call
returns and committed on the writer's schedule.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gitrun.core.records.run_store import MetricColumns
from gitrun.errors import InvalidParameterValue, ResourceAlreadyExists
from gitrun.tracking import entities as ent
from gitrun.tracking import names
from gitrun.tracking import validation as v
from gitrun.tracking.run_record import RUN_NAME_TAG, USER_TAG, check_active, checked_run_name, new_run_info
from gitrun.tracking.store import TrackingStore, now_ms

PARENT_TAG = "mlflow.parentRunId"


@dataclass(frozen=True)
class RunSpec:
    """A run to create with what the remote client (or the source store) says about it.

    Attributes:
        experiment_id: Where the run goes (must be active).
        run_id: Keep this id (imports); None: a new uuid4 hex, as MLflow's server.
        run_name: None or "": taken from the ``mlflow.runName`` tag, else generated.
        user_id: Recorded user; None: the ``mlflow.user`` tag, else "unknown".
        start_time: Milliseconds; None: now.
        tags: Run tags (validated).
        origin: How the run arrived (``mlflow-rest``, ``import:<store>``), kept in
            ``run.yaml`` under ``source.origin``.
    """

    experiment_id: str
    run_id: str | None = None
    run_name: str | None = None
    user_id: str | None = None
    start_time: int | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    origin: str = "mlflow-rest"


def create_run(store: TrackingStore, spec: RunSpec) -> str:
    """Create a RUNNING run from ``spec``; returns its id.

    Raises:
        ResourceDoesNotExist: No such experiment.
        InvalidParameterValue: The experiment is deleted, a tag is invalid, or the
            run name and the ``mlflow.runName`` tag disagree.
        ResourceAlreadyExists: ``spec.run_id`` names an existing run.
    """
    experiment_id = v.experiment_id(spec.experiment_id)
    check_active(store.get_experiment(experiment_id))
    tags = {v.validate_key(k, "tag"): v.tag_value(k, val) for k, val in spec.tags.items()}
    run_name = checked_run_name(spec.run_name or None, tags)
    run_id = v.run_id(spec.run_id) if spec.run_id else uuid.uuid4().hex
    if store.run_exists(run_id):
        raise ResourceAlreadyExists(f"Run with id={run_id} already exists")
    info = new_run_info(
        run_id,
        experiment_id,
        run_name=run_name or tags.get(RUN_NAME_TAG) or names.generate(),
        user_id=spec.user_id or tags.get(USER_TAG) or "unknown",
        start_time=spec.start_time if spec.start_time is not None else now_ms(),
        parent_run_id=tags.get(PARENT_TAG),
        source={
            "name": tags.get("mlflow.source.name"),
            "type": tags.get("mlflow.source.type"),
            "origin": spec.origin,
        },
    )
    tags[RUN_NAME_TAG] = info["run_name"]
    # Not owned: like MLflow's server, a run whose client vanished stays RUNNING.
    store.runs.create_run(run_id, info, tags, {}, owned=False)
    return run_id


def update_run(
    store: TrackingStore,
    run_id: str,
    *,
    status: str | None = None,
    end_time: int | None = None,
    run_name: str | None = None,
) -> None:
    """Change only what is given (MLflow's ``runs/update``); a new name also sets its tag.

    Raises:
        InvalidParameterValue: Unknown status, bad end time, or the run is deleted.
        ResourceDoesNotExist: No such run.
    """
    run_id = v.run_id(run_id)
    fields: dict[str, Any] = {}
    if status is not None:
        if status not in ent.RunStatus.all_status():
            raise InvalidParameterValue(
                f"Invalid run status {status!r}: use one of {', '.join(ent.RunStatus.all_status())}"
            )
        fields["status"] = status
    if end_time is not None:
        fields["end_time"] = v.metric_timestamp(end_time)
    runs = store.runs
    if fields:
        runs.update_info(run_id, fields)
    if run_name:
        runs.log_batch(run_id, tags={RUN_NAME_TAG: v.tag_value(RUN_NAME_TAG, run_name)})
        runs.update_info(run_id, {"run_name": run_name})
    elif not fields:
        runs.read_state(run_id)  # an unknown run is still an error


def set_info(store: TrackingStore, run_id: str, fields: Mapping[str, Any]) -> None:
    """Set recorded fields of a run as given (imports: status, times, lifecycle stage,
    the ``imported`` mark), deleted runs included."""
    store.runs.update_info(v.run_id(run_id), dict(fields), allow_deleted=True)


def read_info(store: TrackingStore, run_id: str) -> dict[str, Any]:
    """The run's ``run.yaml`` as this process sees it (unflushed changes included)."""
    return dict(store.runs.read_state(v.run_id(run_id)).info)


def log_metric_columns(
    store: TrackingStore, run_id: str, columns: tuple[list[str], list[float], list[int], list[int]]
) -> None:
    """Log points given as validated columns (see :func:`validation.plain_metric_columns`)
    in one batch."""
    keys, values, steps, timestamps = columns
    if keys:
        store.runs.log_batch(v.run_id(run_id), metrics=MetricColumns(keys, values, steps, timestamps))
