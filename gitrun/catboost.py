"""catboost models (MLflow's ``mlflow.catboost``): ``log_model``, ``save_model``, ``load_model``.

catboost itself is imported only when a function needs it; see docs/models.md.
"""

from __future__ import annotations

from gitrun.integrations.catboost.flavor import FLAVOR as FLAVOR_NAME
from gitrun.integrations.catboost.flavor import _load_pyfunc, load_model, log_model, save_model

__all__ = ["FLAVOR_NAME", "_load_pyfunc", "load_model", "log_model", "save_model"]
