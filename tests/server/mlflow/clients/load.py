"""Log runs through the MLflow client as fast as the server answers; acknowledge each call.

``python load.py <name> <runs> <batches> <points> <ack file>``: every call that returned
is appended (and flushed) to the ack file before the next one, so a test that kills the
server knows exactly which requests were answered 200.
Values are deterministic: metric ``m`` at step s of run r (its r-th) is ``s * 0.5 + r``.
"""

import json
import sys
import time

from mlflow import MlflowClient
from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException

name, runs, batches, points, ack_path = sys.argv[1], *map(int, sys.argv[2:5]), sys.argv[5]
client = MlflowClient()
try:
    exp = client.create_experiment("load")
except MlflowException as exc:
    if exc.error_code != "RESOURCE_ALREADY_EXISTS":
        raise
    exp = client.get_experiment_by_name("load").experiment_id

ack = open(ack_path, "a", buffering=1)
made = []
try:
    for r in range(runs):
        run_id = client.create_run(exp, run_name=f"{name}-{r}").info.run_id
        ack.write(json.dumps(["run", run_id, r]) + "\n")
        made.append(run_id)
        for b in range(batches):
            now = int(time.time() * 1000)
            metrics = [Metric("m", s * 0.5 + r, now, s) for s in range(b * points, (b + 1) * points)]
            client.log_batch(run_id, metrics=metrics, params=[Param(f"p{b}", str(b))])
            ack.write(json.dumps(["batch", run_id, r, b]) + "\n")
        client.log_metric(run_id, "single", float(r), step=r)
        ack.write(json.dumps(["single", run_id, r]) + "\n")
        client.set_terminated(run_id)
        ack.write(json.dumps(["end", run_id, r]) + "\n")
finally:
    ack.close()
print("RESULT " + json.dumps({"runs": made}))
