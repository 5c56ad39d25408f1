"""One tracking location opened by this process: its records, writer and context.

There is one :class:`TrackingStore` per location per process (see :func:`open_store`),
shared by the fluent API and every client, so that buffered writes are seen by
reads in the same process and committed together.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import sys
import threading
import time
import uuid
from array import array
from collections.abc import Callable
from typing import Any

from gitrun.core import location as loc
from gitrun.core.allocation import collector_paused
from gitrun.core.git.objects import MODE_BLOB, MODE_TREE, Oid
from gitrun.core.git.repo import Repository
from gitrun.core.records import layout, merge, series
from gitrun.core.records.recovery import recover
from gitrun.core.records.store import RecordStore
from gitrun.core.records.text import encode_captured, has_surrogates, printable, readable
from gitrun.core.records.writer import RecordWriter
from gitrun.errors import (
    GitrunError,
    InvalidParameterValue,
    InvalidRecord,
    RefConflict,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
    StoreUnavailable,
    UnsupportedRepository,
)
from gitrun.tracking import entities as ent
from gitrun.tracking import names
from gitrun.tracking.capture import code as code_capture
from gitrun.tracking.capture import environment, source
from gitrun.tracking.run_record import RUN_NAME_TAG, USER_TAG, check_active, new_run_info

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"


def now_ms() -> int:
    return int(time.time() * 1000)


def _float_env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class TrackingStore:
    def __init__(self, location: loc.Location, *, read_only: bool = False) -> None:
        self.location = location
        self.read_only = read_only
        """Opened by a read (listing, showing): never creates anything, not even the
        Default experiment's record (set to False by the first writer in the process)."""
        self._code_repos: dict[str, Repository | None] = {}
        # A new standalone store takes the object format of the code it will record.
        code = self._code_repository_or_none() if location.standalone and location.found is None else None
        self.repo: Repository = loc.open_repository(location, code.object_format if code else "sha1")
        self.records = RecordStore(self.repo)
        self.writer = RecordWriter(
            self.records,
            flush_interval=_float_env("GITRUN_FLUSH_INTERVAL", 5.0),
            max_pending=int(_float_env("GITRUN_FLUSH_POINTS", 100_000)),
        )
        self._env_blob: Oid | None = None
        self._parsed: dict[Oid, dict[str, Any]] = {}  # experiment records by blob id
        self._announced: set[tuple[Oid, int]] = set()
        self._lock = threading.Lock()
        # Where new run ids come from; tests inject ids that share a prefix.
        self.new_run_id: Callable[[], str] = lambda: uuid.uuid4().hex
        try:
            recover(self.records)
        except Exception as exc:  # noqa: BLE001 - recovery must never stop the store from opening
            import warnings

            warnings.warn(f"gitrun: recovering dead processes' journals failed: {exc}", stacklevel=2)

    @property
    def uri(self) -> str:
        return self.location.uri

    # -- experiments ----------------------------------------------------------------------

    def _experiment_record(self, experiment_id: str) -> dict[str, Any] | None:
        entry = self.records.entry(layout.experiment_file(experiment_id))
        if entry is None:
            return None
        record = self._parsed.get(entry.oid)
        if record is None:
            record = self.records.load_yaml(entry.oid, f"experiment {experiment_id}")
            self._parsed[entry.oid] = record
        return dict(record)

    def _ensure_default(self) -> None:
        if self.read_only:
            return  # a read never writes: the Default experiment is made by the first run
        if self._experiment_record(DEFAULT_EXPERIMENT_ID) is None:
            self._write_experiment(DEFAULT_EXPERIMENT_ID, DEFAULT_EXPERIMENT_NAME, None, {})

    def _write_experiment(
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

    def _update_experiment(self, experiment_id: str, **changes: Any) -> None:
        path = layout.experiment_file(experiment_id)
        entry = self.records.entry(path)
        if entry is None:
            raise ResourceDoesNotExist(f"No Experiment with id={experiment_id} exists")
        record = self.records.load_yaml(entry.oid, f"experiment {experiment_id}")
        record.update(changes)
        record["last_update_time"] = now_ms()
        self.records.put_blob(path, record, entry.oid, merge.merge_experiment)

    @staticmethod
    def _candidate_ids(name: str) -> list[str]:
        # Ids derive from the name, so two machines creating "foo" create one experiment.
        out = []
        for n in range(8):
            digest = hashlib.sha256(f"{name}\0{n}".encode() if n else name.encode()).hexdigest()
            out.append(str(int(digest[:13], 16)))
        return out

    def get_experiment(self, experiment_id: str) -> ent.Experiment:
        record = self._experiment_record(experiment_id)
        if record is None and experiment_id == DEFAULT_EXPERIMENT_ID:
            self._ensure_default()
            record = self._experiment_record(experiment_id)
        if record is None:
            raise ResourceDoesNotExist(f"No Experiment with id={experiment_id} exists")
        return _experiment(record)

    def get_experiment_by_name(self, name: str) -> ent.Experiment | None:
        if name == DEFAULT_EXPERIMENT_NAME:
            self._ensure_default()
            record = self._experiment_record(DEFAULT_EXPERIMENT_ID)
            if record is not None and record.get("name") == name:
                return _experiment(record)
        for candidate in self._candidate_ids(name):
            record = self._experiment_record(candidate)
            if record is None:
                break
            if record.get("name") == name:
                return _experiment(record)
        # Renamed experiments keep their id: look through all of them.
        for experiment in self.list_experiments():
            if experiment.name == name:
                return experiment
        return None

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, str] | None = None
    ) -> str:
        if artifact_location is not None and artifact_location.startswith("runs:"):
            raise InvalidParameterValue("Artifact location cannot be a runs:/ URI")
        existing = self.get_experiment_by_name(name)
        if existing is not None:
            raise ResourceAlreadyExists(
                f"Experiment(name={name}) already exists. Error: experiment names must be unique "
                f"(it has id {existing.experiment_id}, lifecycle stage {existing.lifecycle_stage})."
            )
        for candidate in self._candidate_ids(name):
            if self._experiment_record(candidate) is None:
                self._write_experiment(candidate, name, artifact_location, dict(tags or {}))
                return candidate
        raise GitrunError(f"could not allocate an id for experiment {name!r}")

    def list_experiments(self) -> list[ent.Experiment]:
        self._ensure_default()
        root = self.records.root()
        entry = self.records.repo.lookup(root, layout.EXPERIMENTS_DIR) if root else None
        if entry is None:
            return []
        out = []
        for name, item in self.repo.read_tree(entry.oid).items():
            if name.endswith(".yaml"):
                out.append(_experiment(self.records.load_yaml(item.oid, f"experiment {name}")))
        return out

    def set_experiment_lifecycle(self, experiment_id: str, stage: str) -> None:
        if stage == ent.LifecycleStage.DELETED and experiment_id == DEFAULT_EXPERIMENT_ID:
            # MLflow's SQL store allows it, its file store refuses; refuse: runs need a home.
            raise InvalidParameterValue("Cannot delete the default experiment '0'.")
        self.get_experiment(experiment_id)
        self._update_experiment(experiment_id, lifecycle_stage=stage)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        other = self.get_experiment_by_name(new_name)
        if other is not None and other.experiment_id != experiment_id:
            raise ResourceAlreadyExists(f"Experiment(name={new_name}) already exists.")
        self._update_experiment(experiment_id, name=new_name)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str | None) -> None:
        experiment = self.get_experiment(experiment_id)
        tags = dict(experiment.tags)
        if value is None:
            if key not in tags:
                raise ResourceDoesNotExist(f"No tag with name: {key} in experiment {experiment_id}")
            del tags[key]
        else:
            tags[key] = value
        self._update_experiment(experiment_id, tags=tags)

    # -- runs --------------------------------------------------------------------------------

    def _code_repository(self) -> Repository | None:
        script = source.user_script()
        start = os.path.dirname(script) if script else os.getcwd()
        if start not in self._code_repos:
            found = Repository.discover(start)
            self._code_repos[start] = found if found is not None and found.work_tree else None
        return self._code_repos[start]

    def _code_repository_or_none(self) -> Repository | None:
        try:
            return self._code_repository()
        except UnsupportedRepository:
            return None  # refused again, clearly, when a run would snapshot it

    def _environment_blob(self) -> Oid:
        if self._env_blob is None:
            data = environment.environment_yaml(environment.cache_dir())
            self._env_blob = self.records.retrying(lambda: self.repo.write_blob(data), "record into")
        return self._env_blob

    def _capture_code(self) -> code_capture.CodeSnapshot | None:
        code_repo = self._code_repository()
        if code_repo is None:
            return None
        exclude = (self.location.path,) if self.location.standalone else ()
        try:
            snap = self.records.retrying(
                lambda: code_capture.snapshot(code_repo, self.repo, exclude), "snapshot the code into"
            )
        except (UnsupportedRepository, StoreUnavailable, RefConflict):
            # Refused, or a full disk, a read-only repository: not a hiccup, the caller
            # must know (the run must not be recorded with the wrong code).
            raise
        except GitrunError as exc:
            import warnings

            warnings.warn(f"gitrun could not snapshot the code of this run: {exc}", stacklevel=3)
            return None
        self._announce_untracked(snap)
        return snap

    def _announce_untracked(self, snap: code_capture.CodeSnapshot) -> None:
        """Say once per snapshot which untracked files went in and which were left out:
        they travel with ``gitrun push``, so nothing should go in silently."""
        included = snap.record.get("untracked") or []
        skipped = snap.record.get("skipped") or []
        key = (snap.tree, len(skipped))
        if not (included or skipped) or key in self._announced:
            return
        self._announced.add(key)
        from gitrun.tracking.capture.secrets import snapshot_summary

        print(snapshot_summary(str(snap.record.get("root") or ""), included, skipped), file=sys.stderr)

    def create_run(
        self,
        experiment_id: str,
        *,
        run_name: str | None,
        tags: dict[str, str],
        start_time: int | None = None,
        parent_run_id: str | None = None,
        inherit_code_from: str | None = None,
        owned: bool = True,
    ) -> str:
        check_active(self.get_experiment(experiment_id))
        run_id = self.new_run_id()
        captured_user = source.user()
        src = source.source()
        if has_surrogates(captured_user):
            src["user"] = captured_user  # lossless below; user_id holds the readable form
        info = new_run_info(
            run_id,
            experiment_id,
            run_name=run_name or tags.get(RUN_NAME_TAG) or names.generate(),
            user_id=tags.get(USER_TAG) or readable(captured_user),
            start_time=start_time if start_time is not None else now_ms(),
            parent_run_id=parent_run_id,
            # Captured text is recorded losslessly (argv, cwd, paths may hold bytes that are
            # not UTF-8: see core.records.text).
            source=encode_captured(src),
        )
        tags = {**tags, RUN_NAME_TAG: info["run_name"]}
        files: dict[str, tuple[int, Oid] | None] = {
            layout.ENVIRONMENT_FILE: (MODE_BLOB, self._environment_blob())
        }
        code = self._inherited_code(inherit_code_from) if inherit_code_from else None
        if code is None:
            snap = self._capture_code()
            code = (snap.record, snap.tree) if snap else None
            if snap is not None and snap.record.get("dirty") and snap.tree:
                from gitrun.tracking import linking

                linking.remember(self.repo, snap.tree)  # for the post-commit hook
        if code is not None:
            record, tree = code
            info["code"] = encode_captured(record)
            files[layout.CODE_DIR] = (MODE_TREE, tree)
            for tag, field in (
                ("mlflow.source.git.commit", "commit"),
                ("mlflow.source.git.branch", "branch"),
                ("mlflow.source.git.repoURL", "repo_url"),
            ):
                if record.get(field) and tag not in tags:
                    tags[tag] = str(record[field])
            tags.setdefault("gitrun.git.dirty", "true" if record.get("dirty") else "false")
            # Lets the post-commit hook find, by one indexed query, the runs whose code a
            # new commit contains exactly.
            tags.setdefault("gitrun.git.tree", str(tree))
        # An owned run is this process's: if the process dies, recovery marks it KILLED.
        self.writer.create_run(run_id, info, tags, files, owned=owned)
        return run_id

    def _inherited_code(self, run_id: str) -> tuple[dict[str, Any], Oid] | None:
        run = self.writer._runs.get(run_id)
        if run is None or "code" not in run.info:
            return None
        tree = run.files.get(layout.CODE_DIR)
        if tree is None and run.base is not None:
            entry = self.repo.lookup(run.base, layout.CODE_DIR)
            tree = (MODE_TREE, entry.oid) if entry else None
        return (run.info["code"], tree[1]) if tree else None

    def _run_tree(self, run_id: str) -> Oid:
        # Read-your-writes: commit what this process buffered for the run, and wait for
        # a background commit of it that may be in flight.
        if self.writer.is_live(run_id):
            self.writer.flush([run_id])
        entry = self.records.entry(layout.run_dir(run_id))
        if entry is None:
            raise ResourceDoesNotExist(f"Run '{run_id}' not found")
        return entry.oid

    def get_run(self, run_id: str) -> ent.Run:
        tree = self.repo.read_tree(self._run_tree(run_id))

        def read(name: str) -> dict[str, Any]:
            e = tree.get(name)
            return self.records.load_yaml(e.oid, f"run {run_id} {name}") if e else {}

        info = read(layout.RUN_FILE)
        try:
            return _run_entity(run_id, info, read)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidRecord(
                f"run {run_id}: its record cannot be read ({type(exc).__name__}: {printable(str(exc))})"
            ) from None

    def run_exists(self, run_id: str) -> bool:
        return self.writer.is_live(run_id) or self.records.entry(layout.run_dir(run_id)) is not None

    def metric_history(self, run_id: str, key: str) -> list[ent.Metric]:
        out: list[ent.Metric] = []
        for steps, timestamps, values in self.metric_chunks(run_id, key):
            out += ent.Metric.many(key, values, timestamps, steps, run_id)
        return out

    def metric_series_oid(self, run_id: str, key: str) -> Oid | None:
        """The git tree holding a series' chunks (a content address: it changes when
        points are added, so it can key a cache); None when the run has no such metric."""
        entry = self.repo.lookup(self._run_tree(run_id), f"{layout.METRICS_DIR}/{layout.encode_key(key)}")
        return entry.oid if entry is not None else None

    def metric_chunks(
        self, run_id: str, key: str, series_oid: Oid | None = None
    ) -> list[tuple[array[int], array[int], array[float]]]:
        """A series as ``(steps, timestamps, values)`` columns, one triple per chunk, in
        :meth:`metric_history`'s order (``series_oid``: from :meth:`metric_series_oid`)."""
        oid = series_oid if series_oid is not None else self.metric_series_oid(run_id, key)
        if oid is None:
            return []
        with collector_paused():
            return [
                series.decode_chunk(self.repo.read_blob(chunk.oid), name)
                for name, chunk in sorted(self.repo.read_tree(oid).items())
            ]

    def close(self) -> None:
        self.writer.close()
        if os.environ.get("GITRUN_AUTO_GC", "1") != "0":
            from gitrun.core.git.maintenance import gc_in_background_if_needed

            gc_in_background_if_needed(self.repo.common_dir)


