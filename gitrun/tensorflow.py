"""TensorFlow's Keras (MLflow's ``mlflow.tensorflow``), handled by the Keras 3 flavor.

Since TensorFlow 2.16, ``tf.keras`` is Keras 3: ``log_model``/``load_model`` and
``autolog()`` here are those of :mod:`gitrun.keras`, with runs tagged
``mlflow.autologging=tensorflow``.  Raw ``tf.Module``/SavedModel objects (no
Keras model) are not supported.
"""

from __future__ import annotations

from typing import Any

from gitrun.integrations.keras.flavor import FLAVOR as FLAVOR_NAME
from gitrun.integrations.keras.flavor import _load_pyfunc, load_model, save_model
from gitrun.integrations.models.info import ModelInfo

__all__ = ["FLAVOR_NAME", "_load_pyfunc", "autolog", "load_model", "log_model", "save_model"]


def log_model(model: Any, name: str | None = None, **kwargs: Any) -> ModelInfo:
    """Log a Keras model (``tf.keras.Model``); see :func:`gitrun.keras.log_model`."""
    from gitrun.errors import InvalidParameterValue
    from gitrun.integrations.keras.flavor import log_model as log_keras

    if not hasattr(model, "save") or not hasattr(model, "fit"):
        raise InvalidParameterValue(
            f"gitrun.tensorflow.log_model supports Keras models only, not {type(model).__name__}"
        )
    return log_keras(model, name, **kwargs)


def autolog(extra_tags: dict[str, str] | None = None, **kwargs: Any) -> None:
    """Keras autologging (see :func:`gitrun.keras.autolog`), runs tagged ``tensorflow``."""
    from gitrun.integrations.keras.autolog import autolog as keras_autolog

    keras_autolog(extra_tags={"mlflow.autologging": "tensorflow", **(extra_tags or {})}, **kwargs)
