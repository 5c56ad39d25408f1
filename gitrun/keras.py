"""Keras 3 models and autologging (MLflow's ``mlflow.keras``), on any backend.

``log_model(model, "model")``, ``save_model``, ``load_model`` (native ``.keras``
files), ``autolog()`` and ``GitrunCallback`` (alias ``MlflowCallback``).
keras is imported only when needed.
"""

from __future__ import annotations

from typing import Any

from gitrun.integrations.keras.autolog import autolog
from gitrun.integrations.keras.flavor import FLAVOR as FLAVOR_NAME
from gitrun.integrations.keras.flavor import _load_pyfunc, load_model, log_model, save_model

__all__ = [
    "FLAVOR_NAME",
    "_load_pyfunc",
    "autolog",
    "load_model",
    "log_model",
    "save_model",
]


def __getattr__(name: str) -> Any:
    # The callback class derives from keras.callbacks.Callback: defined on first use.
    if name in ("GitrunCallback", "MlflowCallback"):
        from gitrun.integrations.keras import callback

        return getattr(callback, name)
    raise AttributeError(f"module 'gitrun.keras' has no attribute {name!r}")
