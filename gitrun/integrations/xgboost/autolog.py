"""XGBoost autologging: ``xgboost.train`` and the scikit-learn API's ``fit``.

What MLflow's ``mlflow.xgboost.autolog`` logs, read from its source (3.x):

* params: the booster ``params`` dict, then every other argument of ``train``
  with its default (``num_boost_round``, ``early_stopping_rounds``, ``maximize``,
  ``verbose_eval``, ``custom_metric``), except the data, callbacks and objects;
* metrics: ``<eval name>-<metric>`` at every round (``train-rmse``,
  ``validation_0-logloss``), step = round; with early stopping also
  ``stopped_iteration``, ``best_iteration`` and the best round's values at step
  ``rounds``;
* artifacts: ``feature_importance_<type>.json`` and ``.png`` per importance type
  (default ``weight``); the model as ``model`` in XGBoost's own format (the
  estimator's class for ``fit``, a ``Booster`` for ``train``).

``fit`` of an estimator calls ``xgboost.sklearn.train``: both log into the same
run (the estimator's ``fit`` starts a managed run when none is active).
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

from gitrun.integrations.autolog import patching, training
from gitrun.integrations.autolog.imports import when_imported
from gitrun.integrations.autolog.session import AutologConfig, safely

FLAVOR = "xgboost"
_UNLOGGED = (
    "params",
    "dtrain",
    "evals",
    "obj",
    "feval",
    "evals_result",
    "xgb_model",
    "callbacks",
    "learning_rates",
)


def autolog(
    importance_types: Sequence[str] | None = None,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = False,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    model_format: str = "ubj",
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Turn XGBoost autologging on (or off with ``disable=True``); see the module docstring."""
    config = AutologConfig(
        FLAVOR,
        disable=disable,
        log_models=log_models,
        exclusive=exclusive,
        silent=silent,
        extra_tags=dict(extra_tags or {}),
        options={
            "importance_types": list(importance_types or ["weight"]),
            "log_model_signatures": log_model_signatures,
            "log_input_examples": log_input_examples,
            "log_datasets": log_datasets,
            "model_format": model_format,
            "registered_model_name": registered_model_name,
        },
    )
    if patching.configure(config):
        when_imported("xgboost", _install)


def _install(module: ModuleType) -> None:
    import xgboost.sklearn

    if patching.active(FLAVOR) is None:
        return
    training.install_booster_patches(
        FLAVOR,
        module,
        xgboost.sklearn,
        xgboost.sklearn.XGBModel,
        _UNLOGGED,
        _add_callback,
        _log_trained,
        _log_model,
    )


def _add_callback(
    args: tuple[Any, ...], kwargs: dict[str, Any], recorder: training.SeriesRecorder
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    # Every argument of xgboost.train after the third is keyword-only.
    kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), _callback(recorder)]
    return args, kwargs


def _callback(recorder: training.SeriesRecorder) -> Any:
    import xgboost

    class _Record(xgboost.callback.TrainingCallback):
        def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, Any]) -> bool:
            values = {}
            for data_name, metrics in evals_log.items():
                for metric_name, history in metrics.items():
                    last = history[-1]
                    values[f"{data_name}-{metric_name}"] = last[0] if isinstance(last, tuple) else last
            recorder.record(values, epoch)
            return False

    return _Record()


def _log_trained(
    config: AutologConfig,
    run_id: str,
    booster: Any,
    recorder: training.SeriesRecorder,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    log_models: bool,
) -> None:
    if kwargs.get("early_stopping_rounds") and recorder.rounds:
        extra = len(recorder.rounds)
        best = int(booster.best_iteration)
        recorder.add({"stopped_iteration": extra - 1, "best_iteration": best})
        recorder.add(recorder.rounds[best], step=extra)
    recorder.log(run_id)
    for importance_type in config.options["importance_types"]:
        safely(config, _log_importance, run_id, booster, importance_type)
    if log_models and config.log_models:
        dtrain = args[1] if len(args) > 1 else kwargs.get("dtrain")
        _log_model(config, run_id, booster, _dmatrix_signature(dtrain, config))


def _log_importance(run_id: str, booster: Any, importance_type: str) -> None:
    training.log_importance(run_id, importance_type, booster.get_score(importance_type=importance_type))


def _dmatrix_signature(dtrain: Any, config: AutologConfig) -> Any:
    """The input schema a DMatrix declares (column names and types), without reading its data."""
    from gitrun.integrations.models.signature import ColSpec, ModelSignature, Schema, TensorSpec

    if dtrain is None or not config.options["log_model_signatures"]:
        return False
    names, types = dtrain.feature_names, dtrain.feature_types
    if names:
        kinds = {"int": "long", "i": "long", "float": "float", "q": "double", "c": "string"}
        specs = tuple(
            ColSpec(kinds.get(t or "float", "double"), n) for n, t in zip(names, types or [None] * len(names))
        )
        return ModelSignature(Schema(specs))
    return ModelSignature(Schema((TensorSpec("float32", (-1, int(dtrain.num_col()))),)))


def _log_model(config: AutologConfig, run_id: str, model: Any, signature: Any) -> None:
    from gitrun.integrations.xgboost.flavor import log_model

    log_model(
        model,
        "model",
        signature=signature,
        model_format=config.options["model_format"],
        registered_model_name=config.options["registered_model_name"],
        run_id=run_id,
    )
