"""Validation of keys and values, with MLflow's rules and messages.

Every check raises :class:`InvalidParameterValue` before anything is written, so a
rejected call never loses what was logged before it.
"""

from __future__ import annotations

import math
import os
import posixpath
import re
import time
import warnings
from collections.abc import Sequence
from typing import Any

from gitrun.core.records.text import refuse_surrogates
from gitrun.errors import InvalidParameterValue

MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000
# MLflow's limits for ONE log-batch request to a tracking server or store
# (mlflow.utils.validation).  They are not limits of ``log_batch``: MlflowClient
# splits a larger batch into several requests, so it accepts any size, and gitrun's
# Client, which writes a batch of any size in one step, must accept the same calls.
# Exported under MLflow's names for code that chunks the way MLflow's does.
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000
MAX_ENTITIES_PER_BATCH = 1000
_INT64 = 2**63

_KEY = re.compile(r"^[/\w.\- :]*$")
_RUN_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_EXPERIMENT_ID = re.compile(r"^[a-zA-Z0-9][\w\-]{0,63}$")

# Keys already found valid: the check is then one set lookup on the hot path.
_valid_keys: set[str] = set()


def validate_key(key: Any, kind: str) -> str:
    """``kind`` is "metric", "param" or "tag"; returns the key."""
    if key in _valid_keys:
        return key  # type: ignore[no-any-return]
    if key is None:
        raise InvalidParameterValue(f"Missing value for required parameter '{kind} key'.")
    if not isinstance(key, str):
        raise InvalidParameterValue(f"Invalid {kind} name: {key!r}. Names must be strings.")
    refuse_surrogates(key, f"{kind} name")
    if not _KEY.match(key):
        raise InvalidParameterValue(
            f"Invalid {kind} name: '{key}'. Names may only contain alphanumerics, underscores (_), "
            "dashes (-), periods (.), spaces ( ), colon(:) and slashes (/)."
        )
    norm = posixpath.normpath(key)
    if key == "" or norm != key or norm == "." or norm.startswith("..") or norm.startswith("/"):
        raise InvalidParameterValue(
            f"Invalid {kind} name: '{key}'. Names may be treated as files in certain cases, and must "
            f"not resolve to other names when treated as such. This name would resolve to '{norm}'"
        )
    if len(key) > MAX_ENTITY_KEY_LENGTH:
        label = {"metric": "Metric name", "param": "Param key", "tag": "Tag key"}.get(kind, kind)
        raise InvalidParameterValue(
            f"'{label}' exceeds the maximum length of {MAX_ENTITY_KEY_LENGTH} characters "
            f"(got {len(key)}): '{key[:40]}...'"
        )
    if len(_valid_keys) < 100_000:
        _valid_keys.add(key)
    return key


def _truncate_enabled() -> bool:
    for name in ("GITRUN_TRUNCATE_LONG_VALUES", "MLFLOW_TRUNCATE_LONG_VALUES"):
        value = os.environ.get(name)
        if value is not None:
            return value.strip().lower() not in ("false", "0", "no")
    return True


def _limit(value: str, limit: int, what: str, key: str) -> str:
    refuse_surrogates(value, f"{what.lower()} value for key '{key}'")
    if len(value) <= limit:
        return value
    if not _truncate_enabled():
        raise InvalidParameterValue(
            f"{what} value '{value[:40]}...' had length {len(value)}, which exceeded length limit of "
            f"{limit} (key '{key}')"
        )
    warnings.warn(f"{what} value for key '{key}' was truncated to {limit} characters", stacklevel=4)
    return value[:limit]


def param_value(key: str, value: Any) -> str:
    return _limit(str(value), MAX_PARAM_VAL_LENGTH, "Param", key)


def tag_value(key: str, value: Any) -> str:
    return _limit(str(value), MAX_TAG_VAL_LENGTH, "Tag", key)


def run_tags(tags: dict[str, Any]) -> dict[str, str]:
    """Validated run tags: keys checked, values as text (within MLflow's length limit)."""
    return {validate_key(k, "tag"): tag_value(k, val) for k, val in tags.items()}


def metric_value(key: str, value: Any) -> float:
    """Coerce like MLflow: numbers, numeric strings, bools, 1-element arrays/tensors."""
    if type(value) is float:
        return value
    if value is None:
        raise InvalidParameterValue("Missing value for required parameter 'value'.")
    item = getattr(value, "item", None)
    if item is not None and getattr(value, "size", getattr(value, "numel", lambda: 1)) in (1, None):
        try:
            value = item()
        except (TypeError, ValueError):
            pass
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidParameterValue(
            f"Got invalid value {value} for metric '{key}'. Please specify value as a valid double "
            "(64-bit floating point)"
        ) from None


def metric_step(step: Any) -> int:
    if step is None:
        return 0
    if type(step) is int and -_INT64 <= step < _INT64:
        return step
    try:
        as_int = int(step)
    except (TypeError, ValueError):
        raise InvalidParameterValue(f"Got invalid step {step!r}: the step must be an integer") from None
    if as_int != step or not -_INT64 <= as_int < _INT64:
        raise InvalidParameterValue(f"Got invalid step {step!r}: the step must be a 64-bit integer")
    return as_int


def metric_timestamp(timestamp: Any) -> int:
    if type(timestamp) is int and 0 <= timestamp < _INT64:
        return timestamp
    if (
        isinstance(timestamp, bool)
        or not isinstance(timestamp, (int, float))
        or (isinstance(timestamp, float) and not math.isfinite(timestamp))
    ):
        raise InvalidParameterValue(
            f"Got invalid timestamp {timestamp!r}: the timestamp must be a non-negative number of ms"
        )
    if timestamp < 0:
        raise InvalidParameterValue(f"Got invalid timestamp {timestamp}: it must not be negative")
    return int(timestamp)


