"""LightGBM autologging: ``lightgbm.train`` and the scikit-learn API's ``fit``.

What MLflow's ``mlflow.lightgbm.autolog`` logs, read from its source (3.x):

* params: the booster ``params`` dict, then every other argument of ``train``
  with its default (``num_boost_round``, ``keep_training_booster``), except the
  data sets, names, callbacks and objects;
* metrics: ``<valid name>-<metric>`` at every round (``valid_0-multi_logloss``,
  ``training-l2``), step = round index; when the booster has a best iteration
  (early stopping) also ``stopped_iteration``, ``best_iteration`` and that
  round's values at step ``rounds``;
* artifacts: ``feature_importance_split.json``/``.png`` and
  ``feature_importance_gain.json``/``.png``; the model as ``model`` (a Booster
  for ``train``, the estimator for ``fit``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from gitrun.integrations.autolog import patching, training
from gitrun.integrations.autolog.imports import when_imported
from gitrun.integrations.autolog.session import AutologConfig, safely

FLAVOR = "lightgbm"
_CALLBACKS_POSITION = 8  # of lightgbm.train(params, train_set, num_boost_round, ...)
_UNLOGGED = (
    "params",
    "train_set",
    "valid_sets",
    "valid_names",
    "fobj",
    "feval",
    "init_model",
    "learning_rates",
    "callbacks",
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
    registered_model_name: str | None = None,
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Turn LightGBM autologging on (or off with ``disable=True``); see the module docstring."""
    config = AutologConfig(
        FLAVOR,
        disable=disable,
        log_models=log_models,
        exclusive=exclusive,
        silent=silent,
        extra_tags=dict(extra_tags or {}),
        options={
            "log_model_signatures": log_model_signatures,
            "log_input_examples": log_input_examples,
            "registered_model_name": registered_model_name,
        },
    )
    if patching.configure(config):
        when_imported("lightgbm", _install)


def _install(module: ModuleType) -> None:
    import lightgbm.sklearn

    if patching.active(FLAVOR) is None:
        return
    training.install_booster_patches(
        FLAVOR,
        module,
        lightgbm.sklearn,
        lightgbm.sklearn.LGBMModel,
        _UNLOGGED,
        _add_callback,
        _log_trained,
        _log_model,
    )


def _add_callback(
    args: tuple[Any, ...], kwargs: dict[str, Any], recorder: training.SeriesRecorder
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if len(args) > _CALLBACKS_POSITION:  # callbacks given positionally: extend that list
        callbacks = [*(args[_CALLBACKS_POSITION] or []), _callback(recorder)]
        return (*args[:_CALLBACKS_POSITION], callbacks, *args[_CALLBACKS_POSITION + 1 :]), kwargs
    kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), _callback(recorder)]
    return args, kwargs


def _callback(recorder: training.SeriesRecorder) -> Callable[[Any], None]:
    def record(env: Any) -> None:
        values = {f"{item[0]}-{item[1]}": item[2] for item in env.evaluation_result_list}
        recorder.record(values, env.iteration)

    return record


def _log_trained(
    config: AutologConfig,
    run_id: str,
    booster: Any,
    recorder: training.SeriesRecorder,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    log_models: bool,
) -> None:
    best = int(getattr(booster, "best_iteration", 0) or 0)
    if best > 0 and recorder.rounds:
        extra = len(recorder.rounds)
        recorder.add({"stopped_iteration": extra, "best_iteration": best})
        recorder.add(recorder.rounds[best - 1], step=extra)  # LightGBM counts rounds from 1
    recorder.log(run_id)
    features = booster.feature_name()
    for importance_type in ("split", "gain"):
        values = booster.feature_importance(importance_type=importance_type).tolist()
        safely(config, training.log_importance, run_id, importance_type, dict(zip(features, values)))
    if log_models and config.log_models:
        _log_model(config, run_id, booster, _features_signature(features, config))


def _features_signature(features: list[str], config: AutologConfig) -> Any:
    from gitrun.integrations.models.signature import ColSpec, ModelSignature, Schema

    if not config.options["log_model_signatures"] or not features:
        return False
    return ModelSignature(Schema(tuple(ColSpec("double", name) for name in features)))


def _log_model(config: AutologConfig, run_id: str, model: Any, signature: Any) -> None:
    from gitrun.integrations.lightgbm.flavor import log_model

    log_model(
        model,
        "model",
        signature=signature,
        registered_model_name=config.options["registered_model_name"],
        run_id=run_id,
    )
