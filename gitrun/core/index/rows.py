"""What the index holds about one run or experiment, and how it is read from git.

The values are normalised exactly as :class:`gitrun.tracking.store.TrackingStore`
normalises them when it builds entities, so a run found by a search equals the
same run read with ``get_run``.
"""

from __future__ import annotations

import math
import sys
import warnings
from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from gitrun.core.records import layout
from gitrun.errors import GitrunError


@dataclass(frozen=True, slots=True)
class IndexedRun:
    """One run as the index returns it: MLflow's info fields plus its data."""

    run_id: str
    experiment_id: str
    run_name: str
    status: str
    user_id: str
    artifact_uri: str
    lifecycle_stage: str
    start_time: int
    end_time: int | None
    params: dict[str, str]
    tags: dict[str, str]
    metrics: dict[str, float]
    inputs: tuple[tuple[str, str, str | None], ...] = ()
    """``(name, digest, context)`` of each input, for ``dataset.*`` filters: declared
    files (``inputs.yaml``: name = path, no context) and datasets (``datasets.yaml``)."""
    models: tuple[tuple[str, str], ...] = ()
    """``(model_id, name)`` of each logged model (``models.yaml``)."""


@dataclass(frozen=True, slots=True)
class IndexedExperiment:
    """One experiment as the index returns it."""

    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str
    creation_time: int | None
    last_update_time: int | None
    tags: dict[str, str]


RECORD_FILES = (
    layout.RUN_FILE,
    layout.METRICS_FILE,
    layout.PARAMS_FILE,
    layout.TAGS_FILE,
    layout.INPUTS_FILE,
    layout.DATASETS_FILE,
    layout.MODELS_FILE,
)
"""The files of a run directory the index reads (series chunks, code, environment are not)."""


def _recordyaml() -> Any:
    # Imported on first read only: a search on an up-to-date index parses no YAML,
    # and compiling the reader's patterns is a visible part of a cold process.
    from gitrun.core.index import recordyaml

    return recordyaml


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def record_files(repo: Repository, tree: Oid) -> dict[str, bytes]:
    """The contents of a run directory's :data:`RECORD_FILES` that exist."""
    entries = repo.read_tree(tree)
    return {name: repo.read_blob(entries[name].oid) for name in RECORD_FILES if name in entries}


def parse_run(run_id: str, files: Mapping[str, bytes]) -> IndexedRun | None:
    """A run from its record files; None (with a warning) if they cannot be used.

    A run whose record is damaged is left out of searches rather than making every
    search fail; ``gitrun show`` on it reports the problem.
    """
    ry = _recordyaml()
    where = f"run {run_id}"

    def load(name: str, reader: Callable[[bytes, str], Any]) -> Any:
        data = files.get(name)
        return reader(data, f"{where} {name}") if data is not None else {}

    try:
        info = load(layout.RUN_FILE, ry.load_top_scalars)
        if not info:
            return None  # not a run directory (or an empty one): nothing to search
        return IndexedRun(
            run_id=run_id,  # the directory name: what the diff finds again later
            experiment_id=str(info["experiment_id"]),
            run_name=str(info.get("run_name") or ""),
            status=str(info["status"]),
            user_id=str(info.get("user_id") or "unknown"),
            artifact_uri=str(info.get("artifact_uri") or f"runs:/{run_id}"),
            lifecycle_stage=str(info.get("lifecycle_stage") or "active"),
            # MLflow runs always have one; 0 keeps the column NOT NULL (see run_query).
            start_time=_int_or_none(info.get("start_time")) or 0,
            end_time=_int_or_none(info.get("end_time")),
            params={str(k): str(v) for k, v in load(layout.PARAMS_FILE, ry.load_flat).items()},
            tags={str(k): str(v) for k, v in load(layout.TAGS_FILE, ry.load_flat).items()},
            metrics=load(layout.METRICS_FILE, ry.load_latest),
            inputs=tuple(
                (str(p), str(e["digest"]), None) for p, e in load(layout.INPUTS_FILE, ry.load_mapping).items()
            )
            + tuple(
                (str(d["name"]), str(d["digest"]), None if d.get("context") is None else str(d["context"]))
                for d in load(layout.DATASETS_FILE, ry.load_mapping).values()
            ),
            models=tuple(
                (str(m["model_id"]), str(name))
                for name, m in load(layout.MODELS_FILE, ry.load_mapping).items()
                if m.get("model_id")
            ),
        )
    except (GitrunError, KeyError, TypeError, ValueError, AttributeError) as exc:
        warnings.warn(
            f"gitrun: search leaves out run {run_id}: its record cannot be read ({exc})", stacklevel=2
        )
        return None


def read_run(repo: Repository, run_id: str, tree: Oid) -> IndexedRun | None:
    """Read and parse one run directory (see :func:`parse_run`)."""
    try:
        files = record_files(repo, tree)
    except GitrunError as exc:
        warnings.warn(f"gitrun: search leaves out run {run_id}: {exc}", stacklevel=2)
        return None
    return parse_run(run_id, files)


def read_experiment(repo: Repository, experiment_id: str, blob: Oid) -> IndexedExperiment | None:
    """Read ``experiments/<id>.yaml``; None (with a warning) if it cannot be used."""
    where = f"experiment {experiment_id}"
    try:
        data = _recordyaml().load(repo.read_blob(blob), where)
        return IndexedExperiment(
            experiment_id=str(data.get("experiment_id", experiment_id)),
            name=str(data["name"]),
            artifact_location=str(data.get("artifact_location") or ""),
            lifecycle_stage=str(data.get("lifecycle_stage") or "active"),
            creation_time=_int_or_none(data.get("creation_time")),
            last_update_time=_int_or_none(data.get("last_update_time")),
            tags={str(k): str(v) for k, v in (data.get("tags") or {}).items()},
        )
    except (GitrunError, KeyError, TypeError, ValueError, AttributeError) as exc:
        warnings.warn(f"gitrun: search leaves out experiment {experiment_id}: {exc}", stacklevel=2)
        return None


def sql_metric(value: float) -> float | None:
    """A metric value as stored: NaN becomes NULL (see :mod:`schema`)."""
    return None if math.isnan(value) else value


_BIG_ENDIAN = sys.byteorder == "big"


def pack_values(values: Iterable[float]) -> bytes:
    """Metric values as the index stores them: little-endian float64s, NaN and ±inf kept."""
    packed = array("d", values)
    if _BIG_ENDIAN:
        packed.byteswap()
    return packed.tobytes()


def unpack_values(data: bytes) -> list[float]:
    """The values of :func:`pack_values` (of one run, or of several concatenated)."""
    values = array("d")
    values.frombytes(data)
    if _BIG_ENDIAN:
        values.byteswap()
    return values.tolist()
