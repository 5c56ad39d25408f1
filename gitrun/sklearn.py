"""scikit-learn models and autologging (MLflow's ``mlflow.sklearn``).

``log_model(model, "model")``, ``save_model(model, path)``, ``load_model(uri)``
and ``autolog()``; see docs/user-guide.md, "Models and autologging".
scikit-learn itself is imported only when a function needs it.
"""

from __future__ import annotations

from gitrun.integrations.sklearn.autolog import autolog
from gitrun.integrations.sklearn.flavor import FLAVOR as FLAVOR_NAME
from gitrun.integrations.sklearn.flavor import _load_pyfunc, load_model, log_model, save_model

__all__ = ["FLAVOR_NAME", "_load_pyfunc", "autolog", "load_model", "log_model", "save_model"]
