"""Hugging Face Transformers: a Trainer callback, autologging and a model flavor.

``GitrunCallback`` (a ``TrainerCallback``; ``gitrun.autolog()`` adds it to every
``Trainer``), ``autolog()``, ``log_model(model, "model", tokenizer=...)``,
``load_model``, and the opt-in ``register_mlflow_alias()`` for code that uses
``report_to="mlflow"``.  transformers is imported only when needed.
"""

from __future__ import annotations

from typing import Any

from gitrun.integrations.transformers.alias import register_mlflow_alias, unregister_mlflow_alias
from gitrun.integrations.transformers.autolog import autolog
from gitrun.integrations.transformers.flavor import FLAVOR as FLAVOR_NAME
from gitrun.integrations.transformers.flavor import _load_pyfunc, load_model, log_model, save_model

__all__ = [
    "FLAVOR_NAME",
    "_load_pyfunc",
    "autolog",
    "load_model",
    "log_model",
    "register_mlflow_alias",
    "save_model",
    "unregister_mlflow_alias",
]


def __getattr__(name: str) -> Any:
    # GitrunCallback derives from transformers.TrainerCallback: defined on first use.
    if name == "GitrunCallback":
        from gitrun.integrations.transformers.callback import GitrunCallback

        return GitrunCallback
    raise AttributeError(f"module 'gitrun.transformers' has no attribute {name!r}")
