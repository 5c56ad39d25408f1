"""What the index holds about one run or experiment, and how it is read from git.

A row is made from the :class:`~gitrun.core.records.values.RunRecord` that
``get_run`` reads too (one parser, one set of checks), so a run found by a search
equals the same run read by id.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from gitrun.core.records import values, yamlfmt
from gitrun.core.records.values import ExperimentRecord, RunRecord
from gitrun.errors import DamagedRecordWarning, GitrunError, InvalidRecord, warn_always


def search_result(*fields: Any) -> RunRecord:
    """A search page's run (by default): the record from the index's columns, in
    :class:`RunRecord`'s order, without its mapping files."""
    return RunRecord._make((*fields, values.EMPTY, values.EMPTY, values.EMPTY, values.EMPTY))


class RunRow(
    NamedTuple(
        "RunRow",
        [
            ("record", RunRecord),
            ("inputs", tuple[tuple[str, str, str | None], ...]),
            ("models", tuple[tuple[str, str], ...]),
        ],
    )
):
    """One run as the index stores it: its record, and its inputs and logged models as
    rows for the ``dataset.*`` and logged-model filters: ``(name, digest, context)`` of
    each input (declared files, name = path and no context; datasets) and ``(model_id,
    name)`` of each logged model."""

    __slots__ = ()


IndexedExperiment = ExperimentRecord
"""One experiment as the index returns it."""


def parse_run(run_id: str, files: Mapping[str, bytes]) -> RunRow | None:
    """A run's index row from its record files (read by :func:`values.parse_run`, the
    one parser ``get_run`` uses too); None for a directory that holds no run.

    Raises:
        InvalidRecord: the record is damaged.  Searches leave such a run out, with a
            warning on every search (see :mod:`gitrun.core.index.sync`); ``gitrun
            show`` on it reports the problem.
    """
    record = values.parse_run(run_id, files, full=False)
    if record is None:
        return None
    text = values.text_field
    try:
        inputs = tuple(
            (text(p, "input path"), text(e["digest"], "input digest"), None) for p, e in record.inputs.items()
        ) + tuple(
            (
                text(d["name"], "dataset name"),
                text(d["digest"], "dataset digest"),
                None if d.get("context") is None else text(d["context"], "dataset context"),
            )
            for d in record.datasets.values()
        )
        models = tuple(
            (text(m["model_id"], "model id"), text(name, "model name"))
            for name, m in record.models.items()
            if m.get("model_id")
        )
    except InvalidRecord:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidRecord(f"its record cannot be read ({type(exc).__name__}: {exc})") from None
    return RunRow(record, inputs, models)


def read_experiment(repo: Repository, experiment_id: str, blob: Oid) -> IndexedExperiment | None:
    """Read ``experiments/<id>.yaml``; None (with a warning) if it cannot be used."""
    try:
        return values.parse_experiment(
            experiment_id, yamlfmt.load(repo.read_blob(blob), f"experiment {experiment_id}")
        )
    except GitrunError as exc:
        warn_always(
            f"gitrun: search leaves out experiment {experiment_id}: {exc.message}", DamagedRecordWarning
        )
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
