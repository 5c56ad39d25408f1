"""Logged models (MLflow 3's ``LoggedModel``): recorded in their run, found through the index.

A logged model is the artifact folder ``<name>/`` of its run plus an entry of the
run's ``models.yaml``, keyed by the model's name::

    model:
      model_id: m-3f2a...          # m-<32 hex>, see below
      digest: sha256:...           # the folder's manifest: identical models share it
      flavors: [python_function, sklearn]
      params: {alpha: "0.5"}       # log_model(params=...), log_model_params
      tags: {stage: candidate}     # log_model(tags=...), set_logged_model_tags
      metrics: {rmse: {value: 0.71, step: 3, timestamp: 1795...}}   # log_metric(..., model_id=)
      step: 0
      model_type: null
      status: READY                # PENDING until finalized (see below), or FAILED
      creation_timestamp: 1795...  # ms
      last_updated_timestamp: 1795...  # ms (optional: creation, or the latest metric)
      utc_time_created: "2026-11-26 09:55:53.550783"
      model_size_bytes: 9483
      holder_run: true             # optional: created with no source run (see below)

A model gets there in one of two ways:

* **Logged in one step** (every flavor's ``log_model``): the files are logged first,
  so the id is derived from run, name and content digest, and the model is READY.
* **Created before its files exist** (MLflow's ``create_logged_model`` -> upload ->
  ``finalize_logged_model``, which the MLflow client does through ``gitrun server``):
  the id cannot depend on content not yet uploaded, so it is minted at creation (a
  random ``m-<32 hex>``, the shape of MLflow's own ids) and the model is PENDING.
  Finalizing it READY seals the folder into one directory entry and records its
  digest, flavors and size (from its ``MLmodel``); FAILED only changes the status.

Either way an id, once handed out, never changes.  Models are keyed by name, so a
model created or logged again under the same name in the same run replaces the
earlier one (its folder too): the old id then no longer resolves.  A model created
with no source run is kept in a run made to hold it (named after the model, tagged
``gitrun.logged_model_holder``); its ``source_run_id`` is None.

``models:/<model_id>`` is resolved by the search index (``logged_models`` table),
or at once for a model this process logged or created.  Nothing here is stored
outside the run's record: models travel with their runs on ``gitrun push``/``fetch``.
"""

from __future__ import annotations

import datetime
import hashlib
import threading
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gitrun.core.records import layout
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from gitrun.tracking import entities as ent
from gitrun.tracking import validation as v
from gitrun.tracking.store import TrackingStore, now_ms

HOLDER_TAG = "gitrun.logged_model_holder"
STATUSES = (ent.LoggedModelStatus.PENDING, ent.LoggedModelStatus.READY, ent.LoggedModelStatus.FAILED)
_DESCRIPTOR = "MLmodel"

_lock = threading.Lock()
_edit_lock = threading.RLock()  # read-modify-write of one record (server threads share a store)
_known: dict[str, tuple[str, str]] = {}  # model id -> (run id, name), models logged by this process
_last: dict[str, str | None] = {"model_id": None}


def model_id_for(run_id: str, name: str, digest: str) -> str:
    """``m-<32 hex>``: the same model logged under the same name in the same run keeps its id."""
    return "m-" + hashlib.sha256(f"{run_id}\0{name}\0{digest}".encode()).hexdigest()[:32]


def mint_model_id() -> str:
    """A new id for a model created before its files exist (random, like MLflow's)."""
    return "m-" + uuid.uuid4().hex


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

    clean_params, clean_tags = _clean_params(params), _clean_tags(tags)
    writes.log_artifacts(store, run_id, local_dir, name, replace=True)
    entry = read_entries(store, run_id).get(name)
    digest = str(entry.digest) if entry is not None else ""
    record = _new_record(model_id_for(run_id, name, digest), ent.LoggedModelStatus.READY, model_type, step)
    record.update(
        digest=digest,
        flavors=sorted(flavors),
        params=clean_params,
        tags=clean_tags,
        model_size_bytes=model_size_bytes,
    )
    return _store_new(store, run_id, name, record)


