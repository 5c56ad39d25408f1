"""Write an MLflow store with MLflow's own API (run in the MLflow venv).

``python make_store.py <tracking uri> <work dir> [--more]``: experiments with tags, a
parent with nested children, NaN/inf metrics, a 12,000-point history, a deleted run,
a deleted experiment, a failed run, artifacts (files, a folder, a duplicate file),
a dataset input.  ``--more`` adds runs to an existing store (the second import).
"""

import json
import os
import sys

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import Metric

uri, work = sys.argv[1], sys.argv[2]
more = "--more" in sys.argv
mlflow.set_tracking_uri(uri)
client = MlflowClient()
out = {}

if more:
    mlflow.set_experiment("imported")
    with mlflow.start_run(run_name="late") as run:
        mlflow.log_param("late", "yes")
        mlflow.log_metric("loss", 0.25, step=3)
    out["late"] = run.info.run_id
    print("RESULT " + json.dumps(out))
    sys.exit(0)

exp = mlflow.set_experiment("imported")
client.set_experiment_tag(exp.experiment_id, "team", "vision")
with mlflow.start_run(run_name="parent", description="the sweep") as parent:
    mlflow.log_param("search", "grid")
    mlflow.set_tag("kind", "sweep")
    for i in range(3):
        with mlflow.start_run(run_name=f"child-{i}", nested=True):
            mlflow.log_params({"lr": 10**-i, "depth": i})
            for step in range(5):
                mlflow.log_metric("loss", 1.0 / (step + 1 + i), step=step)
    files = os.path.join(work, "files")
    os.makedirs(os.path.join(files, "sub"), exist_ok=True)
    with open(os.path.join(files, "a.txt"), "w") as fh:
        fh.write("same bytes\n")
    with open(os.path.join(files, "sub", "b.bin"), "wb") as fh:
        fh.write(bytes(range(256)) * 100)
    with open(os.path.join(files, "sub", "copy.txt"), "w") as fh:
        fh.write("same bytes\n")
    mlflow.log_artifacts(files, "outputs")
    mlflow.log_text("hello", "notes.txt")
    data = pd.DataFrame({"x": np.arange(10), "y": np.arange(10) * 2.0})
    mlflow.log_input(mlflow.data.from_pandas(data, name="train-set"), context="training")
out["parent"] = parent.info.run_id

with mlflow.start_run(run_name="special") as run:
    mlflow.log_metric("weird", float("nan"), step=0)
    mlflow.log_metric("weird", float("inf"), step=1)
    mlflow.log_metric("weird", float("-inf"), step=2)
    mlflow.log_metric("weird", -0.0, step=3)
    mlflow.log_metric("weird", 1e-300, step=4)
    points = [Metric("long", float(s) / 7, 1_700_000_000_000 + s, s) for s in range(12_000)]
    for start in range(0, len(points), 1000):
        client.log_batch(run.info.run_id, metrics=points[start : start + 1000])
    mlflow.log_param("unicode", "héllo ✓")
    mlflow.set_tag("multi\nline", "a\nb") if False else mlflow.set_tag("note", "line one\nline two")
out["special"] = run.info.run_id

with mlflow.start_run(run_name="gone") as run:
    mlflow.log_param("p", "1")
    mlflow.log_metric("m", 1.0)
client.delete_run(run.info.run_id)
out["deleted"] = run.info.run_id

with mlflow.start_run(run_name="broken") as run:
    mlflow.log_metric("m", 2.0)
client.set_terminated(run.info.run_id, "FAILED")
out["failed"] = run.info.run_id

other = client.create_experiment("old-stuff", tags={"archived": "yes"})
run = client.create_run(other, run_name="in-deleted-experiment")
client.log_param(run.info.run_id, "q", "2")
client.set_terminated(run.info.run_id)
client.delete_experiment(other)
out["in_deleted_experiment"] = run.info.run_id

mlflow.set_experiment("second")
with mlflow.start_run(run_name="plain") as run:
    mlflow.log_metric("acc", 0.5)
out["second"] = run.info.run_id
print("RESULT " + json.dumps(out))
