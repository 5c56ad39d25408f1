"""Records as MLflow entities: the one place a stored run or experiment becomes one.

The storage core reads and checks a record into a frozen value
(:class:`~gitrun.core.records.values.RunRecord`, :class:`ExperimentRecord`); this
module only maps those values to the entities users see.  Search pages build their
runs from the index's columns (:func:`gitrun.tracking.entities.run_from_fields`),
which the index filled from the same ``RunRecord``.
"""

from __future__ import annotations

from gitrun.core.records.values import ExperimentRecord, RunRecord
from gitrun.tracking import entities as ent


def to_run(record: RunRecord) -> ent.Run:
    """The run, with its dataset inputs, logged-model outputs and whole ``run.yaml``."""
    from gitrun.tracking.datasets import dataset_inputs
    from gitrun.tracking.logged_models import outputs

    info = ent.RunInfo(
        run_id=record.run_id,
        run_name=record.run_name,
        experiment_id=record.experiment_id,
        user_id=record.user_id,
        status=record.status,
        start_time=record.start_time,
        end_time=record.end_time,
        artifact_uri=record.artifact_uri,
        lifecycle_stage=record.lifecycle_stage,
    )
    data = ent.RunData(metrics=record.metrics, params=record.params, tags=record.tags)
    # Declared input files (name: path, digest: address) and logged datasets.
    inputs = ent.RunInputs(dataset_inputs(dict(record.inputs), dict(record.datasets)))
    return ent.Run(info, data, inputs, ent.RunOutputs(outputs(dict(record.models))), record=dict(record.info))


def to_experiment(record: ExperimentRecord) -> ent.Experiment:
    return ent.Experiment(
        experiment_id=record.experiment_id,
        name=record.name,
        artifact_location=record.artifact_location,
        lifecycle_stage=record.lifecycle_stage,
        tags=dict(record.tags),
        creation_time=record.creation_time,
        last_update_time=record.last_update_time,
    )
