"""A bigger MLflow store for the resume test: ``python make_big.py <uri> <runs> <points>``."""

import sys
import time

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

uri, runs, points = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mlflow.set_tracking_uri(uri)
client = MlflowClient()
exp = client.create_experiment("big")
now = int(time.time() * 1000)
for r in range(runs):
    run = client.create_run(exp, run_name=f"run-{r}", start_time=now + r)
    series = [Metric("loss", 1.0 / (s + 1 + r), now + s, s) for s in range(points)]
    for start in range(0, points, 1000):
        client.log_batch(
            run.info.run_id,
            metrics=series[start : start + 1000],
            params=[] if start else [Param("r", str(r))],
        )
    client.set_terminated(run.info.run_id, end_time=now + r + 1)
print("RESULT {}")
