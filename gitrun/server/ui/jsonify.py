"""Turning tracking values into JSON the page reads (NaN and infinities as strings)."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from starlette.responses import JSONResponse

from gitrun.tracking import entities as ent

NOTE_TAG = "mlflow.note.content"
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def plain(value: Any) -> Any:
    """``value`` with dataclasses as dicts and non-finite floats as strings (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else _NON_FINITE[repr(value)]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


class Json(JSONResponse):
    """A JSON response of :func:`plain` values (never NaN, never a Python repr of an object)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(plain(content), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def run_row(run: ent.Run) -> dict[str, Any]:
    """A run as one row of the runs table."""
    info, data = run.info, run.data
    tags = {k: v for k, v in data.tags.items() if k != NOTE_TAG}
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status,
        "user_id": info.user_id,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "lifecycle_stage": info.lifecycle_stage,
        "commit": data.tags.get("mlflow.source.git.commit"),
        "dirty": data.tags.get("gitrun.git.dirty") == "true",
        "parent_run_id": data.tags.get("mlflow.parentRunId"),
        "params": data.params,
        "metrics": data.metrics,
        "tags": tags,
    }
