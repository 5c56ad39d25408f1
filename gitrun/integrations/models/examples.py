"""Input examples: saved as ``input_example.json`` beside the model.

Formats (MLflow's): an array is a nested JSON list; a DataFrame is
``{"columns": [...], "data": [[...], ...]}`` (pandas' "split" orient); a dict
of arrays is a JSON object of nested lists.  JSON keeps the example readable and
loadable without unpickling anything.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

EXAMPLE_FILE = "input_example.json"


def to_json_value(example: Any) -> tuple[Any, str]:
    """``(json-able value, type name)`` for an example."""
    module = type(example).__module__.split(".")[0]
    if module == "pandas":
        frame = example.to_frame() if not hasattr(example, "columns") else example
        rows = [[_scalar(v) for v in row] for row in frame.itertuples(index=False, name=None)]
        return {"columns": [str(c) for c in frame.columns], "data": rows}, "dataframe"
    if isinstance(example, dict):
        return {str(k): _nested(v) for k, v in example.items()}, "json_object"
    if isinstance(example, str):
        return example, "string"
    return _nested(example), "ndarray"


def save_example(directory: Path, example: Any) -> dict[str, str]:
    """Write the example; returns the descriptor's ``saved_input_example_info``."""
    value, kind = to_json_value(example)
    text = json.dumps(value, sort_keys=True, allow_nan=True)
    (directory / EXAMPLE_FILE).write_text(text + "\n", encoding="utf-8")
    return {"artifact_path": EXAMPLE_FILE, "type": kind}


def load_example(directory: Path, info: dict[str, Any]) -> Any:
    """Read a saved example back (numpy array, DataFrame, dict of arrays or str)."""
    value = json.loads((directory / info["artifact_path"]).read_text(encoding="utf-8"))
    kind = info.get("type")
    if kind == "dataframe":
        import pandas as pd

        return pd.DataFrame(value["data"], columns=value["columns"])
    if kind in ("ndarray", "json_object"):
        import numpy as np

        if kind == "json_object":
            return {k: np.asarray(v) for k, v in value.items()}
        return np.asarray(value)
    return value


def _nested(value: Any) -> Any:
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # torch tensor
        value = value.detach().cpu().numpy()
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_nested(v) for v in value]
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return value  # json.dumps(allow_nan=True) writes NaN/Infinity, as MLflow does
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", errors="replace")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
