"""Runs of experiment "load" by status, read through the MLflow client."""

import json

from mlflow import MlflowClient

client = MlflowClient()
exp = client.get_experiment_by_name("load")
runs = client.search_runs([exp.experiment_id], max_results=10000)
print("RESULT " + json.dumps({"finished": [r.info.run_id for r in runs if r.info.status == "FINISHED"]}))
