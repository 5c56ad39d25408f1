"""statsmodels autologging: ``fit`` of every model class.

What MLflow's ``mlflow.statsmodels.autolog`` logs, read from its source (3.x):
the arguments of ``fit`` (defaults included) as params; the fitted results as the
model ``model``; the results' numeric statistics among :data:`METRICS` as metrics;
``results.summary()`` as ``model_summary.txt``.  Only the outermost ``fit`` logs
(statsmodels models fit other models inside their own ``fit``).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from types import ModuleType
from typing import Any

from gitrun.integrations.autolog import patching, training
from gitrun.integrations.autolog.gate import logging_call
from gitrun.integrations.autolog.imports import when_imported
from gitrun.integrations.autolog.session import AutologConfig, safely

FLAVOR = "statsmodels"
METRICS = (
    "aic",
    "bic",
    "centered_tss",
    "condition_number",
    "df_model",
    "df_resid",
    "ess",
    "f_pvalue",
    "fvalue",
    "llf",
    "mse_model",
    "mse_resid",
    "mse_total",
    "rsquared",
    "rsquared_adj",
    "scale",
    "ssr",
    "uncentered_tss",
)
"""The statistics MLflow logs (its ``_autolog_metric_allowlist``), when a result has them."""


def autolog(
    log_models: bool = True,
    log_datasets: bool = False,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Turn statsmodels autologging on (or off with ``disable=True``); see the module docstring."""
    config = AutologConfig(
        FLAVOR,
        disable=disable,
        log_models=log_models,
        exclusive=exclusive,
        silent=silent,
        extra_tags=dict(extra_tags or {}),
        options={"registered_model_name": registered_model_name},
    )
    if patching.configure(config):
        when_imported("statsmodels.base.model", _install)


def _install(module: ModuleType) -> None:
    if patching.active(FLAVOR) is not None:
        patching.patch_class_tree(FLAVOR, module.Model, ("fit",), _wrap)


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        with logging_call(FLAVOR) as call:
            if call is None:
                return original(self, *args, **kwargs)
            config, run_id = call
            safely(config, training.log_params, run_id, training.call_params(original, args, kwargs))
            results = original(self, *args, **kwargs)
            safely(config, _log_results, config, run_id, results)
            return results

    return fit


def result_metrics(results: Any) -> dict[str, float]:
    """The statistics of :data:`METRICS` that ``results`` has and that are single numbers."""
    out: dict[str, float] = {}
    for name in METRICS:
        try:
            value = getattr(results, name, None)
        except Exception:  # noqa: BLE001, S112 - a statistic that cannot be computed is left out
            continue
        if isinstance(value, numbers.Number) and not isinstance(value, bool):
            out[name] = float(value)  # type: ignore[arg-type]  # a real number
    return out


def _log_results(config: AutologConfig, run_id: str, results: Any) -> None:
    from gitrun.integrations.statsmodels.flavor import log_model

    if config.log_models:
        safely(
            config,
            log_model,
            results,
            "model",
            registered_model_name=config.options["registered_model_name"],
            run_id=run_id,
        )
    if hasattr(results, "summary"):
        recorder = training.SeriesRecorder()
        recorder.add(result_metrics(results))
        recorder.log(run_id)
        training.client().log_text(run_id, results.summary().as_text(), "model_summary.txt")
