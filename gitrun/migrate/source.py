"""What every MLflow source gives the importer: experiments and runs, read lazily."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from gitrun.tracking.imports import ImportedRun

RUN_STATUSES = ("RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED")


@dataclass(frozen=True)
class SourceExperiment:
    experiment_id: str
    name: str
    lifecycle_stage: str
    tags: dict[str, str] = field(default_factory=dict)


class MlflowSource(Protocol):
    """A readable MLflow store."""

    description: str

    def experiments(self) -> list[SourceExperiment]: ...

    def runs(self, experiment: SourceExperiment) -> Iterator[ImportedRun]:
        """The experiment's runs (deleted ones too); ``experiment_id`` is filled in later."""
        ...

    def close(self) -> None: ...


def status_name(value: Any) -> str:
    """A run status from a name or MLflow's enum number (the file store writes numbers)."""
    if isinstance(value, int) and 1 <= value <= len(RUN_STATUSES):
        return RUN_STATUSES[value - 1]
    text = str(value)
    return text if text in RUN_STATUSES else "FINISHED"


def fingerprint(*parts: Any) -> str:
    """A short digest that changes whenever any part changes."""
    text = json.dumps(parts, sort_keys=True, default=str, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def local_artifact_dir(uri: str | None, artifacts_root: str | None) -> str | None:
    """The local folder of an artifact URI: a path, ``file:``, or ``mlflow-artifacts:``
    under ``artifacts_root`` (the MLflow server's ``--artifacts-destination``)."""
    if not uri:
        return None
    if uri.startswith("mlflow-artifacts:"):
        if artifacts_root is None:
            return None
        rest = urlparse(uri).path.lstrip("/")
        return os.path.join(artifacts_root, *rest.split("/"))
    if uri.startswith("file:"):
        return unquote(urlparse(uri).path)
    if "://" in uri:
        return None
    return uri