def create_model(
    store: TrackingStore,
    experiment_id: str,
    name: str | None,
    *,
    source_run_id: str | None = None,
    model_type: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
) -> ent.LoggedModel:
    """A new PENDING model whose files will be logged to ``<name>/`` of its run.

    Raises:
        ResourceDoesNotExist: Unknown experiment or source run.
        InvalidParameterValue: A bad name, param or tag; a source run of another experiment.
    """
    from gitrun.tracking import ingest, names
    from gitrun.tracking.artifacts.records import record_dir

    experiment_id = v.experiment_id(experiment_id)
    store.get_experiment(experiment_id)  # an unknown experiment is an error
    name = name or names.generate()
    if "/" in name or "\\" in name or name in (".", ".."):
        raise InvalidParameterValue(f"Invalid model name {name!r}: it names a folder of the run")
    clean_params, clean_tags = _clean_params(params), _clean_tags(tags)
    if source_run_id:
        run_id = v.run_id(source_run_id)
        found = str(ingest.read_info(store, run_id).get("experiment_id"))
        if found != experiment_id:
            raise InvalidParameterValue(
                f"The source run {run_id} belongs to experiment {found}, not {experiment_id}"
            )
    else:
        spec = ingest.RunSpec(experiment_id, run_name=name, tags={HOLDER_TAG: "true"}, origin="logged-model")
        run_id = ingest.create_run(store, spec)
        ingest.update_run(store, run_id, status=ent.RunStatus.FINISHED, end_time=now_ms())
    record = _new_record(mint_model_id(), ent.LoggedModelStatus.PENDING, model_type, 0)
    record.update(params=clean_params, tags=clean_tags)
    if not source_run_id:
        record["holder_run"] = True
    with _edit_lock:
        record_dir(store, run_id, name, {}, replace=True)  # the files of a model it replaces go
        return _store_new(store, run_id, name, record)


def _new_record(model_id: str, status: str, model_type: str | None, step: int) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.timezone.utc)
    return {
        "model_id": model_id,
        "digest": "",
        "flavors": [],
        "params": {},
        "tags": {},
        "metrics": {},
        "model_type": model_type,
        "step": int(step),
        "status": status,
        "creation_timestamp": int(now.timestamp() * 1000),
        "utc_time_created": now.strftime("%Y-%m-%d %H:%M:%S.%f"),
        "model_size_bytes": None,
    }


def _store_new(store: TrackingStore, run_id: str, name: str, record: dict[str, Any]) -> ent.LoggedModel:
    store.runs.update_map(run_id, layout.MODELS_FILE, {name: record})
    with _lock:
        _known[record["model_id"]] = (run_id, name)
        _last["model_id"] = record["model_id"]
    return _entity(store, run_id, name, record)


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, str]:
    return {v.validate_key(str(k), "param"): v.param_value(str(k), val) for k, val in (params or {}).items()}


def _clean_tags(tags: Mapping[str, Any] | None) -> dict[str, str]:
    return {v.validate_key(str(k), "tag"): v.tag_value(str(k), val) for k, val in (tags or {}).items()}


def run_models(store: TrackingStore, run_id: str) -> dict[str, dict[str, Any]]:
    """The run's ``models.yaml`` (this process's unflushed changes included)."""
    if store.runs.is_live(run_id):
        return dict(store.runs.read_state(run_id, maps=[layout.MODELS_FILE]).maps[layout.MODELS_FILE])
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
    """``(run_id, name)`` of a logged model: the run holding it and its folder there.

    Raises:
        ResourceDoesNotExist: no run records a model with this id.
    """
    with _lock:
        known = _known.get(model_id)
    if known is not None:
        return known
    from gitrun.tracking.search import index_for

    store.runs.flush()
    found = index_for(store).logged_models(model_id=model_id)
    if not found:
        raise ResourceDoesNotExist(f"Logged model with ID '{model_id}' not found")
    run_id, name, _, _ = found[0]
    return run_id, name


def _current(store: TrackingStore, model_id: str) -> tuple[str, str, dict[str, Any]]:
    run_id, name = locate(store, model_id)
    record = run_models(store, run_id).get(name)
    if record is None or record.get("model_id") != model_id:
        raise ResourceDoesNotExist(f"Logged model with ID '{model_id}' not found (replaced in run {run_id})")
    return run_id, name, record


def get_logged_model(store: TrackingStore, model_id: str) -> ent.LoggedModel:
    run_id, name, record = _current(store, model_id)
    return _entity(store, run_id, name, record)


def last_logged_model(store: TrackingStore) -> ent.LoggedModel | None:
    """The model this process logged last (None if it logged none)."""
    model_id = _last["model_id"]
    return get_logged_model(store, model_id) if model_id else None


def _edit(
    store: TrackingStore, model_id: str, change: Callable[[str, str, dict[str, Any]], None]
) -> ent.LoggedModel:
    """Apply ``change(run_id, name, record)`` to a copy of the model's record and write it."""
    with _edit_lock:
        run_id, name, current = _current(store, model_id)
        record = dict(current)
        change(run_id, name, record)
        record["last_updated_timestamp"] = now_ms()
        store.runs.update_map(run_id, layout.MODELS_FILE, {name: record})
    return _entity(store, run_id, name, record)


def set_tags(store: TrackingStore, model_id: str, tags: dict[str, Any], delete: tuple[str, ...] = ()) -> None:
    clean = _clean_tags(tags)

    def change(run_id: str, name: str, record: dict[str, Any]) -> None:
        current = dict(record.get("tags") or {})
        for key in delete:
            if key not in current:
                raise ResourceDoesNotExist(f"No tag with key {key!r} on logged model {model_id}")
            del current[key]
        record["tags"] = {**current, **clean}

    _edit(store, model_id, change)


