"""The generic model interface (MLflow's ``mlflow.pyfunc``).

``load_model(uri)`` loads a model of any gitrun flavor as a :class:`PyFuncModel`
with ``predict(data)``; ``PythonModel`` + ``log_model(name, python_model=...,
artifacts=...)`` log custom models (what Hugging Face's MLflowCallback uses).
"""

from __future__ import annotations

from gitrun.integrations.pyfunc.flavor import _load_pyfunc, load_model, log_model, save_model
from gitrun.integrations.pyfunc.model import PyFuncModel, PythonModel, PythonModelContext

FLAVOR_NAME = "python_function"

__all__ = [
    "FLAVOR_NAME",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "_load_pyfunc",
    "load_model",
    "log_model",
    "save_model",
]
