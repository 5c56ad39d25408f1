"""``gitrun.autolog()``: every integration whose library is installed.

Installed is checked with ``importlib.util.find_spec`` (reads the file system,
imports nothing); each integration then waits for its library to be imported by
the user's code before patching it (see :mod:`.imports`).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

# (import name that says the library is installed, gitrun module with its autolog)
INTEGRATIONS = (
    ("sklearn", "gitrun.integrations.sklearn.autolog"),
    ("xgboost", "gitrun.integrations.xgboost.autolog"),
    ("lightgbm", "gitrun.integrations.lightgbm.autolog"),
    ("statsmodels", "gitrun.integrations.statsmodels.autolog"),
    ("torch", "gitrun.integrations.pytorch.autolog"),
    ("keras", "gitrun.integrations.keras.autolog"),
    ("transformers", "gitrun.integrations.transformers.autolog"),
)


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = False,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    extra_tags: dict[str, str] | None = None,
) -> list[str]:
    """Enable (or ``disable``) autologging of every installed integration; returns their names.

    scikit-learn, XGBoost, LightGBM, statsmodels, PyTorch (Lightning; plain loops
    in part), Keras 3 / tf.keras, Hugging Face Transformers.
    """
    common: dict[str, Any] = {
        "log_models": log_models,
        "disable": disable,
        "exclusive": exclusive,
        "silent": silent,
        "extra_tags": extra_tags,
    }
    enabled = []
    for library, module_name in INTEGRATIONS:
        if importlib.util.find_spec(library) is None:
            continue
        module = importlib.import_module(module_name)
        options = dict(common)
        if library in ("sklearn", "xgboost", "lightgbm"):
            options.update(log_input_examples=log_input_examples, log_model_signatures=log_model_signatures)
        elif library == "keras":
            options["log_model_signatures"] = log_model_signatures
        module.autolog(**options)
        enabled.append(module.FLAVOR)
    return enabled