def log_params(store: TrackingStore, model_id: str, params: Mapping[str, Any]) -> None:
    """MLflow's ``log_model_params``: add params to a model (a key logged again takes the new value)."""
    clean = _clean_params(params)

    def change(run_id: str, name: str, record: dict[str, Any]) -> None:
        record["params"] = {**(record.get("params") or {}), **clean}

    _edit(store, model_id, change)


def log_metrics(store: TrackingStore, model_id: str, points: list[tuple[str, float, int, int]]) -> None:
    """Attach metric points to a logged model (its latest value per key, by MLflow's rule)."""

    def change(run_id: str, name: str, record: dict[str, Any]) -> None:
        metrics = dict(record.get("metrics") or {})
        for key, value, step, timestamp in points:
            old = metrics.get(key)
            if old is None or (step, timestamp, value) >= (old["step"], old["timestamp"], old["value"]):
                metrics[key] = {"value": value, "step": step, "timestamp": timestamp}
        record["metrics"] = metrics

    _edit(store, model_id, change)


def finalize(store: TrackingStore, model_id: str, status: str) -> ent.LoggedModel:
    """End a created model's upload: READY records what its folder holds, FAILED only the status.

    READY seals the folder ``<name>/`` (files uploaded one by one become one
    directory entry, as ``log_model`` writes it) and records its digest, and the
    flavors and size its ``MLmodel`` gives.  Finalizing again is harmless.

    Raises:
        InvalidParameterValue: ``status`` is neither READY nor FAILED.
        ResourceDoesNotExist: No such model.
    """
    if status not in (ent.LoggedModelStatus.READY, ent.LoggedModelStatus.FAILED):
        raise InvalidParameterValue(f"Invalid logged model status {status!r}: finalize with READY or FAILED")

    def change(run_id: str, name: str, record: dict[str, Any]) -> None:
        record["status"] = status
        if status == ent.LoggedModelStatus.READY:
            record.update(_sealed(store, run_id, name))

    return _edit(store, model_id, change)


def _sealed(store: TrackingStore, run_id: str, name: str) -> dict[str, Any]:
    """Seal ``<name>/`` of the run; the record fields its files give."""
    from gitrun.tracking.artifacts.records import seal_folder
    from gitrun.tracking.artifacts.stores import stores_for

    sealed = seal_folder(store, run_id, name)
    if sealed is None:
        return {"digest": "", "flavors": [], "model_size_bytes": None}
    digest, files = sealed
    found: dict[str, Any] = {"digest": str(digest), "model_size_bytes": sum(f.size for f in files.values())}
    descriptor = files.get(_DESCRIPTOR)
    if descriptor is not None:
        from gitrun.core.records import yamlfmt

        stores = stores_for(store)
        stores.ensure_local([descriptor.digest])
        data = yamlfmt.load(stores.local.read_bytes(descriptor.digest, 2**24), f"{name}/{_DESCRIPTOR}")
        if isinstance(data, dict):
            found["flavors"] = sorted(str(f) for f in (data.get("flavors") or {}))
            if isinstance(data.get("model_size_bytes"), int):
                found["model_size_bytes"] = data["model_size_bytes"]
    return found


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
    store.runs.flush()
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
    updated = int(record.get("last_updated_timestamp") or 0)
    return ent.LoggedModel(
        model_id=model_id,
        name=name,
        experiment_id=_experiment_of(store, run_id),
        source_run_id=None if record.get("holder_run") else run_id,
        artifact_location=f"runs:/{run_id}/{name}",
        creation_timestamp=created,
        last_updated_timestamp=max(created, updated, max((m.timestamp for m in metrics), default=0)),
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
    if store.runs.is_live(run_id):
        return str(store.runs.read_state(run_id).info["experiment_id"])
    # run.yaml only (get_run would read every record file of the run).
    entry = store.records.entry(f"{layout.run_dir(run_id)}/{layout.RUN_FILE}")
    if entry is None:
        raise ResourceDoesNotExist(f"Run '{run_id}' not found")
    return str(store.records.load_yaml(entry.oid, f"run {run_id} {layout.RUN_FILE}")["experiment_id"])


def outputs(records: dict[str, Any]) -> list[ent.LoggedModelOutput]:
    """A run's ``outputs.model_outputs`` from its ``models.yaml``."""
    return [
        ent.LoggedModelOutput(str(r["model_id"]), int(r.get("step") or 0))
        for _, r in sorted(records.items())
        if isinstance(r, dict) and r.get("model_id")
    ]


def check_model_id(model_id: Any) -> str:
    if not isinstance(model_id, str) or not model_id.startswith("m-"):
        raise InvalidParameterValue(f"invalid logged model id {model_id!r} (ids look like m-<32 hex>)")
    return model_id
