"""Models from code (MLflow's ``python_model="model.py"`` with ``set_model``).

Instead of pickling a model object, ``log_model(python_model="model.py")`` stores
the file itself (``python_model.py`` in the model's folder, its digest in the
descriptor).  Loading verifies the file, runs it, and takes the model the file
passed to ``gitrun.models.set_model(...)`` (``mlflow.models.set_model`` under
``import gitrun as mlflow``): a ``PythonModel`` or a plain function of the input.
"""

from __future__ import annotations

import runpy
import threading
from pathlib import Path
from typing import Any

from gitrun.errors import InvalidParameterValue

CODE_FILE = "python_model.py"
_holder = threading.local()


def set_model(model: Any) -> None:
    """Called by a models-from-code file: the model it defines."""
    if model is None:
        raise InvalidParameterValue("set_model needs a model (a PythonModel or a function)")
    _holder.model = model


def run_file(path: Path) -> Any:
    """Run a models-from-code file; the model it set."""
    _holder.model = None
    runpy.run_path(str(path), run_name="__gitrun_model__")
    model = getattr(_holder, "model", None)
    _holder.model = None
    if model is None:
        raise InvalidParameterValue(f"{path} did not call gitrun.models.set_model(model)")
    return model


class FunctionModel:
    """A plain function used as a model: ``predict(data)`` calls it."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        return self.fn(model_input)

    def load_context(self, context: Any) -> None:
        """Nothing to load."""
