"""Dataset inputs of a run (``gitrun.log_input(dataset, context=...)``), in ``datasets.yaml``.

One entry per (name, digest), as MLflow keeps one input per dataset and run::

    "sha256:9f2c.../train":
      name: train
      digest: sha256:9f2c...
      source_type: local
      source: '{"uri": "/data/train.csv"}'
      schema: '{"mlflow_colspec": [...]}'
      profile: '{"num_rows": 120, "num_elements": 600}'
      context: training
      tags: {mlflow.data.context: training}

Logging a dataset again with another context adds nothing (MLflow's rule: the
first input of a dataset in a run stays).  Declared input files
(:mod:`gitrun.tracking.inputs`) are listed beside datasets in
``run.inputs.dataset_inputs``.
"""

from __future__ import annotations

from typing import Any

from gitrun.core.records import layout
from gitrun.errors import InvalidParameterValue
from gitrun.tracking import entities as ent
from gitrun.tracking import validation as v
from gitrun.tracking.store import TrackingStore

CONTEXT_TAG = "mlflow.data.context"


def record_key(dataset: ent.Dataset) -> str:
    return f"{dataset.digest}/{dataset.name}"


def log_dataset(
    store: TrackingStore, run_id: str, dataset: ent.Dataset, context: str | None, tags: dict[str, Any] | None
) -> None:
    """Record a dataset input of the run (a no-op when the run already has this dataset)."""
    if not dataset.name or not dataset.digest:
        raise InvalidParameterValue("a dataset input needs a name and a digest")
    clean = {v.validate_key(str(k), "tag"): v.tag_value(str(k), val) for k, val in (tags or {}).items()}
    if context is not None:
        clean[CONTEXT_TAG] = v.tag_value(CONTEXT_TAG, context)
    key = record_key(dataset)
    if key in _recorded(store, run_id):
        return
    record = {
        "name": dataset.name,
        "digest": dataset.digest,
        "source_type": dataset.source_type,
        "source": dataset.source,
        "schema": dataset.schema,
        "profile": dataset.profile,
        "context": clean.get(CONTEXT_TAG),
        "tags": clean,
    }
    store.writer.update_map(run_id, layout.DATASETS_FILE, {key: record})


def _recorded(store: TrackingStore, run_id: str) -> dict[str, Any]:
    if store.writer.is_live(run_id):
        return store.writer.read_map(run_id, layout.DATASETS_FILE)
    entry = store.records.entry(f"{layout.run_dir(run_id)}/{layout.DATASETS_FILE}")
    return store.records.load_yaml(entry.oid, layout.DATASETS_FILE) if entry else {}


def dataset_inputs(declared: dict[str, Any], datasets: dict[str, Any]) -> list[ent.DatasetInput]:
    """``run.inputs.dataset_inputs``: declared files (name = path) then datasets, each sorted."""
    out = [
        ent.DatasetInput(ent.Dataset(str(path), str(entry["digest"]), "gitrun", str(path)))
        for path, entry in sorted(declared.items())
    ]
    for _, record in sorted(datasets.items()):
        dataset = ent.Dataset(
            str(record["name"]),
            str(record["digest"]),
            str(record.get("source_type") or ""),
            str(record.get("source") or ""),
            record.get("schema"),
            record.get("profile"),
        )
        tags = [ent.InputTag(str(k), str(val)) for k, val in sorted((record.get("tags") or {}).items())]
        out.append(ent.DatasetInput(dataset, tags))
    return out
