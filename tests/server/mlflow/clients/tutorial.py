"""The tutorial flow through the real MLflow client; prints what it logged as JSON.

Run by tests/server/test_mlflow_client.py in the MLflow venv, against `gitrun server`:
``python tutorial.py <workdir>`` with MLFLOW_TRACKING_URI set.
"""

import json
import math
import os
import sys

import mlflow
import numpy as np
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

work = sys.argv[1]
out = {}
mlflow.set_experiment("tutorial")
with mlflow.start_run(run_name="first") as run:
    out["first"] = run.info.run_id
    mlflow.log_param("lr", 0.01)
    mlflow.log_params({"layers": 3, "optimizer": "adam"})
    for step in range(20):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metric("weird", float("nan"), step=0)
    mlflow.log_metric("weird", float("inf"), step=1)
    mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=19)
    mlflow.set_tag("team", "vision")
    mlflow.set_tags({"a": "1", "b": "2"})
    mlflow.delete_tag("b")
    path = os.path.join(work, "hello.txt")
    with open(path, "w") as fh:
        fh.write("hello artifacts\n")
    mlflow.log_artifact(path)
    mlflow.log_artifact(path, "sub/dir")
    folder = os.path.join(work, "folder")
    os.makedirs(os.path.join(folder, "inner"), exist_ok=True)
    with open(os.path.join(folder, "a.txt"), "w") as fh:
        fh.write("a")
    with open(os.path.join(folder, "inner", "b.bin"), "wb") as fh:
        fh.write(bytes(range(256)) * 40)
    mlflow.log_artifacts(folder, "t")
    mlflow.log_text("some text", "notes/readme.md")
    mlflow.log_dict({"x": 1}, "config.json")

with mlflow.start_run(run_name="parent") as parent:
    out["parent"] = parent.info.run_id
    children = []
    for i, lr in enumerate([0.1, 0.01, 0.001]):
        with mlflow.start_run(run_name=f"child-{i}", nested=True) as child:
            mlflow.log_param("lr", lr)
            mlflow.log_metric("val", 1 - lr * i)
            children.append(child.info.run_id)
    out["children"] = children

mlflow.sklearn.autolog()
X, y = load_iris(return_X_y=True)
with mlflow.start_run(run_name="autolog") as run:
    LogisticRegression(max_iter=200).fit(X, y)
    out["autolog"] = run.info.run_id
mlflow.sklearn.autolog(disable=True)

with mlflow.start_run(run_name="model") as run:
    model = LogisticRegression(max_iter=200).fit(X, y)
    info = mlflow.sklearn.log_model(model, name="model")
    out["model_run"] = run.info.run_id
    out["model_id"] = info.model_id
loaded = mlflow.sklearn.load_model(f"runs:/{out['model_run']}/model")
out["predictions_equal"] = bool(np.array_equal(loaded.predict(X), model.predict(X)))
loaded2 = mlflow.pyfunc.load_model(f"models:/{out['model_id']}")
out["pyfunc_equal"] = bool(np.array_equal(np.asarray(loaded2.predict(X)), model.predict(X)))

client = MlflowClient()
exp = client.get_experiment_by_name("tutorial")
out["experiment_id"] = exp.experiment_id
paged, token, pages = [], None, 0
while True:
    page = client.search_runs(
        [exp.experiment_id],
        "params.lr != '0.001'",
        order_by=["attributes.start_time ASC"],
        max_results=2,
        page_token=token,
    )
    paged += [r.info.run_id for r in page]
    pages += 1
    token = page.token
    if not token:
        break
out["paged"] = paged
out["pages"] = pages
ordered = client.search_runs([exp.experiment_id], "metrics.val > 0", order_by=["metrics.val DESC"])
out["ordered"] = [r.info.run_id for r in ordered]
out["history"] = [[m.step, m.timestamp, m.value] for m in client.get_metric_history(out["first"], "loss")]
weird = client.get_metric_history(out["first"], "weird")
out["weird"] = [repr(m.value) for m in weird]
out["artifacts_root"] = sorted(f.path for f in client.list_artifacts(out["first"]))
out["artifacts_t"] = sorted((f.path, f.is_dir, f.file_size) for f in client.list_artifacts(out["first"], "t"))
local = client.download_artifacts(out["first"], "t", work)
out["downloaded_b"] = open(os.path.join(local, "inner", "b.bin"), "rb").read() == bytes(range(256)) * 40
out["text"] = mlflow.artifacts.load_text(f"runs:/{out['first']}/notes/readme.md")
first = client.get_run(out["first"])
out["first_run"] = {
    "params": first.data.params,
    "metrics": {
        k: (repr(v) if isinstance(v, float) and not math.isfinite(v) else v)
        for k, v in first.data.metrics.items()
    },
    "tags": {k: v for k, v in first.data.tags.items()},
    "status": first.info.status,
    "user": first.info.user_id,
    "start_time": first.info.start_time,
    "end_time": first.info.end_time,
    "name": first.info.run_name,
}
autolog_run = client.get_run(out["autolog"])
out["autolog_params"] = autolog_run.data.params
out["autolog_metrics"] = autolog_run.data.metrics
out["autolog_datasets"] = [d.dataset.name for d in autolog_run.inputs.dataset_inputs]
print("RESULT " + json.dumps(out))
