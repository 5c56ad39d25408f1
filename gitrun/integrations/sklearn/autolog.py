"""scikit-learn autologging: ``fit`` of every estimator logs params, metrics and the model.

Every subclass of ``sklearn.base.BaseEstimator`` that defines ``fit``,
``fit_transform`` or ``fit_predict`` gets a logging wrapper: those already
defined when autolog is turned on, and (through ``__init_subclass__``) every one
defined later, which covers estimators of xgboost, lightgbm and the user's own.
Nothing is imported to do this: when scikit-learn is not imported yet, the
patch waits for ``sklearn.base`` to be imported.

Per outermost ``fit`` (see :mod:`gitrun.integrations.autolog.session` for runs
and safety): params from ``get_params(deep=True)``; tags ``estimator_name`` and
``estimator_class``; training metrics (:mod:`.metrics`); the fitted model as
``model`` (pickle, signature from the training data); searches as in :mod:`.search`.
Kept cheap on purpose: no HTML rendering, confusion-matrix image or dataset hashing.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from gitrun.integrations.autolog import patching
from gitrun.integrations.autolog.gate import logging_call
from gitrun.integrations.autolog.imports import when_imported
from gitrun.integrations.autolog.session import AutologConfig, safely

FLAVOR = "sklearn"
_METHODS = ("fit", "fit_transform", "fit_predict")
# Data preparation steps, as in MLflow: scikit-learn's own functions fit them
# internally (f1_score fits a LabelEncoder), which must not log runs.  Inside a
# pipeline they are logged as part of it.
_NOT_PATCHED = (
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.feature_extraction",
    "sklearn.feature_selection",
    "sklearn.compose",
)
_OWN_INTEGRATION = ("xgboost", "lightgbm")


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = False,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    max_tuning_runs: int | None = 5,
    log_post_training_metrics: bool = False,
    serialization_format: str = "pickle",
    pos_label: Any = None,
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Turn scikit-learn autologging on (or off with ``disable=True``).

    ``log_datasets`` and ``log_post_training_metrics`` are accepted for MLflow
    compatibility and not implemented; ``pos_label`` is not used (metrics are
    weighted averages).
    """
    config = AutologConfig(
        FLAVOR,
        disable=disable,
        log_models=log_models,
        exclusive=exclusive,
        silent=silent,
        extra_tags=dict(extra_tags or {}),
        options={
            "log_input_examples": log_input_examples,
            "log_model_signatures": log_model_signatures,
            "max_tuning_runs": max_tuning_runs,
            "serialization_format": serialization_format,
        },
    )
    if not patching.configure(config):
        return
    when_imported("sklearn.base", _install)


def _install(module: ModuleType) -> None:
    if patching.active(FLAVOR) is not None:
        patching.patch_class_tree(FLAVOR, module.BaseEstimator, _METHODS, _wrap, _not_patched)


def _not_patched(cls: type) -> bool:
    return cls.__module__.startswith(_NOT_PATCHED)


def _deferred(estimator: Any) -> bool:
    """xgboost and lightgbm estimators log through their own integration when it is on
    (as in MLflow, whose scikit-learn autolog leaves them to it)."""
    library = type(estimator).__module__.partition(".")[0]
    return library in _OWN_INTEGRATION and patching.active(library) is not None


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _deferred(self):
            return original(self, *args, **kwargs)
        with logging_call(FLAVOR, process_wide=True) as call:
            if call is None:
                return original(self, *args, **kwargs)
            config, run_id = call
            safely(config, _log_params, run_id, self)
            result = original(self, *args, **kwargs)
            safely(config, _log_fitted, config, run_id, self, args, kwargs)
            return result

    return fit


def _log_params(run_id: str, estimator: Any) -> None:
    from gitrun.integrations.sklearn import search
    from gitrun.integrations.sklearn.params import estimator_params, estimator_tags
    from gitrun.tracking import entities as ent
    from gitrun.tracking.client import Client

    # A search logs its own params only (MLflow: get_params(deep=False)); its candidates'
    # params go to the child runs.
    deep = not search.is_search_estimator(estimator)
    params = [ent.Param(k, v) for k, v in estimator_params(estimator, deep=deep).items()]
    tags = [ent.RunTag(k, v) for k, v in estimator_tags(estimator).items()]
    Client().log_batch(run_id, params=params, tags=tags)


def _fit_data(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any, Any]:
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    return X, y, kwargs.get("sample_weight", args[2] if len(args) > 2 else None)


def _log_fitted(
    config: AutologConfig, run_id: str, estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    from gitrun.integrations.sklearn import search
    from gitrun.integrations.sklearn.metrics import training_metrics
    from gitrun.tracking import fluent

    X, y, weight = _fit_data(args, kwargs)
    computed = safely(config, training_metrics, estimator, X, y, weight) if X is not None else None
    metrics, predicted = computed if computed is not None else ({}, None)
    if metrics:
        safely(config, fluent.log_metrics, metrics, step=0, run_id=run_id)
    if search.is_search(estimator):
        safely(config, search.log_search, run_id, estimator, config.options["max_tuning_runs"])
        if not hasattr(estimator, "best_estimator_"):
            return  # refit=False: the search cannot predict, there is no model to log
    if config.log_models and X is not None:
        safely(config, _log_model, config, run_id, estimator, X, predicted)


def _log_model(config: AutologConfig, run_id: str, estimator: Any, X: Any, predicted: Any) -> None:
    from gitrun.integrations.models.signature import ModelSignature, infer_schema
    from gitrun.integrations.sklearn.flavor import log_model

    signature: Any = False
    if config.options["log_model_signatures"]:
        outputs = infer_schema(predicted) if predicted is not None else None
        signature = ModelSignature(infer_schema(X), outputs)
    example = _head(X) if config.options["log_input_examples"] else None
    log_model(
        estimator,
        "model",
        signature=signature,
        input_example=example,
        serialization_format=config.options["serialization_format"],
        run_id=run_id,
    )


def _head(X: Any, rows: int = 5) -> Any:
    if hasattr(X, "iloc"):
        return X.iloc[:rows]
    try:
        return X[:rows]
    except Exception:  # noqa: BLE001 - an input that cannot be sliced gets no example
        return None
