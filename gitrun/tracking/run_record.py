"""The ``run.yaml`` of a new run, however it was started.

A run begun in this process (:meth:`TrackingStore.create_run`), one created by a
remote MLflow client through ``gitrun server`` or by ``gitrun import-mlflow``
(:mod:`gitrun.tracking.ingest`) all get their record from :func:`new_run_info`, so
the fields of a run never depend on how it arrived.  What differs is what the
caller adds afterwards (the code snapshot of this process, for one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitrun.core.records import layout
from gitrun.errors import InvalidParameterValue
from gitrun.tracking import entities as ent
from gitrun.tracking import validation as v

RUN_NAME_TAG = "mlflow.runName"
USER_TAG = "mlflow.user"


def check_active(experiment: ent.Experiment) -> None:
    """A run is only created in an active experiment.

    Raises:
        InvalidParameterValue: The experiment is deleted.
    """
    if experiment.lifecycle_stage != ent.LifecycleStage.ACTIVE:
        raise InvalidParameterValue(
            f"The experiment {experiment.experiment_id} must be in the 'active' state. Current state is "
            f"{experiment.lifecycle_stage}."
        )


def checked_run_name(run_name: str | None, tags: Mapping[str, str]) -> str | None:
    """The ``run_name`` argument, checked as the ``mlflow.runName`` tag it becomes (text
    that is not valid Unicode is refused) and against that tag when both are given.

    Raises:
        InvalidParameterValue: not valid text, or the tag names another run name.
    """
    if run_name is None:
        return None
    run_name = v.tag_value(RUN_NAME_TAG, run_name)
    named = tags.get(RUN_NAME_TAG)
    if named is not None and named != run_name:
        raise InvalidParameterValue(
            f"Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different "
            f"values (run_name='{run_name}', mlflow.runName='{named}')."
        )
    return run_name


def new_run_info(
    run_id: str,
    experiment_id: str,
    *,
    run_name: str,
    user_id: str,
    start_time: int,
    parent_run_id: str | None,
    source: dict[str, Any],
) -> dict[str, Any]:
    """The record of a new RUNNING, active run."""
    return {
        "schema_version": layout.SCHEMA_VERSION,
        "run_id": run_id,
        "run_name": run_name,
        "experiment_id": experiment_id,
        "status": ent.RunStatus.RUNNING,
        "lifecycle_stage": ent.LifecycleStage.ACTIVE,
        "start_time": start_time,
        "end_time": None,
        "user_id": user_id,
        "artifact_uri": f"runs:/{run_id}",
        "parent_run_id": parent_run_id,
        "source": source,
    }
