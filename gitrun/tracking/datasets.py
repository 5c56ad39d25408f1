"""MLflow dataset inputs of a run (``mlflow.log_input``, autologgers, imports).

gitrun's own inputs (:mod:`gitrun.tracking.inputs`) are files it hashes and restores.
An MLflow dataset is a description (name, digest, source, schema, profile) plus
input tags such as ``mlflow.data.context``; gitrun keeps these as they were sent, in
the run's ``datasets.yaml``, one entry per (name, digest), so that MLflow clients
read back what they logged.  The file merges key by key like the run's other
mapping files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from gitrun.core.records import layout
from gitrun.errors import InvalidParameterValue
from gitrun.tracking import entities as ent
from gitrun.tracking import validation as v
from gitrun.tracking.store import TrackingStore

DATASETS_FILE = "datasets.yaml"
_FIELDS = ("name", "digest", "source_type", "source", "schema", "profile")
MAX_FIELD = 1_000_000


def _key(name: str, digest: str) -> str:
    return hashlib.sha256(f"{name}\0{digest}".encode()).hexdigest()[:16]


def _entry(item: ent.DatasetInput) -> dict[str, Any]:
    data = item.dataset
    entry: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(data, name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > MAX_FIELD:
            raise InvalidParameterValue(f"dataset {name} must be a string of at most {MAX_FIELD} characters")
        entry[name] = value
    if not entry.get("name") or not entry.get("digest"):
        raise InvalidParameterValue("a dataset needs a name and a digest")
    entry["tags"] = {v.validate_key(t.key, "tag"): v.tag_value(t.key, t.value) for t in item.tags}
    return entry


def log_datasets(store: TrackingStore, run_id: str, items: Iterable[ent.DatasetInput]) -> None:
    """Record dataset inputs of a run (validated first; logging one again replaces it)."""
    entries = {}
    for item in items:
        entry = _entry(item)
        entries[_key(entry["name"], entry["digest"])] = entry
    if entries:
        store.writer.update_map(v.run_id(run_id), DATASETS_FILE, entries)


def _from_entry(entry: Mapping[str, Any]) -> ent.DatasetInput:
    tags = [ent.InputTag(str(k), str(val)) for k, val in sorted((entry.get("tags") or {}).items())]
    fields = {name: entry.get(name) for name in _FIELDS}
    dataset = ent.Dataset(
        name=str(fields["name"]),
        digest=str(fields["digest"]),
        source_type=str(fields["source_type"] or ""),
        source=str(fields["source"] or ""),
        schema=fields["schema"],
        profile=fields["profile"],
    )
    return ent.DatasetInput(dataset, tags)


def run_datasets(store: TrackingStore, run_id: str) -> list[ent.DatasetInput]:
    """The dataset inputs recorded for a run, in a stable order (by name, then digest)."""
    run_id = v.run_id(run_id)
    if store.writer.is_live(run_id):
        found = store.writer.read_map(run_id, DATASETS_FILE)
    else:
        entry = store.records.entry(f"{layout.run_dir(run_id)}/{DATASETS_FILE}")
        found = store.records.load_yaml(entry.oid, DATASETS_FILE) if entry else {}
    items = [_from_entry(e) for e in found.values() if isinstance(e, Mapping)]
    return sorted(items, key=lambda d: (d.dataset.name, d.dataset.digest))
