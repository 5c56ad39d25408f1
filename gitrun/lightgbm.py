"""LightGBM models and autologging (MLflow's ``mlflow.lightgbm``).

``log_model``, ``save_model``, ``load_model`` (Boosters in LightGBM's text format,
estimators pickled and verified) and ``autolog()``.  lightgbm itself is imported
only when a function needs it; see docs/models.md.
"""

from __future__ import annotations

from gitrun.integrations.lightgbm.autolog import autolog
from gitrun.integrations.lightgbm.flavor import FLAVOR as FLAVOR_NAME
from gitrun.integrations.lightgbm.flavor import _load_pyfunc, load_model, log_model, save_model

__all__ = ["FLAVOR_NAME", "_load_pyfunc", "autolog", "load_model", "log_model", "save_model"]
