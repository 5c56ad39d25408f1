"""statsmodels models and autologging (MLflow's ``mlflow.statsmodels``).

``log_model(results, "model")``, ``save_model``, ``load_model`` and ``autolog()``;
statsmodels is imported only when a function needs it.  See docs/models.md.
"""

from __future__ import annotations

from gitrun.integrations.statsmodels.autolog import autolog
from gitrun.integrations.statsmodels.flavor import FLAVOR as FLAVOR_NAME
from gitrun.integrations.statsmodels.flavor import _load_pyfunc, load_model, log_model, save_model

__all__ = ["FLAVOR_NAME", "_load_pyfunc", "autolog", "load_model", "log_model", "save_model"]
