"""gitrun's tracking values as MLflow's protobuf-JSON messages (unset fields omitted).

Artifact locations are the proxy's: ``mlflow-artifacts:/<experiment>/<run>/artifacts``
for runs and ``mlflow-artifacts:/<experiment>/models/<model id>/artifacts`` for logged
models, which the artifact routes map back to the run's files.
"""

from __future__ import annotations

from typing import Any

from gitrun.server.mlflow.views import model_status_name
from gitrun.tracking import entities as ent


def run_artifact_uri(experiment_id: str, run_id: str) -> str:
    return f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"


def model_artifact_uri(model: ent.LoggedModel) -> str:
    return f"mlflow-artifacts:/{model.experiment_id}/models/{model.model_id}/artifacts"


def key_values(items: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in items.items()]


def experiment(exp: ent.Experiment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "experiment_id": exp.experiment_id,
        "name": exp.name,
        "artifact_location": f"mlflow-artifacts:/{exp.experiment_id}",
        "lifecycle_stage": exp.lifecycle_stage,
    }
    if exp.creation_time is not None:
        out["creation_time"] = exp.creation_time
    if exp.last_update_time is not None:
        out["last_update_time"] = exp.last_update_time
    if exp.tags:
        out["tags"] = key_values(exp.tags)
    return out


def run_info(info: ent.RunInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "run_id": info.run_id,
        "run_uuid": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": info.status,
        "start_time": info.start_time,
        "artifact_uri": run_artifact_uri(info.experiment_id, info.run_id),
        "lifecycle_stage": info.lifecycle_stage,
    }
    if info.end_time is not None:
        out["end_time"] = info.end_time
    return out


def metric(m: ent.Metric, run_id: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"key": m.key, "value": m.value, "timestamp": m.timestamp, "step": m.step}
    if run_id is not None:
        out["run_id"] = run_id
    return out


def model_metric(m: ent.Metric) -> dict[str, Any]:
    """A metric point of a logged model (it names the model and the run that logged it)."""
    out = metric(m, m.run_id)
    if m.model_id:
        out["model_id"] = m.model_id
    return out


def dataset_input(item: ent.DatasetInput) -> dict[str, Any]:
    data = item.dataset
    dataset = {
        name: value
        for name, value in (
            ("name", data.name),
            ("digest", data.digest),
            ("source_type", data.source_type),
            ("source", data.source),
            ("schema", data.schema),
            ("profile", data.profile),
        )
        if value is not None
    }
    out: dict[str, Any] = {"dataset": dataset}
    if item.tags:
        out["tags"] = [{"key": t.key, "value": t.value} for t in item.tags]
    return out


def run(r: ent.Run, latest: dict[str, ent.Metric] | None = None) -> dict[str, Any]:
    """A Run; ``latest`` gives each metric's latest point (else step and time are 0)."""
    data: dict[str, Any] = {}
    if r.data.metrics:
        data["metrics"] = [
            metric(latest[k]) if latest and k in latest else {"key": k, "value": v, "timestamp": 0, "step": 0}
            for k, v in r.data.metrics.items()
        ]
    if r.data.params:
        data["params"] = key_values(r.data.params)
    if r.data.tags:
        data["tags"] = key_values(r.data.tags)
    out: dict[str, Any] = {"info": run_info(r.info), "data": data}
    inputs = [dataset_input(d) for d in r.inputs.dataset_inputs]
    out["inputs"] = {"dataset_inputs": inputs} if inputs else {}
    if r.outputs.model_outputs:
        out["outputs"] = {
            "model_outputs": [{"model_id": m.model_id, "step": m.step} for m in r.outputs.model_outputs]
        }
    return out


def logged_model(model: ent.LoggedModel) -> dict[str, Any]:
    info: dict[str, Any] = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "artifact_uri": model_artifact_uri(model),
        "status": model_status_name(model.status),
        "creation_timestamp_ms": model.creation_timestamp,
        "last_updated_timestamp_ms": model.last_updated_timestamp,
    }
    if model.model_type:
        info["model_type"] = model.model_type
    if model.source_run_id:
        info["source_run_id"] = model.source_run_id
    if model.tags:
        info["tags"] = key_values(model.tags)
    data: dict[str, Any] = {}
    if model.params:
        data["params"] = key_values(model.params)
    if model.metrics:
        data["metrics"] = [model_metric(m) for m in model.metrics]
    return {"info": info, "data": data}


def file_info(path: str, is_dir: bool, size: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"path": path, "is_dir": is_dir}
    if not is_dir and size is not None:
        out["file_size"] = size
    return out
