"""Logged models (MLflow 3's ``LoggedModel``): recorded in their run, found through the index.

A logged model is the artifact folder ``<name>/`` of its run plus an entry of the
run's ``models.yaml``::

    model:
      model_id: m-3f2a...          # derived from run, name and content: stable, unique per run
      digest: sha256:...           # the folder's manifest: identical models share it
      flavors: [python_function, sklearn]
      params: {alpha: "0.5"}       # log_model(params=...)
      tags: {stage: candidate}     # log_model(tags=...), set_logged_model_tags
      metrics: {rmse: {value: 0.71, step: 3, timestamp: 1795...}}   # log_metric(..., model_id=)
      step: 0
      model_type: null
      creation_timestamp: 1795...  # ms
      utc_time_created: "2026-11-26 09:55:53.550783"
      model_size_bytes: 9483

``models:/<model_id>`` is resolved by the search index (``logged_models`` table),
or at once for a model this process logged.  Nothing here is stored outside the
run's record: models travel with their runs on ``gitrun push``/``fetch``.
"""

from __future__ import annotations

import datetime
import hashlib
import threading
import time
from pathlib import Path
from typing import Any

from gitrun.core.records import layout
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from gitrun.tracking import entities as ent
from gitrun.tracking import validation as v
from gitrun.tracking.store import TrackingStore

_lock = threading.Lock()
_known: dict[str, tuple[str, str]] = {}  # model id -> (run id, name), models logged by this process
_last: dict[str, str | None] = {"model_id": None}


def model_id_for(run_id: str, name: str, digest: str) -> str:
    """``m-<32 hex>``: the same model logged under the same name in the same run keeps its id."""
    return "m-" + hashlib.sha256(f"{run_id}\0{name}\0{digest}".encode()).hexdigest()[:32]


def record_model(
    store: TrackingStore,
    run_id: str,
    local_dir: Path,
    name: str,
    *,
    flavors: list[str],
    model_size_bytes: int | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
) -> ent.LoggedModel:
    """Log a saved model's folder as ``<name>/`` of the run and record it as a logged model.

    The folder replaces whatever was logged under ``<name>/`` before, so a model
    re-logged under the same name never keeps files of the previous one.
    """
    from gitrun.tracking.artifacts import writes
    from gitrun.tracking.artifacts.records import read_entries

    clean_params = {
        v.validate_key(str(k), "param"): v.param_value(str(k), val) for k, val in (params or {}).items()
    }
    clean_tags = {v.validate_key(str(k), "tag"): v.tag_value(str(k), val) for k, val in (tags or {}).items()}
    writes.log_artifacts(store, run_id, local_dir, name, replace=True)
    entry = read_entries(store, run_id).get(name)
    digest = str(entry.digest) if entry is not None else ""
    now = datetime.datetime.now(datetime.timezone.utc)
    model_id = model_id_for(run_id, name, digest)
    record = {
        "model_id": model_id,
        "digest": digest,
        "flavors": sorted(flavors),
        "params": clean_params,
        "tags": clean_tags,
        "metrics": {},
        "model_type": model_type,
        "step": int(step),
        "status": ent.LoggedModelStatus.READY,
        "creation_timestamp": int(now.timestamp() * 1000),
        "utc_time_created": now.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "model_size_bytes": model_size_bytes,
    }
    store.writer.update_map(run_id, layout.MODELS_FILE, {name: record})
    with _lock:
        _known[model_id] = (run_id, name)
        _last["model_id"] = model_id
    return _entity(store, run_id, name, record)


def run_models(store: TrackingStore, run_id: str) -> dict[str, dict[str, Any]]:
    """The run's ``models.yaml`` (this process's unflushed changes included)."""
    if store.writer.is_live(run_id):
        return store.writer.read_map(run_id, layout.MODELS_FILE)
    if not store.run_exists(run_id):
        raise ResourceDoesNotExist(f"Run '{run_id}' not found")
    entry = store.records.entry(f"{layout.run_dir(run_id)}/{layout.MODELS_FILE}")
    return store.records.load_yaml(entry.oid, layout.MODELS_FILE) if entry else {}


def run_entities(store: TrackingStore, run_id: str) -> dict[str, ent.LoggedModel]:
    """The models a run logged, by name."""
    records = run_models(store, run_id)
    return {
        name: _entity(store, run_id, name, r)
        for name, r in records.items()
        if isinstance(r, dict) and r.get("model_id")
    }


def locate(store: TrackingStore, model_id: str) -> tuple[str, str]:
    """``(run_id, name)`` of a logged model.

    Raises:
        ResourceDoesNotExist: no run records a model with this id.
    """
    with _lock:
        known = _known.get(model_id)
    if known is not None:
        return known
    from gitrun.tracking.search import index_for

    store.writer.flush()
    found = index_for(store).logged_models(model_id=model_id)
    if not found:
        raise ResourceDoesNotExist(f"Logged model with ID '{model_id}' not found")
    run_id, name, _, _ = found[0]
    return run_id, name


