"""One run through the MLflow client with whatever credentials the environment gives."""

import json

import mlflow

mlflow.set_experiment("auth")
with mlflow.start_run() as run:
    mlflow.log_param("x", 1)
    mlflow.log_metric("y", 2.0)
print("RESULT " + json.dumps({"run": run.info.run_id, "user": mlflow.get_run(run.info.run_id).info.user_id}))
