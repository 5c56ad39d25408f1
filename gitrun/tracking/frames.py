"""Runs as a pandas DataFrame with MLflow's columns (what ``gitrun.search_runs`` returns).

pandas is imported here only, on first use: ``import gitrun`` never pays for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gitrun.errors import InvalidParameterValue
from gitrun.tracking import entities as ent


def runs_dataframe(runs: Sequence[ent.Run]) -> Any:
    """MLflow's DataFrame of runs: info columns, then metrics.*, params.*, tags.* (sorted)."""
    try:
        import pandas as pd
    except ImportError:
        raise InvalidParameterValue(
            "search_runs returns a pandas DataFrame, but pandas is not installed: pip install pandas, "
            "or pass output_format='list'"
        ) from None
    columns: dict[str, Any] = {
        "run_id": [r.info.run_id for r in runs],
        "experiment_id": [r.info.experiment_id for r in runs],
        "status": [r.info.status for r in runs],
        "artifact_uri": [r.info.artifact_uri for r in runs],
        "start_time": pd.to_datetime([r.info.start_time for r in runs], unit="ms", utc=True),
        "end_time": pd.to_datetime([r.info.end_time for r in runs], unit="ms", utc=True),
    }
    for field, missing in (("metrics", float("nan")), ("params", None), ("tags", None)):
        # Strings as objects: pandas' string dtype would turn a missing None into NaN.
        dtype = float if field == "metrics" else object
        for key in sorted({k for r in runs for k in getattr(r.data, field)}):
            values = [getattr(r.data, field).get(key, missing) for r in runs]
            columns[f"{field}.{key}"] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(columns)
