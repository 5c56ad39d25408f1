"""What the index holds about one run or experiment, and how it is read from git.

The values are normalised exactly as :class:`gitrun.tracking.store.TrackingStore`
normalises them when it builds entities, so a run found by a search equals the
same run read with ``get_run``.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from gitrun.core.records import layout, yamlfmt
from gitrun.core.records.text import has_surrogates, printable
from gitrun.errors import DamagedRecordWarning, GitrunError, InvalidRecord, warn_always


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


RUN_STATUSES = frozenset({"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"})

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


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def record_files(repo: Repository, tree: Oid) -> dict[str, bytes]:
    """The contents of a run directory's :data:`RECORD_FILES` that exist."""
    entries = repo.read_tree(tree)
    return {name: repo.read_blob(entries[name].oid) for name in RECORD_FILES if name in entries}


def parse_run(run_id: str, files: Mapping[str, bytes]) -> IndexedRun | None:
    """A run from its record files; None for a directory that holds no run.

    Raises:
        InvalidRecord: the record is damaged (unparsable YAML, wrongly typed fields,
            text that is not valid Unicode, or a ``run_id`` other than its directory's).
            Searches leave such a run out, with a warning on every search (see
            :mod:`gitrun.core.index.sync`); ``gitrun show`` on it reports the problem.
    """
    where = f"run {run_id}"

    def load(name: str, reader: Callable[[bytes, str], Any]) -> Any:
        data = files.get(name)
        return reader(data, f"{where} {name}") if data is not None else {}

    try:
        info = load(layout.RUN_FILE, yamlfmt.load_top_scalars)
        if not info:
            return None  # not a run directory (or an empty one): nothing to search
        _check_identity(run_id, info)
        run = IndexedRun(
            run_id=run_id,  # the directory name: what the diff finds again later
            experiment_id=_text(info["experiment_id"], "experiment_id"),
            run_name=_text(info.get("run_name") or "", "run_name"),
            status=_status(info["status"]),
            user_id=_text(info.get("user_id") or "unknown", "user_id"),
            artifact_uri=_text(info.get("artifact_uri") or f"runs:/{run_id}", "artifact_uri"),
            lifecycle_stage=_text(info.get("lifecycle_stage") or "active", "lifecycle_stage"),
            # MLflow runs always have one; 0 keeps the column NOT NULL (see run_query).
            start_time=_int_or_none(info.get("start_time")) or 0,
            end_time=_int_or_none(info.get("end_time")),
            params=_strings(load(layout.PARAMS_FILE, yamlfmt.load_flat), "params"),
            tags=_strings(load(layout.TAGS_FILE, yamlfmt.load_flat), "tags"),
            metrics=load(layout.METRICS_FILE, yamlfmt.load_latest),
            inputs=tuple(
                (_text(p, "input path"), _text(e["digest"], "input digest"), None)
                for p, e in load(layout.INPUTS_FILE, yamlfmt.load_mapping).items()
            )
            + tuple(
                (
                    _text(d["name"], "dataset name"),
                    _text(d["digest"], "dataset digest"),
                    None if d.get("context") is None else _text(d["context"], "dataset context"),
                )
                for d in load(layout.DATASETS_FILE, yamlfmt.load_mapping).values()
            ),
            models=tuple(
                (_text(m["model_id"], "model id"), _text(name, "model name"))
                for name, m in load(layout.MODELS_FILE, yamlfmt.load_mapping).items()
                if m.get("model_id")
            ),
        )
    except InvalidRecord:
        raise
    except (GitrunError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidRecord(f"its record cannot be read ({type(exc).__name__}: {exc})") from None
    for key in run.metrics:
        _text(key, "metric key")
    return run


def _check_identity(run_id: str, info: Mapping[str, Any]) -> None:
    """A record copied (or crafted) under another run's path must not pass for it."""
    recorded_id = info.get("run_id", run_id)
    if str(recorded_id) != run_id:
        raise InvalidRecord(f"its run.yaml names another run ({printable(str(recorded_id))!r})")


def _text(value: Any, what: str) -> str:
    """A scalar field as text; text that is not valid Unicode (SQLite refuses it) is damage.

    (Both YAML readers refuse lone surrogates already: this is the last line.)"""
    if type(value) is str:
        if has_surrogates(value):
            raise InvalidRecord(f"its {what} is not valid Unicode")
        return value
    if isinstance(value, (dict, list)):
        raise InvalidRecord(f"its {what} is a {type(value).__name__}, not text")
    return str(value)


def _strings(data: Mapping[Any, Any], what: str) -> dict[str, str]:
    if all(type(k) is str and type(v) is str for k, v in data.items()):
        if has_surrogates("".join(data) + "".join(data.values())):
            raise InvalidRecord(f"its {what} are not valid Unicode")
        return dict(data)
    return {_text(k, f"{what} key"): _text(v, f"{what} value") for k, v in data.items()}


def _status(value: Any) -> str:
    if value not in RUN_STATUSES:
        raise InvalidRecord(f"its status {printable(str(value))!r} is not a run status")
    return str(value)


def read_experiment(repo: Repository, experiment_id: str, blob: Oid) -> IndexedExperiment | None:
    """Read ``experiments/<id>.yaml``; None (with a warning) if it cannot be used."""
    where = f"experiment {experiment_id}"
    try:
        data = yamlfmt.load(repo.read_blob(blob), where)
        recorded_id = data.get("experiment_id", experiment_id)
        if str(recorded_id) != experiment_id:
            raise InvalidRecord(f"it names another experiment ({printable(str(recorded_id))!r})")
        return IndexedExperiment(
            experiment_id=experiment_id,
            name=_text(data["name"], "name"),
            artifact_location=_text(data.get("artifact_location") or "", "artifact_location"),
            lifecycle_stage=_text(data.get("lifecycle_stage") or "active", "lifecycle_stage"),
            creation_time=_int_or_none(data.get("creation_time")),
            last_update_time=_int_or_none(data.get("last_update_time")),
            tags=_strings(data.get("tags") or {}, "tags"),
        )
    except (GitrunError, KeyError, TypeError, ValueError, AttributeError) as exc:
        reason = exc.message if isinstance(exc, GitrunError) else f"{type(exc).__name__}: {exc}"
        warn_always(f"gitrun: search leaves out experiment {experiment_id}: {reason}", DamagedRecordWarning)
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
