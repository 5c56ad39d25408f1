"""XGBoost models and autologging (MLflow's ``mlflow.xgboost``).

``log_model(model, "model")``, ``save_model``, ``load_model`` (Boosters and the
scikit-learn API's estimators, in XGBoost's own format) and ``autolog()`` (params,
per-round evaluation metrics, feature importances, the model).  xgboost itself is
imported only when a function needs it; see docs/models.md.
"""

from __future__ import annotations

from gitrun.integrations.xgboost.autolog import autolog
from gitrun.integrations.xgboost.flavor import FLAVOR as FLAVOR_NAME
from gitrun.integrations.xgboost.flavor import _load_pyfunc, load_model, log_model, save_model

__all__ = ["FLAVOR_NAME", "_load_pyfunc", "autolog", "load_model", "log_model", "save_model"]
