"""Keras 3 autologging: ``keras.Model.fit`` gets a :class:`GitrunCallback` (any backend).

Per outermost ``fit`` (MLflow's choices, §13.3 of the reference):

* params: every ``fit`` argument, given or default, except the data and
  callbacks (``x``, ``y``, ``callbacks``, ``validation_data``, ``verbose``,
  ``sample_weight``); ``optimizer_name`` and ``optimizer_<key>`` from the optimizer's
  config; EarlyStopping's settings;
* metrics: Keras' epoch ``logs`` with step = epoch; ``stopped_epoch`` and
  ``restored_epoch`` when EarlyStopping stopped training;
* the model as ``model`` (``.keras`` format) with the input signature of ``x``.

TensorFlow's ``tf.keras`` in TF >= 2.16 is Keras 3, so ``gitrun.tensorflow.autolog()``
is this same integration.  Nothing is imported until the user imports keras.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

from gitrun.integrations.autolog import patching
from gitrun.integrations.autolog.gate import logging_call
from gitrun.integrations.autolog.imports import when_imported
from gitrun.integrations.autolog.session import AutologConfig, safely
from gitrun.integrations.models.loading import warn_ignored

FLAVOR = "keras"
_UNLOGGED = frozenset({"self", "x", "y", "callbacks", "validation_data", "verbose", "sample_weight"})
_EARLY_STOPPING = ("monitor", "min_delta", "patience", "baseline", "restore_best_weights")


def autolog(
    log_every_epoch: bool = True,
    log_every_n_steps: int | None = None,
    log_models: bool = True,
    log_datasets: bool = False,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: dict[str, str] | None = None,
    checkpoint: bool = False,
    log_model_signatures: bool = True,
) -> None:
    """Turn Keras autologging on (or off with ``disable=True``).

    ``log_datasets`` and ``checkpoint`` are accepted for MLflow compatibility and
    not implemented.
    """
    warn_ignored("registered_model_name", registered_model_name)
    config = AutologConfig(
        FLAVOR,
        disable=disable,
        log_models=log_models,
        exclusive=exclusive,
        silent=silent,
        extra_tags=dict(extra_tags or {}),
        options={
            "log_every_epoch": log_every_epoch,
            "log_every_n_steps": log_every_n_steps,
            "log_model_signatures": log_model_signatures,
        },
    )
    if not patching.configure(config):
        return
    when_imported("keras", _install)


def _install(keras: ModuleType) -> None:
    patching.patch(FLAVOR, keras.Model, "fit", _wrap)


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(original)

    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        with logging_call(FLAVOR) as call:
            if call is None:
                return original(self, *args, **kwargs)
            config, run_id = call
            bound = safely(config, _bind, signature, self, args, kwargs)
            if bound is None:  # arguments fit will refuse: let it say so
                return original(self, *args, **kwargs)
            safely(config, _log_fit_params, run_id, bound)
            callback = safely(config, _callback, config, run_id)
            if callback is not None:
                bound.arguments["callbacks"] = [*list(bound.arguments.get("callbacks") or []), callback]
            history = original(*bound.args, **bound.kwargs)
            safely(config, _after_fit, config, run_id, self, bound)
            return history

    return fit


def _bind(signature: inspect.Signature, model: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    bound = signature.bind(model, *args, **kwargs)
    bound.apply_defaults()
    return bound


def _callback(config: AutologConfig, run_id: str) -> Any:
    from gitrun.integrations.keras.callback import GitrunCallback

    return GitrunCallback(
        log_every_epoch=config.options["log_every_epoch"],
        log_every_n_steps=config.options["log_every_n_steps"],
        run_id=run_id,
        config=config,
    )


def _log_fit_params(run_id: str, bound: Any) -> None:
    from gitrun.integrations.autolog.values import as_param
    from gitrun.tracking import fluent

    params = {k: as_param(v) for k, v in bound.arguments.items() if k not in _UNLOGGED and k != "kwargs"}
    if params.get("batch_size") == "None" and hasattr(bound.arguments.get("x"), "shape"):
        params["batch_size"] = "32"  # Keras' default for arrays
    for callback in bound.arguments.get("callbacks") or []:
        if type(callback).__name__ == "EarlyStopping":
            params.update({k: as_param(getattr(callback, k, None)) for k in _EARLY_STOPPING})
    fluent.log_params(params, run_id=run_id)


def _after_fit(config: AutologConfig, run_id: str, model: Any, bound: Any) -> None:
    from gitrun.tracking import fluent

    for callback in bound.arguments.get("callbacks") or []:
        stopped = getattr(callback, "stopped_epoch", 0)
        if type(callback).__name__ == "EarlyStopping" and stopped:
            metrics = {"stopped_epoch": float(stopped)}
            if getattr(callback, "restore_best_weights", False):
                metrics["restored_epoch"] = float(max(stopped - int(callback.patience), 0))
            fluent.log_metrics(metrics, run_id=run_id)
    if config.log_models:
        from gitrun.integrations.keras.flavor import log_model
        from gitrun.integrations.models.signature import ModelSignature, infer_schema

        x = bound.arguments.get("x")
        signature: Any = False
        if config.options["log_model_signatures"] and hasattr(x, "shape") and hasattr(x, "dtype"):
            signature = ModelSignature(infer_schema(x))
        log_model(model, "model", signature=signature, run_id=run_id)
