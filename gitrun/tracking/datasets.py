"""Dataset inputs of a run (MLflow's ``log_input``/``log_inputs``), in ``datasets.yaml``.

Every way a dataset input arrives ends here: ``gitrun.log_input(dataset,
context=...)``, ``Client.log_inputs``, the MLflow REST server's ``runs/log-inputs``
and ``gitrun import-mlflow``.  One entry per (digest, name), as MLflow keeps one
input per dataset and run::

    "sha256:9f2c.../train":
      name: train
      digest: sha256:9f2c...
      source_type: local
      source: '{"uri": "/data/train.csv"}'
      schema: '{"mlflow_colspec": [...]}'
      profile: '{"num_rows": 120, "num_elements": 600}'
      context: training
      tags: {mlflow.data.context: training}

``context`` repeats the ``mlflow.data.context`` input tag so that the search index
reads it without parsing tags (``dataset.context`` filters).  The tags are kept as
they were sent, so an MLflow client reads back exactly what it logged.  Logging a
dataset again (with another context, or its tags) adds nothing: MLflow's rule, the
first input of a dataset in a run stays.  Declared input files
(:mod:`gitrun.tracking.inputs`) are listed beside datasets in
``run.inputs.dataset_inputs``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gitrun.core.records import layout
from gitrun.errors import InvalidParameterValue
from gitrun.tracking import entities as ent
from gitrun.tracking import validation as v
from gitrun.tracking.store import TrackingStore

CONTEXT_TAG = "mlflow.data.context"
MAX_FIELD = 1_000_000
"""Characters of one dataset field (MLflow's own limits are lower for all but schema and profile)."""
_FIELDS = ("name", "digest", "source_type", "source", "schema", "profile")


def record_key(dataset: ent.Dataset) -> str:
    return f"{dataset.digest}/{dataset.name}"


def log_dataset(
    store: TrackingStore, run_id: str, dataset: ent.Dataset, context: str | None, tags: dict[str, Any] | None
) -> None:
    """Record a dataset input of the run (a no-op when the run already has this dataset)."""
    log_dataset_inputs(store, run_id, [(dataset, context, tags)])


def log_inputs(store: TrackingStore, run_id: str, items: Iterable[ent.DatasetInput]) -> None:
    """MLflow's ``DatasetInput`` list (REST ``log-inputs``, imports): the context is the
    ``mlflow.data.context`` input tag."""
    triples = []
    for item in items:
        tags = {t.key: t.value for t in item.tags}
        triples.append((item.dataset, tags.pop(CONTEXT_TAG, None), tags))
    log_dataset_inputs(store, run_id, triples)


def log_dataset_inputs(
    store: TrackingStore,
    run_id: str,
    items: Iterable[tuple[ent.Dataset, str | None, Mapping[str, Any] | None]],
) -> None:
    """Record ``(dataset, context, tags)`` inputs, all validated before any is written."""
    run_id = v.run_id(run_id)
    new: dict[str, dict[str, Any]] = {}
    for dataset, context, tags in items:
        key, record = _record(dataset, context, tags)
        new.setdefault(key, record)  # the first of a batch stays too
    if not new:
        return
    recorded = _recorded(store, run_id)
    new = {key: record for key, record in new.items() if key not in recorded}
    if new:
        store.runs.update_map(run_id, layout.DATASETS_FILE, new)


def _record(
    dataset: ent.Dataset, context: str | None, tags: Mapping[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    for name in _FIELDS:
        value = getattr(dataset, name)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_FIELD):
            raise InvalidParameterValue(f"dataset {name} must be a string of at most {MAX_FIELD} characters")
    if not dataset.name or not dataset.digest:
        raise InvalidParameterValue("a dataset input needs a name and a digest")
    clean = {v.validate_key(str(k), "tag"): v.tag_value(str(k), val) for k, val in (tags or {}).items()}
    if context is not None:
        clean[CONTEXT_TAG] = v.tag_value(CONTEXT_TAG, context)
    record = {name: getattr(dataset, name) for name in _FIELDS}
    record["context"] = clean.get(CONTEXT_TAG)
    record["tags"] = clean
    return record_key(dataset), record


def _recorded(store: TrackingStore, run_id: str) -> dict[str, Any]:
    if store.runs.is_live(run_id):
        return dict(store.runs.read_state(run_id, maps=[layout.DATASETS_FILE]).maps[layout.DATASETS_FILE])
    entry = store.records.entry(f"{layout.run_dir(run_id)}/{layout.DATASETS_FILE}")
    return store.records.load_yaml(entry.oid, layout.DATASETS_FILE) if entry else {}


def run_datasets(store: TrackingStore, run_id: str) -> list[ent.DatasetInput]:
    """The run's dataset inputs only (no declared files), in ``run.inputs`` order."""
    return [_from_record(r) for _, r in sorted(_recorded(store, v.run_id(run_id)).items())]


def dataset_inputs(declared: dict[str, Any], datasets: dict[str, Any]) -> list[ent.DatasetInput]:
    """``run.inputs.dataset_inputs``: declared files (name = path) then datasets, each sorted."""
    out = [
        ent.DatasetInput(ent.Dataset(str(path), str(entry["digest"]), "gitrun", str(path)))
        for path, entry in sorted(declared.items())
    ]
    return out + [_from_record(record) for _, record in sorted(datasets.items())]


def _from_record(record: Mapping[str, Any]) -> ent.DatasetInput:
    dataset = ent.Dataset(
        str(record["name"]),
        str(record["digest"]),
        str(record.get("source_type") or ""),
        str(record.get("source") or ""),
        record.get("schema"),
        record.get("profile"),
    )
    tags = [ent.InputTag(str(k), str(val)) for k, val in sorted((record.get("tags") or {}).items())]
    return ent.DatasetInput(dataset, tags)