def _field(run_id: str, info: dict[str, Any], key: str, *kinds: type, optional: bool = False) -> Any:
    value = info.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kinds) or isinstance(value, bool):
        expected = " or ".join(kind.__name__ for kind in kinds)
        raise InvalidRecord(
            f"run {run_id}: run.yaml field {key} is {printable(repr(value))}, expected {expected}"
        )
    return value


def _run_entity(run_id: str, info: dict[str, Any], read: Any) -> ent.Run:
    """A run from its record files, checked: a record fetched from elsewhere may be
    damaged or crafted, so wrongly typed fields are refused rather than passed on."""
    recorded_id = info.get("run_id", run_id)
    if str(recorded_id) != run_id:
        # The path is the run's identity: a record copied under another run's path must
        # not pass for that run.
        raise InvalidRecord(
            f"run {run_id}: its run.yaml names another run ({printable(str(recorded_id))}); "
            "the record is refused"
        )
    status = _field(run_id, info, "status", str)
    if status not in ent.RunStatus.all_status():
        raise InvalidRecord(f"run {run_id}: run.yaml status {printable(status)!r} is not a run status")
    latest = read(layout.METRICS_FILE)
    data = ent.RunData(
        metrics={str(k): float(v["value"]) for k, v in latest.items()},
        params={str(k): str(v) for k, v in read(layout.PARAMS_FILE).items()},
        tags={str(k): str(v) for k, v in read(layout.TAGS_FILE).items()},
    )
    run_info = ent.RunInfo(
        run_id=run_id,
        run_name=str(info.get("run_name") or ""),
        experiment_id=str(_field(run_id, info, "experiment_id", str, int)),
        user_id=str(info.get("user_id") or "unknown"),
        status=status,
        start_time=_field(run_id, info, "start_time", int),
        end_time=_field(run_id, info, "end_time", int, optional=True),
        artifact_uri=str(info.get("artifact_uri") or f"runs:/{run_id}"),
        lifecycle_stage=str(info.get("lifecycle_stage") or ent.LifecycleStage.ACTIVE),
    )
    from gitrun.tracking.datasets import dataset_inputs
    from gitrun.tracking.logged_models import outputs

    # Declared input files (name: path, digest: address) and logged datasets.
    inputs = ent.RunInputs(dataset_inputs(read(layout.INPUTS_FILE), read(layout.DATASETS_FILE)))
    return ent.Run(run_info, data, inputs, ent.RunOutputs(outputs(read(layout.MODELS_FILE))), record=info)


