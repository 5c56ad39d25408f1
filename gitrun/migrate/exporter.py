"""``gitrun export-mlflow``: the repository's runs as an MLflow file store.

The file store is the one MLflow format with a published, stable layout that needs
no MLflow code to write (its SQL schema changes with every alembic revision).  MLflow
3 reads it with ``MLFLOW_ALLOW_FILE_STORE=true``; MLflow's own tools can copy it into
a database.  Each run is written into a temporary folder, then renamed into place, so
an interrupted export never leaves a half-written run; exporting again rewrites runs.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import Any

import yaml

from gitrun.tracking import datasets as ds
from gitrun.tracking import entities as ent
from gitrun.tracking.client import Client
from gitrun.tracking.search import collect_runs
from gitrun.tracking.store import TrackingStore

_STATUS_NUMBERS = {name: i + 1 for i, name in enumerate(ent.RunStatus.all_status())}
_SOURCE_LOCAL = 4  # MLflow's SourceType.LOCAL


@dataclass
class ExportSummary:
    experiments: int = 0
    runs: int = 0


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def _yaml(path: str, data: dict[str, Any]) -> None:
    _write(path, yaml.safe_dump(data, default_flow_style=False, allow_unicode=True, sort_keys=True))


def _key_files(folder: str, items: dict[str, str]) -> None:
    os.makedirs(folder, exist_ok=True)
    for key, value in items.items():
        _write(os.path.join(folder, *key.split("/")), value)


def _number(value: float) -> str:
    return repr(float(value))  # nan, inf, -inf as MLflow's file store reads them


def export_store(store: TrackingStore, dest: str, experiments: tuple[str, ...] = ()) -> ExportSummary:
    """Write every experiment (or those named) and its runs under ``dest``."""
    client = Client(store.uri)
    root = os.path.abspath(dest)
    os.makedirs(root, exist_ok=True)
    summary = ExportSummary()
    found = client.search_experiments(view_type=ent.ViewType.ALL, max_results=50_000)
    if not any(e.experiment_id == "0" for e in found):
        found.append(client.get_experiment("0"))
    for exp in found:
        if experiments and exp.name not in experiments:
            continue
        deleted = exp.lifecycle_stage == ent.LifecycleStage.DELETED
        exp_dir = os.path.join(root, ".trash" if deleted else "", exp.experiment_id)
        other = os.path.join(root, "" if deleted else ".trash", exp.experiment_id)
        shutil.rmtree(other, ignore_errors=True)
        os.makedirs(exp_dir, exist_ok=True)
        _yaml(
            os.path.join(exp_dir, "meta.yaml"),
            {
                "artifact_location": f"file://{exp_dir}",
                "creation_time": exp.creation_time,
                "experiment_id": exp.experiment_id,
                "last_update_time": exp.last_update_time,
                "lifecycle_stage": exp.lifecycle_stage,
                "name": exp.name,
            },
        )
        shutil.rmtree(os.path.join(exp_dir, "tags"), ignore_errors=True)
        _key_files(os.path.join(exp_dir, "tags"), dict(exp.tags))
        summary.experiments += 1
        for run in collect_runs(
            client, [exp.experiment_id], run_view_type=ent.ViewType.ALL, max_results=10**9
        ):
            _export_run(store, client, exp_dir, run.info.run_id)
            summary.runs += 1
    return summary


def _export_run(store: TrackingStore, client: Client, exp_dir: str, run_id: str) -> None:
    run = client.get_run(run_id)
    info = run.info
    final = os.path.join(exp_dir, run_id)
    scratch = tempfile.mkdtemp(prefix=f".tmp-{run_id}-", dir=exp_dir)
    try:
        _yaml(
            os.path.join(scratch, "meta.yaml"),
            {
                "artifact_uri": f"file://{final}/artifacts",
                "end_time": info.end_time,
                "entry_point_name": "",
                "experiment_id": info.experiment_id,
                "lifecycle_stage": info.lifecycle_stage,
                "run_id": run_id,
                "run_name": info.run_name,
                "run_uuid": run_id,
                "source_name": "",
                "source_type": _SOURCE_LOCAL,
                "source_version": "",
                "start_time": info.start_time,
                "status": _STATUS_NUMBERS.get(info.status, 3),
                "tags": [],
                "user_id": info.user_id,
            },
        )
        _key_files(os.path.join(scratch, "params"), dict(run.data.params))
        _key_files(os.path.join(scratch, "tags"), dict(run.data.tags))
        metrics = os.path.join(scratch, "metrics")
        os.makedirs(metrics)
        for key in run.data.metrics:
            lines = [
                f"{m.timestamp} {_number(m.value)} {m.step}\n" for m in client.get_metric_history(run_id, key)
            ]
            _write(os.path.join(metrics, *key.split("/")), "".join(lines))
        _export_datasets(exp_dir, scratch, ds.run_datasets(store, run_id))
        artifacts = os.path.join(scratch, "artifacts")
        os.makedirs(artifacts)
        if client.list_artifacts(run_id):
            client.download_artifacts(run_id, "", artifacts)
        if os.path.exists(final):
            shutil.rmtree(final)
        os.rename(scratch, final)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def _export_datasets(exp_dir: str, run_dir: str, items: list[ent.DatasetInput]) -> None:
    for item in items:
        data = item.dataset
        dataset_id = hashlib.md5(f"{data.name}\0{data.digest}".encode(), usedforsecurity=False).hexdigest()
        _yaml(
            os.path.join(exp_dir, "datasets", dataset_id, "meta.yaml"),
            {
                "digest": data.digest,
                "name": data.name,
                "profile": data.profile,
                "schema": data.schema,
                "source": data.source,
                "source_type": data.source_type,
            },
        )
        input_id = hashlib.md5(f"{dataset_id}\0{run_dir}".encode(), usedforsecurity=False).hexdigest()
        _yaml(
            os.path.join(run_dir, "inputs", input_id, "meta.yaml"),
            {
                "destination_id": os.path.basename(run_dir),
                "destination_type": "RUN",
                "source_id": dataset_id,
                "source_type": "DATASET",
                "tags": {t.key: t.value for t in item.tags},
            },
        )
