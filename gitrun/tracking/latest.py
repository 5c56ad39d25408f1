"""The latest point of each metric of a run, with its step and timestamp.

``get_run`` gives MLflow's ``{key: value}``; MLflow's REST messages also carry the
latest point's step and timestamp, which ``metrics.yaml`` keeps.
"""

from __future__ import annotations

from gitrun.core.records import layout
from gitrun.errors import ResourceDoesNotExist
from gitrun.tracking import entities as ent
from gitrun.tracking import validation as v
from gitrun.tracking.store import TrackingStore


def latest_points(store: TrackingStore, run_id: str) -> dict[str, ent.Metric]:
    """Key -> latest point (greatest step, then timestamp, then value), as committed
    after this process's pending writes of the run.

    Raises:
        ResourceDoesNotExist: No such run.
    """
    run_id = v.run_id(run_id)
    if store.runs.is_live(run_id):
        store.runs.flush([run_id])
    folder = layout.run_dir(run_id)
    if store.records.entry(folder) is None:
        raise ResourceDoesNotExist(f"Run with id={run_id} not found")
    entry = store.records.entry(f"{folder}/{layout.METRICS_FILE}")
    found = store.records.load_yaml(entry.oid, layout.METRICS_FILE) if entry else {}
    return {
        str(key): ent.Metric(str(key), float(p["value"]), int(p["timestamp"]), int(p["step"]), run_id)
        for key, p in found.items()
    }
