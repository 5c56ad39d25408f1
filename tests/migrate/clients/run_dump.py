"""One run as the import/export tests compare it, from MLflow's entities or gitrun's.

Shared by ``dump_store.py`` (run in the MLflow venv, MLflow's ``Run``) and the tests
(gitrun's ``Run``): the two APIs name these fields alike, so one function reads both
and a field cannot be compared on one side only.  Standard library only.
"""

import math


def number(value):
    """A metric value JSON keeps exactly (NaN and infinities as their repr)."""
    return value if math.isfinite(value) else repr(value)


def run_entry(experiment, run, history, artifacts):
    """``run``: a full run (``get_run``); ``history(key)``: the key's metric points."""
    info = run.info
    return {
        "experiment": experiment,
        "run_name": info.run_name,
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "user_id": info.user_id,
        "lifecycle_stage": info.lifecycle_stage,
        "params": run.data.params,
        "tags": run.data.tags,
        "metrics": {k: number(v) for k, v in run.data.metrics.items()},
        "histories": {
            key: [[m.step, m.timestamp, number(m.value)] for m in history(key)] for key in run.data.metrics
        },
        "datasets": sorted(
            [
                d.dataset.name,
                d.dataset.digest,
                d.dataset.source_type,
                sorted([t.key, t.value] for t in d.tags),
            ]
            for d in run.inputs.dataset_inputs
        ),
        "artifacts": artifacts,
    }
