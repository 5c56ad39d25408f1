"""Everything MLflow's own API reads from a store, as JSON (run in the MLflow venv).

``python dump_store.py <tracking uri>``: experiments (all view types) and every run:
info, params, tags, latest metrics, full histories, dataset inputs, and every
artifact file with its size and SHA-256.
"""

import hashlib
import json
import math
import sys
import tempfile

import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType


def number(value):
    return value if math.isfinite(value) else repr(value)


def walk(client, run_id, path, out, scratch):
    for item in client.list_artifacts(run_id, path):
        if item.is_dir:
            walk(client, run_id, item.path, out, scratch)
        else:
            local = client.download_artifacts(run_id, item.path, scratch)
            with open(local, "rb") as fh:
                out[item.path] = [item.file_size, hashlib.sha256(fh.read()).hexdigest()]


mlflow.set_tracking_uri(sys.argv[1])
client = MlflowClient()
experiments = {}
for exp in client.search_experiments(view_type=ViewType.ALL):
    experiments[exp.name] = {
        "lifecycle_stage": exp.lifecycle_stage,
        "tags": {k: v for k, v in exp.tags.items() if not k.startswith("mlflow.")},
        "id": exp.experiment_id,
    }
runs = {}
for exp in client.search_experiments(view_type=ViewType.ALL):
    for run in client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL, max_results=10000):
        info = run.info
        histories = {
            key: [[m.step, m.timestamp, number(m.value)] for m in client.get_metric_history(info.run_id, key)]
            for key in run.data.metrics
        }
        artifacts = {}
        with tempfile.TemporaryDirectory() as scratch:
            walk(client, info.run_id, None, artifacts, scratch)
        full = client.get_run(info.run_id)
        runs[info.run_id] = {
            "experiment": exp.name,
            "run_name": info.run_name,
            "status": info.status,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "user_id": info.user_id,
            "lifecycle_stage": info.lifecycle_stage,
            "params": run.data.params,
            "tags": run.data.tags,
            "metrics": {k: number(v) for k, v in run.data.metrics.items()},
            "histories": histories,
            "datasets": sorted(
                [
                    d.dataset.name,
                    d.dataset.digest,
                    d.dataset.source_type,
                    sorted((t.key, t.value) for t in d.tags),
                ]
                for d in full.inputs.dataset_inputs
            ),
            "artifacts": artifacts,
        }
print("RESULT " + json.dumps({"experiments": experiments, "runs": runs}))
