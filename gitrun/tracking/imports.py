"""Bringing runs from another store into gitrun, idempotently and resumably.

:func:`sync_run` makes a gitrun run equal to a source run, keeping its id.  What is
already there is not written again: params and tags are set, metric series get only
the points past those already recorded (a series is imported in the source's order,
so what an interrupted import left is a prefix), artifacts are content-addressed.
The last write marks the run ``imported`` with the source's fingerprint of it; a run
whose mark matches is skipped without a write, so importing twice adds nothing, and an
import killed half-way resumes where it stopped (the journal keeps every batch that
was logged before the kill).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from gitrun.core.records.run_store import MetricColumns
from gitrun.errors import ResourceDoesNotExist
from gitrun.tracking import datasets, ingest
from gitrun.tracking import entities as ent
from gitrun.tracking.client import Client
from gitrun.tracking.run_record import RUN_NAME_TAG
from gitrun.tracking.store import TrackingStore

IMPORT_MARK = "imported"
BATCH = 10_000
Points = Sequence[tuple[int, int, float]]


@dataclass(frozen=True)
class ImportedRun:
    """A source run as gitrun will record it.

    Attributes:
        history: The full series of a metric key, in the source's order, as
            ``(step, timestamp, value)`` points (called only for runs that need it).
        artifacts_dir: A local folder holding the run's artifacts (None: none).
        fingerprint: Changes whenever the source run changes (decides re-imports).
    """

    run_id: str
    experiment_id: str
    run_name: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    lifecycle_stage: str
    params: Mapping[str, str]
    tags: Mapping[str, str]
    metric_keys: Sequence[str]
    history: Callable[[str], Points]
    fingerprint: str
    source: str
    datasets: Sequence[ent.DatasetInput] = field(default_factory=list)
    artifacts_dir: Callable[[], str | None] = lambda: None


def imported_mark(store: TrackingStore, run_id: str) -> str | None:
    """The fingerprint an earlier import left on the run (None: not imported, or partly)."""
    if not store.run_exists(run_id):
        return None
    try:
        mark = ingest.read_info(store, run_id).get(IMPORT_MARK)
    except ResourceDoesNotExist:
        return None
    return str(mark["fingerprint"]) if isinstance(mark, dict) and "fingerprint" in mark else None


def needs_sync(store: TrackingStore, run: ImportedRun) -> bool:
    return imported_mark(store, run.run_id) != run.fingerprint


def sync_run(store: TrackingStore, run: ImportedRun) -> int:
    """Make the gitrun run ``run.run_id`` hold what the source has; returns the number of
    metric points written."""
    client = Client(store.uri)
    runs = store.runs
    existed = store.run_exists(run.run_id)
    if not existed:
        ingest.create_run(
            store,
            ingest.RunSpec(
                run.experiment_id,
                run_id=run.run_id,
                run_name=run.run_name or None,
                user_id=run.user_id,
                start_time=run.start_time,
                tags={k: v for k, v in run.tags.items() if k != RUN_NAME_TAG},
                origin=f"import:{run.source}",
            ),
        )
    else:
        # Writes below need an active run; the recorded lifecycle stage is set last.
        ingest.set_info(store, run.run_id, {"lifecycle_stage": ent.LifecycleStage.ACTIVE})
    if run.params:
        runs.log_batch(run.run_id, params=dict(run.params))  # equal values are no-ops
    if run.tags:
        runs.log_batch(run.run_id, tags=dict(run.tags))
    written = 0
    for key in run.metric_keys:
        points = run.history(key)
        # What an interrupted import of this run logged is a prefix of the source's series.
        have = len(client.get_metric_history(run.run_id, key)) if existed else 0
        for start in range(have, len(points), BATCH):
            chunk = points[start : start + BATCH]
            steps, timestamps, values = zip(*chunk)
            runs.log_batch(run.run_id, metrics=MetricColumns([key] * len(chunk), values, steps, timestamps))
            written += len(chunk)
    if run.datasets:
        datasets.log_inputs(store, run.run_id, run.datasets)
    folder = run.artifacts_dir()
    if folder is not None and os.path.isdir(folder) and os.listdir(folder):
        client.log_artifacts(run.run_id, folder)
    ingest.set_info(
        store,
        run.run_id,
        {
            "run_name": run.run_name,
            "user_id": run.user_id,
            "status": run.status,
            "start_time": run.start_time,
            "end_time": run.end_time,
            "lifecycle_stage": run.lifecycle_stage,
            IMPORT_MARK: {"source": run.source, "fingerprint": run.fingerprint},
        },
    )
    return written


def ensure_experiment(
    store: TrackingStore, name: str, tags: Mapping[str, str], creation_time: int | None = None
) -> str:
    """The gitrun experiment named ``name`` (created, with ``tags``, if missing); active."""
    client = Client(store.uri)
    found = client.get_experiment_by_name(name)
    if found is None:
        return client.create_experiment(name, tags=dict(tags))
    for key, value in tags.items():
        if found.tags.get(key) != value:
            client.set_experiment_tag(found.experiment_id, key, value)
    if found.lifecycle_stage != ent.LifecycleStage.ACTIVE:
        store.experiments.set_lifecycle(found.experiment_id, ent.LifecycleStage.ACTIVE)
    return found.experiment_id


def set_experiment_stage(store: TrackingStore, experiment_id: str, stage: str) -> None:
    """Set only the experiment's lifecycle stage (its runs keep theirs, as in MLflow)."""
    if Client(store.uri).get_experiment(experiment_id).lifecycle_stage != stage:
        store.experiments.set_lifecycle(experiment_id, stage)


def find_experiment(store: TrackingStore, name: str) -> ent.Experiment | None:
    return Client(store.uri).get_experiment_by_name(name)


def flush(store: TrackingStore) -> None:
    store.runs.flush()
