"""``log_table`` / ``load_table`` (MLflow's): a table as a JSON artifact, read back across runs.

A table is stored as ``{"columns": [...], "data": [[...], ...]}`` (pandas' "split"
orientation without the index).  Logging to a file the run already has appends the
rows (MLflow's rule); the run's ``mlflow.loggedArtifacts`` tag lists its tables so
that ``load_table`` finds the runs that logged one.
"""

from __future__ import annotations

import json
from typing import Any

from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist

LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"


def _frame(data: Any) -> Any:
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, dict):
        return pd.DataFrame(data)
    raise InvalidParameterValue(f"log_table takes a dict or a pandas DataFrame, not {type(data).__name__}")


def log_table(client: Any, run_id: str, data: Any, artifact_file: str) -> None:
    """Log (or append to) the table ``artifact_file`` (a ``.json`` path) of the run."""
    import pandas as pd

    if not artifact_file.endswith(".json"):
        raise InvalidParameterValue(f"a table's artifact_file must end with .json, got {artifact_file!r}")
    frame = _frame(data)
    try:
        existing = _read(client, run_id, artifact_file)
    except ResourceDoesNotExist:
        existing = None
    if existing is not None:
        frame = pd.concat([existing, frame], ignore_index=True)
    split = json.loads(frame.to_json(orient="split", index=False, date_format="iso"))
    client.log_text(run_id, json.dumps({"columns": split["columns"], "data": split["data"]}), artifact_file)
    tag = client.get_run(run_id).data.tags.get(LOGGED_ARTIFACTS_TAG)
    tables = json.loads(tag) if tag else []
    if {"path": artifact_file, "type": "table"} not in tables:
        tables.append({"path": artifact_file, "type": "table"})
        client.set_tag(run_id, LOGGED_ARTIFACTS_TAG, json.dumps(tables))


def _read(client: Any, run_id: str, artifact_file: str) -> Any:
    import tempfile
    from pathlib import Path

    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="gitrun-table-") as tmp:
        path = client.download_artifacts(run_id, artifact_file, tmp)
        content = json.loads(Path(path).read_text(encoding="utf-8"))
    return pd.DataFrame(content["data"], columns=content["columns"])


def load_table(
    client: Any,
    experiment_ids: list[str],
    artifact_file: str,
    run_ids: list[str] | None,
    extra_columns: list[str] | None,
) -> Any:
    """The table ``artifact_file`` of the given runs (else of every run of the experiments that
    logged it), concatenated; ``extra_columns`` (``run_id``, ...) added from each run's info."""
    import pandas as pd

    if run_ids is None:
        from gitrun.tracking.search import collect_runs

        runs = collect_runs(client, experiment_ids, max_results=10**9)
        run_ids = [r.info.run_id for r in runs if artifact_file in r.data.tags.get(LOGGED_ARTIFACTS_TAG, "")]
    frames = []
    for run_id in run_ids:
        frame = _read(client, run_id, artifact_file)
        info = client.get_run(run_id).info
        for column in extra_columns or ():
            value = getattr(info, column, None)
            if value is None:
                raise InvalidParameterValue(f"extra column {column!r} is not a run attribute")
            frame[column] = value
        frames.append(frame)
    if not frames:
        raise ResourceDoesNotExist(f"no run logged the table {artifact_file!r}")
    return pd.concat(frames, ignore_index=True)
