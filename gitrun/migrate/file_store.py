"""MLflow's file store (an ``mlruns`` folder), read with PyYAML's safe loader.

Layout (MLflow 1.x to 3.x): ``<experiment>/meta.yaml`` and ``tags/``; deleted
experiments under ``.trash/``; ``<experiment>/<run>/meta.yaml``, ``params/``,
``tags/`` and ``metrics/`` (one file per key, ``/`` in a key is a sub-folder; a metric
file has ``<timestamp> <value> [<step>]`` lines), ``inputs/<id>/meta.yaml`` linking
``<experiment>/datasets/<id>/meta.yaml``; artifacts where the run's ``artifact_uri``
points (by default ``<run>/artifacts``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from typing import Any

import yaml

from gitrun.errors import InvalidParameterValue
from gitrun.migrate.source import SourceExperiment, fingerprint, local_artifact_dir, status_name
from gitrun.tracking import entities as ent
from gitrun.tracking.imports import ImportedRun, Points

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader

_NOT_RUNS = frozenset({"tags", "datasets", "models", "traces", ".trash"})


def _yaml(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        found = yaml.load(fh, Loader=_Loader)  # noqa: S506 - a safe loader (C or Python)
    return found if isinstance(found, dict) else {}


def _files(folder: str) -> dict[str, str]:
    """Key -> value of a folder of one-file-per-key entries (sub-folders for ``/``)."""
    out: dict[str, str] = {}
    if not os.path.isdir(folder):
        return out
    for here, _dirs, names in os.walk(folder):
        for name in names:
            path = os.path.join(here, name)
            key = os.path.relpath(path, folder).replace(os.sep, "/")
            with open(path, encoding="utf-8") as fh:
                out[key] = fh.read()
    return out


def _listing(folder: str) -> list[tuple[str, int]]:
    out = []
    for here, _dirs, names in os.walk(folder):
        for name in names:
            path = os.path.join(here, name)
            out.append((os.path.relpath(path, folder), os.path.getsize(path)))
    return sorted(out)


def read_metric_file(path: str) -> Points:
    points = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) < 2:
                continue
            step = int(parts[2]) if len(parts) > 2 else 0
            points.append((step, int(parts[0]), float(parts[1])))
    return points


class FileStore:
    """An ``mlruns`` folder."""

    def __init__(self, root: str, artifacts_root: str | None = None) -> None:
        self.root = os.path.abspath(root)
        if not os.path.isdir(self.root):
            raise InvalidParameterValue(f"{root} is not a folder (an MLflow file store, mlruns/)")
        self.artifacts_root = artifacts_root
        self.description = f"file:{self.root}"

    def _experiment_dirs(self) -> list[str]:
        found = []
        for base in (self.root, os.path.join(self.root, ".trash")):
            if os.path.isdir(base):
                found += [
                    os.path.join(base, name)
                    for name in sorted(os.listdir(base))
                    if os.path.isfile(os.path.join(base, name, "meta.yaml"))
                ]
        return found

    def experiments(self) -> list[SourceExperiment]:
        out = []
        for folder in self._experiment_dirs():
            meta = _yaml(os.path.join(folder, "meta.yaml"))
            stage = str(meta.get("lifecycle_stage") or "active")
            if os.path.basename(os.path.dirname(folder)) == ".trash":
                stage = "deleted"
            out.append(
                SourceExperiment(
                    experiment_id=str(meta.get("experiment_id", os.path.basename(folder))),
                    name=str(meta["name"]),
                    lifecycle_stage=stage,
                    tags=_files(os.path.join(folder, "tags")),
                )
            )
        return out

    def _folder_of(self, experiment: SourceExperiment) -> str:
        for folder in self._experiment_dirs():
            if os.path.basename(folder) == experiment.experiment_id:
                return folder
        raise InvalidParameterValue(f"experiment {experiment.experiment_id} is not in {self.root}")

    def runs(self, experiment: SourceExperiment) -> Iterator[ImportedRun]:
        exp_dir = self._folder_of(experiment)
        for name in sorted(os.listdir(exp_dir)):
            run_dir = os.path.join(exp_dir, name)
            meta_path = os.path.join(run_dir, "meta.yaml")
            if name in _NOT_RUNS or not os.path.isfile(meta_path):
                continue
            yield self._run(exp_dir, run_dir, _yaml(meta_path))

    def _run(self, exp_dir: str, run_dir: str, meta: dict[str, Any]) -> ImportedRun:
        run_id = str(meta.get("run_id") or meta.get("run_uuid") or os.path.basename(run_dir))
        tags = _files(os.path.join(run_dir, "tags"))
        metrics_dir = os.path.join(run_dir, "metrics")
        metric_files = _listing(metrics_dir) if os.path.isdir(metrics_dir) else []
        keys = [rel.replace(os.sep, "/") for rel, _ in metric_files]
        end = meta.get("end_time")
        artifact_uri = meta.get("artifact_uri")
        return ImportedRun(
            run_id=run_id,
            experiment_id="",
            run_name=str(meta.get("run_name") or tags.get("mlflow.runName") or ""),
            user_id=str(meta.get("user_id") or "unknown"),
            status=status_name(meta.get("status")),
            start_time=int(meta.get("start_time") or 0),
            end_time=int(end) if end is not None else None,
            lifecycle_stage=str(meta.get("lifecycle_stage") or "active"),
            params=_files(os.path.join(run_dir, "params")),
            tags=tags,
            metric_keys=keys,
            history=lambda key: read_metric_file(os.path.join(metrics_dir, *key.split("/"))),
            fingerprint=fingerprint(
                meta, sorted(tags.items()), metric_files, _listing(os.path.join(run_dir, "params"))
            ),
            source=self.description,
            datasets=self._datasets(exp_dir, run_dir),
            artifacts_dir=partial(local_artifact_dir, artifact_uri, self.artifacts_root),
        )

    def _datasets(self, exp_dir: str, run_dir: str) -> list[ent.DatasetInput]:
        inputs = os.path.join(run_dir, "inputs")
        out: list[ent.DatasetInput] = []
        if not os.path.isdir(inputs):
            return out
        for name in sorted(os.listdir(inputs)):
            path = os.path.join(inputs, name, "meta.yaml")
            if not os.path.isfile(path):
                continue
            link = _yaml(path)
            if link.get("source_type") != "DATASET":
                continue
            data_path = os.path.join(exp_dir, "datasets", str(link.get("source_id")), "meta.yaml")
            if not os.path.isfile(data_path):
                continue
            data = _yaml(data_path)
            tags = [ent.InputTag(str(k), str(v)) for k, v in sorted((link.get("tags") or {}).items())]
            out.append(
                ent.DatasetInput(
                    ent.Dataset(
                        name=str(data.get("name", "")),
                        digest=str(data.get("digest", "")),
                        source_type=str(data.get("source_type", "")),
                        source=str(data.get("source", "")),
                        schema=data.get("schema"),
                        profile=data.get("profile"),
                    ),
                    tags,
                )
            )
        return out

    def close(self) -> None:
        pass
