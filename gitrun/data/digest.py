"""Content digests of in-memory data: ``sha256:<hex>`` of a canonical serialisation.

The same address scheme as every file gitrun stores (artifacts, declared inputs),
so a filter ``dataset.digest = 'sha256:...'`` finds runs that used exactly this
data, whether it was declared as a file or logged as a dataset.  The serialisation
is gitrun's own and stable: a short JSON header (format, column names, dtypes,
shape) followed, column by column, by the raw little-endian bytes of numeric,
boolean and datetime columns, and by a JSON list for any other column.  The
index of a DataFrame is left out: a split keeps the row labels of the frame it
came from, and the same rows under other labels are the same training data.

Hashing streams column by column; nothing is copied beyond one column at a time.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

_FIXED_KINDS = "biufcmM"  # bool, int, uint, float, complex, timedelta, datetime


def _update_array(h: Any, array: Any) -> None:
    import numpy as np

    array = np.asarray(array)
    header = {
        "dtype": array.dtype.str if array.dtype.kind in _FIXED_KINDS else "object",
        "shape": list(array.shape),
    }
    h.update(json.dumps(header, sort_keys=True).encode() + b"\n")
    if array.dtype.kind in _FIXED_KINDS:
        h.update(np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<"), copy=False)).tobytes())
    else:
        h.update(json.dumps(array.tolist(), default=str, ensure_ascii=False).encode())


def frame_digest(frame: Any) -> str:
    """The digest of a pandas DataFrame (or Series): columns, dtypes and values."""
    if not hasattr(frame, "columns"):
        frame = frame.to_frame()
    h = hashlib.sha256()
    header = {"format": "gitrun.dataframe/1", "columns": [str(c) for c in frame.columns], "rows": len(frame)}
    h.update(json.dumps(header, sort_keys=True).encode() + b"\n")
    for column in frame.columns:
        series = frame[column]
        h.update(json.dumps({"column": str(column), "dtype": str(series.dtype)}).encode() + b"\n")
        _update_array(h, series.to_numpy())
    return f"sha256:{h.hexdigest()}"


def arrays_digest(features: Any, targets: Any = None) -> str:
    """The digest of a features array (and targets): dtypes, shapes and values."""
    h = hashlib.sha256()
    h.update(b'{"format": "gitrun.ndarray/1"}\n')
    if isinstance(features, dict):
        for key in sorted(features):
            h.update(json.dumps({"feature": str(key)}).encode() + b"\n")
            _update_array(h, features[key])
    else:
        _update_array(h, features)
    if targets is not None:
        h.update(b'{"targets": true}\n')
        _update_array(h, targets)
    return f"sha256:{h.hexdigest()}"