def _experiment(record: dict[str, Any]) -> ent.Experiment:
    return ent.Experiment(
        experiment_id=str(record["experiment_id"]),
        name=str(record["name"]),
        artifact_location=str(record.get("artifact_location") or ""),
        lifecycle_stage=record.get("lifecycle_stage", ent.LifecycleStage.ACTIVE),
        tags={str(k): str(v) for k, v in (record.get("tags") or {}).items()},
        creation_time=record.get("creation_time"),
        last_update_time=record.get("last_update_time"),
    )


_stores: dict[str, TrackingStore] = {}
_stores_lock = threading.Lock()


def open_store(uri: str | None, *, create: bool = True) -> TrackingStore:
    """The process-wide store for a tracking URI (None: the default location).

    Args:
        create: False for reads: a standalone store that does not exist yet is not
            created (:class:`ResourceDoesNotExist` instead), and the store writes
            nothing until a writer opens it with ``create=True``.
    """
    location = loc.resolve(uri)
    store = _stores.get(location.path)
    if store is None:
        with _stores_lock:
            store = _stores.get(location.path)
            if store is None:
                if not create and Repository.at(location.path) is None:
                    raise ResourceDoesNotExist(
                        f"no runs recorded in {location.path}: it is not a git repository or a gitrun "
                        "store (nothing was created; record a run there first, or pass the right "
                        "--tracking-uri / -C)"
                    )
                store = TrackingStore(location, read_only=not create)
                _stores[location.path] = store
    if create:
        store.read_only = False
    return store


def close_all() -> None:
    """Commit and close every open store (at exit; tests call it between cases)."""
    with _stores_lock:
        stores = list(_stores.values())
        _stores.clear()
    for store in stores:
        try:
            store.close()
        except Exception as exc:  # noqa: BLE001 - at exit, report and keep closing the others
            import sys

            print(f"gitrun: could not commit the last records of {store.uri}: {exc}", file=sys.stderr)


atexit.register(close_all)
