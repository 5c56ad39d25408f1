"""PyTorch models and autologging (MLflow's ``mlflow.pytorch``).

``log_model(model, "model")``, ``save_model``, ``load_model`` (whole modules via
``torch.save``) and ``autolog()`` (Lightning fully; plain loops: optimizer
hyperparameters and the final model).  torch is imported only when needed.
"""

from __future__ import annotations

from gitrun.integrations.pytorch.autolog import autolog
from gitrun.integrations.pytorch.flavor import FLAVOR as FLAVOR_NAME
from gitrun.integrations.pytorch.flavor import _load_pyfunc, load_model, log_model, save_model

__all__ = ["FLAVOR_NAME", "_load_pyfunc", "autolog", "load_model", "log_model", "save_model"]
