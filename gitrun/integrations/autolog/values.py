"""Turning library values into params and metrics, the same way for every integration."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gitrun.tracking.validation import MAX_PARAM_VAL_LENGTH


def as_param(value: Any) -> str:
    """``str(value)``, cut to the param length limit (a pipeline's ``steps`` can be long)."""
    text = str(value)
    return text if len(text) <= MAX_PARAM_VAL_LENGTH else text[: MAX_PARAM_VAL_LENGTH - 3] + "..."


def scalar_metrics(values: Mapping[Any, Any]) -> dict[str, float]:
    """The entries that are single numbers (Python, numpy or 1-element tensors), as floats.

    Anything else (strings, arrays, nested dicts) is left out, as MLflow's
    integrations do.
    """
    out: dict[str, float] = {}
    for key, value in values.items():
        if isinstance(value, (str, bytes)) or value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError, RuntimeError):
            continue
        out[str(key)] = number
    return out
