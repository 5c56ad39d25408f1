"""Everything MLflow's own API reads from a store, as JSON (run in the MLflow venv).

``python dump_store.py <tracking uri>``: experiments (all view types) and every run:
info, params, tags, latest metrics, full histories, dataset inputs, and every
artifact file with its size and SHA-256.
"""

import hashlib
import json
import sys
import tempfile

import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType
from run_dump import run_entry


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
        run_id = run.info.run_id
        artifacts = {}
        with tempfile.TemporaryDirectory() as scratch:
            walk(client, run_id, None, artifacts, scratch)
        runs[run_id] = run_entry(
            exp.name, client.get_run(run_id), lambda key: client.get_metric_history(run_id, key), artifacts
        )
print("RESULT " + json.dumps({"experiments": experiments, "runs": runs}))