def get_logged_model(store: TrackingStore, model_id: str) -> ent.LoggedModel:
    run_id, name = locate(store, model_id)
    record = run_models(store, run_id).get(name)
    if record is None or record.get("model_id") != model_id:
        raise ResourceDoesNotExist(f"Logged model with ID '{model_id}' not found (replaced in run {run_id})")
    return _entity(store, run_id, name, record)


def last_logged_model(store: TrackingStore) -> ent.LoggedModel | None:
    """The model this process logged last (None if it logged none)."""
    model_id = _last["model_id"]
    return get_logged_model(store, model_id) if model_id else None


def set_tags(store: TrackingStore, model_id: str, tags: dict[str, Any], delete: tuple[str, ...] = ()) -> None:
    run_id, name = locate(store, model_id)
    record = dict(run_models(store, run_id).get(name) or {})
    current = dict(record.get("tags") or {})
    for key in delete:
        if key not in current:
            raise ResourceDoesNotExist(f"No tag with key {key!r} on logged model {model_id}")
        del current[key]
    current.update({v.validate_key(str(k), "tag"): v.tag_value(str(k), val) for k, val in tags.items()})
    record["tags"] = current
    store.writer.update_map(run_id, layout.MODELS_FILE, {name: record})


def log_metrics(store: TrackingStore, model_id: str, points: list[tuple[str, float, int, int]]) -> None:
    """Attach metric points to a logged model (its latest value per key, by MLflow's rule)."""
    run_id, name = locate(store, model_id)
    record = dict(run_models(store, run_id).get(name) or {})
    metrics = dict(record.get("metrics") or {})
    for key, value, step, timestamp in points:
        old = metrics.get(key)
        if old is None or (step, timestamp, value) >= (old["step"], old["timestamp"], old["value"]):
            metrics[key] = {"value": value, "step": step, "timestamp": timestamp}
    record["metrics"] = metrics
    store.writer.update_map(run_id, layout.MODELS_FILE, {name: record})


def search(
    store: TrackingStore,
    experiment_ids: list[str] | None,
    filter_string: str | None,
    order_by: list[str] | list[dict[str, Any]] | None,
    max_results: int | None,
) -> list[ent.LoggedModel]:
    """Logged models of active runs, filtered with the run filter grammar's clauses
    (``name``, ``model_id``, ``source_run_id``, ``params.x``, ``tags.x``, ``metrics.x``)."""
    from gitrun.tracking.model_filters import matches, parse, sort
    from gitrun.tracking.search import index_for

    clauses = parse(filter_string)
    store.writer.flush()
    rows = index_for(store).logged_models(experiment_ids=tuple(experiment_ids) if experiment_ids else None)
    models = []
    for run_id, name, model_id, _ in rows:
        record = run_models(store, run_id).get(name)
        if record is not None and record.get("model_id") == model_id:
            model = _entity(store, run_id, name, record)
            if matches(model, clauses):
                models.append(model)
    models = sort(models, order_by)
    return models if max_results is None else models[:max_results]


def _entity(store: TrackingStore, run_id: str, name: str, record: dict[str, Any]) -> ent.LoggedModel:
    model_id = str(record["model_id"])
    metrics = [
        ent.Metric(key, float(p["value"]), int(p["timestamp"]), int(p["step"]), run_id, model_id=model_id)
        for key, p in sorted((record.get("metrics") or {}).items())
    ]
    created = int(record.get("creation_timestamp") or 0)
    return ent.LoggedModel(
        model_id=model_id,
        name=name,
        experiment_id=_experiment_of(store, run_id),
        source_run_id=run_id,
        artifact_location=f"runs:/{run_id}/{name}",
        creation_timestamp=created,
        last_updated_timestamp=max(created, max((m.timestamp for m in metrics), default=0)),
        digest=str(record.get("digest") or ""),
        status=str(record.get("status") or ent.LoggedModelStatus.READY),
        model_type=record.get("model_type"),
        step=int(record.get("step") or 0),
        flavors=tuple(record.get("flavors") or ()),
        params={str(k): str(val) for k, val in (record.get("params") or {}).items()},
        tags={str(k): str(val) for k, val in (record.get("tags") or {}).items()},
        metrics=metrics,
    )


def _experiment_of(store: TrackingStore, run_id: str) -> str:
    if store.writer.is_live(run_id):
        return str(store.writer.read_info(run_id)["experiment_id"])
    return store.get_run(run_id).info.experiment_id


def outputs(records: dict[str, Any]) -> list[ent.LoggedModelOutput]:
    """A run's ``outputs.model_outputs`` from its ``models.yaml``."""
    return [
        ent.LoggedModelOutput(str(r["model_id"]), int(r.get("step") or 0))
        for _, r in sorted(records.items())
        if isinstance(r, dict) and r.get("model_id")
    ]


def now_ms() -> int:
    return int(time.time() * 1000)


def check_model_id(model_id: Any) -> str:
    if not isinstance(model_id, str) or not model_id.startswith("m-"):
        raise InvalidParameterValue(f"invalid logged model id {model_id!r} (ids look like m-<32 hex>)")
    return model_id
