"""MLflow 3 logged models made through the MLflow REST server, kept with their run.

In gitrun a model is an output of a run: its files are the run's artifact folder
``<name>/`` (so ``runs:/<run_id>/<name>`` and gitrun's own loaders find them).  The
MLflow client also wants a LoggedModel object (an id, a status, params, tags); that
is recorded in the source run's ``logged_models.yaml``, keyed by the model id.  A
model id is ``m-<run id>-<8 hex>``, so finding a model never scans other runs.  A
model created with no source run gets a run of its own (named after the model).

This is the small part of LoggedModels the REST server needs for ``log_model`` and
``load_model`` to round-trip; it does not try to be a model registry.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from gitrun.tracking import ingest
from gitrun.tracking import validation as v
from gitrun.tracking.store import TrackingStore, now_ms

MODELS_FILE = "logged_models.yaml"
PENDING = "LOGGED_MODEL_PENDING"
READY = "LOGGED_MODEL_READY"
FAILED = "LOGGED_MODEL_UPLOAD_FAILED"
STATUSES = (PENDING, READY, FAILED)
HOLDER_TAG = "gitrun.logged_model_holder"
MODELS_TAG = "gitrun.logged_models"


@dataclass(frozen=True)
class LoggedModel:
    """One logged model: where its files are is ``run_id`` + ``name``."""

    model_id: str
    experiment_id: str
    run_id: str
    name: str
    status: str
    creation_timestamp_ms: int
    last_updated_timestamp_ms: int
    model_type: str | None = None
    source_run_id: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


def _record(model: LoggedModel) -> dict[str, Any]:
    return {
        "name": model.name,
        "experiment_id": model.experiment_id,
        "status": model.status,
        "model_type": model.model_type,
        "source_run_id": model.source_run_id,
        "creation_timestamp_ms": model.creation_timestamp_ms,
        "last_updated_timestamp_ms": model.last_updated_timestamp_ms,
        "params": dict(model.params),
        "tags": dict(model.tags),
    }


def _from_record(model_id: str, run_id: str, record: Mapping[str, Any]) -> LoggedModel:
    return LoggedModel(
        model_id=model_id,
        experiment_id=str(record["experiment_id"]),
        run_id=run_id,
        name=str(record["name"]),
        status=str(record.get("status") or PENDING),
        creation_timestamp_ms=int(record["creation_timestamp_ms"]),
        last_updated_timestamp_ms=int(record["last_updated_timestamp_ms"]),
        model_type=record.get("model_type"),
        source_run_id=record.get("source_run_id"),
        params={str(k): str(x) for k, x in (record.get("params") or {}).items()},
        tags={str(k): str(x) for k, x in (record.get("tags") or {}).items()},
    )


def run_of(model_id: str) -> str:
    """The run holding a model (from its id).

    Raises:
        ResourceDoesNotExist: Not an id this server made.
    """
    body = model_id[2:] if model_id.startswith("m-") else ""
    run_id, _, suffix = body.rpartition("-")
    if not run_id or len(suffix) != 8:
        raise ResourceDoesNotExist(f"Logged model with ID '{model_id}' not found.")
    return run_id


def _models_of(store: TrackingStore, run_id: str) -> dict[str, Any]:
    writer = store.writer
    if writer.is_live(run_id):
        return writer.read_map(run_id, MODELS_FILE)
    from gitrun.core.records import layout

    entry = store.records.entry(f"{layout.run_dir(run_id)}/{MODELS_FILE}")
    return store.records.load_yaml(entry.oid, MODELS_FILE) if entry else {}


def create(
    store: TrackingStore,
    experiment_id: str,
    name: str | None,
    *,
    source_run_id: str | None = None,
    model_type: str | None = None,
    params: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
) -> LoggedModel:
    """A new PENDING model of ``source_run_id`` (or of a run made for it).

    Raises:
        ResourceDoesNotExist: Unknown experiment or source run.
        InvalidParameterValue: A bad name, param or tag; a source run of another experiment.
    """
    experiment_id = v.experiment_id(experiment_id)
    name = name or f"model-{secrets.token_hex(3)}"
    if "/" in name or name in (".", ".."):
        raise InvalidParameterValue(f"Invalid model name {name!r}: it names a folder of the run")
    clean_params = {v.validate_key(k, "param"): v.param_value(k, x) for k, x in (params or {}).items()}
    clean_tags = {v.validate_key(k, "tag"): v.tag_value(k, x) for k, x in (tags or {}).items()}
    if source_run_id:
        run_id = v.run_id(source_run_id)
        info = ingest.read_info(store, run_id)
        if str(info.get("experiment_id")) != experiment_id:
            raise InvalidParameterValue(
                f"The source run {run_id} belongs to experiment {info.get('experiment_id')}, "
                f"not {experiment_id}"
            )
    else:
        run_id = ingest.create_run(
            store, ingest.RunSpec(experiment_id, run_name=name, tags={HOLDER_TAG: "true"})
        )
        ingest.update_run(store, run_id, status="FINISHED", end_time=now_ms())
    now = now_ms()
    model = LoggedModel(
        model_id=f"m-{run_id}-{secrets.token_hex(4)}",
        experiment_id=experiment_id,
        run_id=run_id,
        name=name,
        status=PENDING,
        creation_timestamp_ms=now,
        last_updated_timestamp_ms=now,
        model_type=model_type,
        source_run_id=source_run_id or None,
        params=clean_params,
        tags=clean_tags,
    )
    store.writer.update_map(run_id, MODELS_FILE, {model.model_id: _record(model)})
    # Lets a search find the runs holding models with one indexed query.
    names = sorted(folders_of(store, run_id))
    store.writer.set_tags(run_id, {MODELS_TAG: ",".join(names)})
    return model


def get(store: TrackingStore, model_id: str) -> LoggedModel:
    """Raises ResourceDoesNotExist for an unknown model."""
    run_id = run_of(model_id)
    try:
        record = _models_of(store, v.run_id(run_id)).get(model_id)
    except (ResourceDoesNotExist, InvalidParameterValue):
        record = None
    if record is None:
        raise ResourceDoesNotExist(f"Logged model with ID '{model_id}' not found.")
    return _from_record(model_id, run_id, record)


def update(
    store: TrackingStore,
    model_id: str,
    *,
    status: str | None = None,
    params: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    delete_tags: Sequence[str] = (),
) -> LoggedModel:
    """Finalize (status), add params, set or delete tags; returns the model as changed."""
    model = get(store, model_id)
    if status is not None and status not in STATUSES:
        raise InvalidParameterValue(
            f"Invalid logged model status {status!r}: use one of {', '.join(STATUSES)}"
        )
    new_params = dict(model.params)
    new_params.update({v.validate_key(k, "param"): v.param_value(k, x) for k, x in (params or {}).items()})
    new_tags = dict(model.tags)
    new_tags.update({v.validate_key(k, "tag"): v.tag_value(k, x) for k, x in (tags or {}).items()})
    for key in delete_tags:
        if key not in new_tags:
            raise ResourceDoesNotExist(f"No tag with key {key!r} on logged model {model_id}")
        del new_tags[key]
    changed = LoggedModel(
        **{
            **model.__dict__,
            "status": status or model.status,
            "params": new_params,
            "tags": new_tags,
            "last_updated_timestamp_ms": now_ms(),
        }
    )
    store.writer.update_map(model.run_id, MODELS_FILE, {model_id: _record(changed)})
    return changed


def search(store: TrackingStore, experiment_ids: Sequence[str], name: str | None = None) -> list[LoggedModel]:
    """The models of these experiments (named ``name`` when given), oldest first."""
    from gitrun.tracking.search import collect_runs

    if not experiment_ids:
        return []
    runs = collect_runs(
        store, list(experiment_ids), filter_string=f"tags.`{MODELS_TAG}` LIKE '%'", run_view_type=3
    )
    found = of_runs(store, [r.info.run_id for r in runs])
    return [m for m in found if name is None or m.name == name]


def of_runs(store: TrackingStore, run_ids: Sequence[str]) -> list[LoggedModel]:
    """The models recorded in these runs (oldest first)."""
    found = []
    for run_id in run_ids:
        for model_id, record in _models_of(store, run_id).items():
            found.append(_from_record(str(model_id), run_id, record))
    return sorted(found, key=lambda m: (m.creation_timestamp_ms, m.model_id))


def folders_of(store: TrackingStore, run_id: str) -> set[str]:
    """The artifact folders of a run that hold its logged models."""
    return {str(r["name"]) for r in _models_of(store, run_id).values()}
