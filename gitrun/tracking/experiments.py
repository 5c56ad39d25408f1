"""Experiments of one tracking location: ``experiments/<id>.yaml`` on the records ref.

An experiment's id derives from its name (:func:`candidate_ids`), so two machines
that create "foo" create one experiment, and their records merge when shared.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from gitrun.core.git.objects import Oid
from gitrun.core.records import layout, merge
from gitrun.core.records.store import RecordStore
from gitrun.core.records.values import parse_experiment
from gitrun.errors import (
    DamagedRecordWarning,
    GitrunError,
    InvalidParameterValue,
    InvalidRecord,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    warn_always,
)
from gitrun.tracking import entities as ent
from gitrun.tracking.mapping import to_experiment

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"


def now_ms() -> int:
    return int(time.time() * 1000)


def candidate_ids(name: str) -> list[str]:
    """The ids an experiment named ``name`` takes, first free one first."""
    out = []
    for n in range(8):
        digest = hashlib.sha256(f"{name}\0{n}".encode() if n else name.encode()).hexdigest()
        out.append(str(int(digest[:13], 16)))
    return out


class ExperimentStore:
    """Create, read and change experiments (entities out, records in)."""

    def __init__(self, records: RecordStore, *, read_only: bool = False) -> None:
        self.records = records
        self.read_only = read_only
        """Opened by a read: never creates anything, not even the Default experiment's
        record (the Default experiment is then made by the first run)."""
        self._parsed: dict[Oid, dict[str, Any]] = {}  # experiment records by blob id

    def _record(self, experiment_id: str) -> dict[str, Any] | None:
        entry = self.records.entry(layout.experiment_file(experiment_id))
        return None if entry is None else self._load(experiment_id, entry.oid)

    def _load(self, experiment_id: str, blob: Oid) -> dict[str, Any]:
        """The record in blob ``blob``, parsed once per process (a copy: callers edit it)."""
        record = self._parsed.get(blob)
        if record is None:
            record = self.records.load_yaml(blob, f"experiment {experiment_id}")
            self._parsed[blob] = record
        return dict(record)

    def _entity(self, experiment_id: str, record: dict[str, Any]) -> ent.Experiment:
        try:
            return to_experiment(parse_experiment(experiment_id, record))
        except InvalidRecord as exc:
            raise InvalidRecord(f"experiment {experiment_id}: {exc.message}") from None

    def ensure_default(self) -> None:
        if self.read_only:
            return  # a read never writes: the Default experiment is made by the first run
        if self._record(DEFAULT_EXPERIMENT_ID) is None:
            self._write(DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, None, {})

    def _write(
        self, experiment_id: str, name: str, artifact_location: str | None, tags: dict[str, str]
    ) -> None:
        now = now_ms()
        record = {
            "schema_version": layout.SCHEMA_VERSION,
            "experiment_id": experiment_id,
            "name": name,
            # No local path here: the record travels to other machines.
            "artifact_location": artifact_location or f"gitrun:experiments/{experiment_id}",
            "lifecycle_stage": ent.LifecycleStage.ACTIVE,
            "creation_time": now,
            "last_update_time": now,
            "tags": tags,
        }
        self.records.put_blob(layout.experiment_file(experiment_id), record, None, merge.merge_experiment)

    def _update(self, experiment_id: str, **changes: Any) -> None:
        path = layout.experiment_file(experiment_id)
        entry = self.records.entry(path)
        if entry is None:
            raise ResourceDoesNotExist(f"No Experiment with id={experiment_id} exists")
        record = self.records.load_yaml(entry.oid, f"experiment {experiment_id}")
        record.update(changes)
        record["last_update_time"] = now_ms()
        self.records.put_blob(path, record, entry.oid, merge.merge_experiment)

    def get(self, experiment_id: str) -> ent.Experiment:
        record = self._record(experiment_id)
        if record is None and experiment_id == DEFAULT_EXPERIMENT_ID:
            self.ensure_default()
            record = self._record(experiment_id)
        if record is None:
            raise ResourceDoesNotExist(f"No Experiment with id={experiment_id} exists")
        return self._entity(experiment_id, record)

    def get_by_name(self, name: str) -> ent.Experiment | None:
        if name == DEFAULT_EXPERIMENT_NAME:
            self.ensure_default()
            record = self._record(DEFAULT_EXPERIMENT_ID)
            if record is not None and record.get("name") == name:
                return self._entity(DEFAULT_EXPERIMENT_ID, record)
        for candidate in candidate_ids(name):
            record = self._record(candidate)
            if record is None:
                break
            if record.get("name") == name:
                return self._entity(candidate, record)
        # Renamed experiments keep their id: look through all of them.
        for experiment in self.list():
            if experiment.name == name:
                return experiment
        return None

    def create(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        if artifact_location is not None and artifact_location.startswith("runs:"):
            raise InvalidParameterValue("Artifact location cannot be a runs:/ URI")
        existing = self.get_by_name(name)
        if existing is not None:
            raise ResourceAlreadyExists(
                f"Experiment(name={name}) already exists. Error: experiment names must be unique "
                f"(it has id {existing.experiment_id}, lifecycle stage {existing.lifecycle_stage})."
            )
        for candidate in candidate_ids(name):
            if self._record(candidate) is None:
                self._write(candidate, name, artifact_location, dict(tags or {}))
                return candidate
        raise GitrunError(f"could not allocate an id for experiment {name!r}")

    def list(self) -> list[ent.Experiment]:
        self.ensure_default()
        root = self.records.root()
        entry = self.records.repo.lookup(root, layout.EXPERIMENTS_DIR) if root else None
        if entry is None:
            return []
        out = []
        for name, item in self.records.repo.read_tree(entry.oid).items():
            if name.endswith(".yaml"):
                experiment_id = name[: -len(".yaml")]
                try:
                    out.append(self._entity(experiment_id, self._load(experiment_id, item.oid)))
                except InvalidRecord as exc:
                    # One damaged record (fetched, or crafted) must not hide the others.
                    warn_always(f"gitrun: leaving out {exc.message}", DamagedRecordWarning)
        return out

    def set_lifecycle(self, experiment_id: str, stage: str) -> None:
        if stage == ent.LifecycleStage.DELETED and experiment_id == DEFAULT_EXPERIMENT_ID:
            # MLflow's SQL store allows it, its file store refuses; refuse: runs need a home.
            raise InvalidParameterValue("Cannot delete the default experiment '0'.")
        self.get(experiment_id)
        self._update(experiment_id, lifecycle_stage=stage)

    def rename(self, experiment_id: str, new_name: str) -> None:
        other = self.get_by_name(new_name)
        if other is not None and other.experiment_id != experiment_id:
            raise ResourceAlreadyExists(f"Experiment(name={new_name}) already exists.")
        self._update(experiment_id, name=new_name)

    def set_tag(self, experiment_id: str, key: str, value: str | None) -> None:
        experiment = self.get(experiment_id)
        tags = dict(experiment.tags)
        if value is None:
            if key not in tags:
                raise ResourceDoesNotExist(f"No tag with name: {key} in experiment {experiment_id}")
            del tags[key]
        else:
            tags[key] = value
        self._update(experiment_id, tags=tags)