def metric_point(key: Any, value: Any, step: Any, timestamp: Any) -> tuple[str, float, int, int]:
    """One validated point ``(key, value, step, timestamp)``: step None is 0, timestamp
    None is now in ms.

    This is ``log_metric``'s hot path (client and fluent alike): the common case (a key
    already seen, a float, an int step) costs a set lookup and three type checks; anything
    else goes through the coercions above and their error messages.
    """
    if key not in _valid_keys:
        key = validate_key(key, "metric")
    if type(value) is not float:
        value = metric_value(key, value)
    if step is None:
        step = 0
    elif type(step) is not int or not -_INT64 <= step < _INT64:
        step = metric_step(step)
    ts = int(time.time() * 1000) if timestamp is None else metric_timestamp(timestamp)
    return key, value, step, ts


_FLOAT = {float}
_INT = {int}
_STR = {str}
_NUMBER = {float, int}


def _plain_positions(steps: Sequence[Any], timestamps: Sequence[Any]) -> bool:
    """Every step and timestamp an int in range, checked column-wise at C speed (the
    columns are not empty)."""
    return (
        set(map(type, steps)) == _INT
        and set(map(type, timestamps)) == _INT
        and -_INT64 <= min(steps)
        and max(steps) < _INT64
        and 0 <= min(timestamps)
        and max(timestamps) < _INT64
    )


def metric_columns(
    keys: Sequence[Any], values: Sequence[Any], steps: Sequence[Any], timestamps: Sequence[Any]
) -> tuple[Sequence[str], Sequence[float], Sequence[int], Sequence[int]]:
    """Validated metric columns (``log_batch``'s path, :func:`metric_point` for many points).

    A long series is written through here, so the common case (known keys, float values,
    int steps and timestamps) is checked column-wise at C speed; anything else goes
    through the per-point coercions and their error messages.
    """
    fast = (
        _valid_keys.issuperset(keys)
        and set(map(type, values)) == _FLOAT
        and _plain_positions(steps, timestamps)
    )
    if fast:
        return keys, values, steps, timestamps
    keys = tuple(validate_key(k, "metric") for k in keys)
    return (
        keys,
        tuple(map(metric_value, keys, values)),
        tuple(map(metric_step, steps)),
        tuple(map(metric_timestamp, timestamps)),
    )


def plain_metric_columns(
    keys: Sequence[Any], values: Sequence[Any], steps: Sequence[Any], timestamps: Sequence[Any]
) -> tuple[list[str], list[float], list[int], list[int]] | None:
    """Validated metric columns when every point is plainly well-formed (string keys,
    int or float values, int steps and timestamps in range), else None: the caller then
    checks point by point, with its own messages (the REST server's ``log-batch`` names
    the point at fault).  A string key that is not a valid key is refused here.

    ``log-batch`` receives up to 1000 points per request; checking them column by
    column costs a fraction of building and checking each point.
    """
    if not keys:
        return [], [], [], []
    if not (
        set(map(type, keys)) == _STR
        and set(map(type, values)) <= _NUMBER
        and _plain_positions(steps, timestamps)
    ):
        return None
    for key in set(keys):
        validate_key(key, "metric")
    return list(keys), list(map(float, values)), list(steps), list(timestamps)


# Run ids already found valid, as _valid_keys: log_metric checks its run id on every call.
_valid_run_ids: set[str] = set()


def run_id(value: Any) -> str:
    if type(value) is str and value in _valid_run_ids:
        return value
    if not isinstance(value, str) or not _RUN_ID.match(value):
        raise InvalidParameterValue(f"Invalid run ID: '{value}'")
    if len(_valid_run_ids) < 100_000:
        _valid_run_ids.add(value)
    return value


def experiment_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidParameterValue(
            f"Invalid experiment ID {value!r}: experiment IDs are strings (or integers)"
        )
    text = str(value)
    if not _EXPERIMENT_ID.match(text):
        raise InvalidParameterValue(f"Invalid experiment ID: '{text}'")
    return text


def experiment_name(name: Any) -> str:
    if not isinstance(name, str):
        raise InvalidParameterValue(f"Invalid experiment name: {name!r}. Expects a string.")
    refuse_surrogates(name, "experiment name")
    if not name.strip():
        raise InvalidParameterValue("Invalid experiment name: '' (names must not be empty or blank)")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidParameterValue(
            f"Experiment name exceeds the maximum length of {MAX_EXPERIMENT_NAME_LENGTH} characters"
        )
    return name


def experiment_tag(key: Any, value: Any) -> tuple[str, str]:
    key = validate_key(key, "tag")
    text = refuse_surrogates(str(value), f"experiment tag value for key '{key}'")
    if len(text) > MAX_EXPERIMENT_TAG_VAL_LENGTH:
        raise InvalidParameterValue(
            f"Experiment tag value for '{key}' exceeds the maximum length of "
            f"{MAX_EXPERIMENT_TAG_VAL_LENGTH} characters"
        )
    return key, text


def no_duplicates(keys: list[str], what: str) -> None:
    if len(set(keys)) != len(keys):
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        raise InvalidParameterValue(
            f"Duplicate {what} keys have been submitted: {dupes}. Please ensure the request contains "
            f"only one {what} value per key."
        )
