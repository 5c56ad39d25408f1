"""What the autologging of boosting and statistics libraries shares.

MLflow logs a training function's arguments as params (with their defaults), the
per-round evaluation results as ``<data>-<metric>`` series, and feature importances
as JSON (and PNG): the helpers here do each of those once for every library.
Everything goes through the public tracking API (:class:`~gitrun.tracking.client.Client`).
"""

from __future__ import annotations

import importlib.util
import inspect
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from gitrun.integrations.autolog.values import as_param


def client() -> Any:
    """The tracking client of the current tracking URI (a public, cached store underneath)."""
    from gitrun.tracking.client import Client

    return Client()


def call_params(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any], unlogged: Iterable[str] = ()
) -> dict[str, Any]:
    """Every argument of a call, by name, defaults included (MLflow's rule), minus ``unlogged``.

    ``self`` and ``*args``/``**kwargs`` catch-alls are left out (MLflow logs the
    catch-alls' missing default as a literal ``<class 'inspect._empty'>``; gitrun
    logs the keyword arguments they received instead).
    """
    skip = {"self", *unlogged}
    params: dict[str, Any] = {}
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return {k: v for k, v in kwargs.items() if k not in skip}
    positional = [p for p in parameters if p.name != "self"]
    for parameter, value in zip(positional, args):
        if parameter.kind is not inspect.Parameter.VAR_POSITIONAL:
            params[parameter.name] = value
    for parameter in positional[len(args) :]:
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            continue
        params[parameter.name] = kwargs.get(parameter.name, parameter.default)
    params.update(kwargs)
    return {k: v for k, v in params.items() if k not in skip}


def log_params(run_id: str, params: Mapping[str, Any]) -> None:
    """Log params (``str()``-ed, cut to the length limit) in one batch."""
    from gitrun.tracking import entities as ent

    if params:
        client().log_batch(run_id, params=[ent.Param(str(k), as_param(v)) for k, v in params.items()])


class SeriesRecorder:
    """Per-round metrics, kept in memory during training and logged in one batch after.

    A boosting round takes microseconds; one batch at the end costs one call instead
    of one per round and key (each point keeps the time its round ended).
    """

    def __init__(self) -> None:
        self.rounds: list[dict[str, float]] = []
        self._points: list[tuple[str, float, int, int]] = []

    def record(self, values: Mapping[str, float], step: int) -> None:
        now = int(time.time() * 1000)
        clean = {str(k): float(v) for k, v in values.items()}
        self.rounds.append(clean)
        self._points += [(k, v, step, now) for k, v in clean.items()]

    def add(self, values: Mapping[str, float], step: int = 0) -> None:
        """Points logged after training (``best_iteration``, ...), not counted as rounds."""
        now = int(time.time() * 1000)
        self._points += [(str(k), float(v), step, now) for k, v in values.items()]

    def log(self, run_id: str) -> None:
        from gitrun.tracking import entities as ent

        if self._points:
            metrics = [ent.Metric(k, v, ts, step) for k, v, step, ts in self._points]
            client().log_batch(run_id, metrics=metrics)
            self._points = []


def log_importance(run_id: str, importance_type: str, importance: Mapping[str, float]) -> None:
    """``feature_importance_<type>.json`` and, when matplotlib is installed, ``.png``."""
    values = {str(k): float(v) for k, v in importance.items()}
    client().log_dict(run_id, values, f"feature_importance_{importance_type}.json")
    if values and importlib.util.find_spec("matplotlib") is not None:
        client().log_figure(
            run_id, _importance_figure(values, importance_type), f"feature_importance_{importance_type}.png"
        )


def _importance_figure(values: Mapping[str, float], importance_type: str) -> Any:
    # A bare Figure (no pyplot): no GUI backend, no global figure registry to clean up.
    from matplotlib.figure import Figure

    ordered = sorted(values.items(), key=lambda item: item[1])
    height = 4.8 + (0.1 * len(ordered) if len(ordered) > 10 else 0)
    figure = Figure(figsize=(6.4, height))
    axes = figure.subplots()
    axes.barh(range(len(ordered)), [v for _, v in ordered], align="center", height=0.5)
    axes.set_yticks(range(len(ordered)))
    axes.set_yticklabels([k for k, _ in ordered])
    axes.set_xlabel("Importance")
    axes.set_title(f"Feature Importance ({importance_type})")
    figure.tight_layout()
    return figure


def estimator_signature(model: Any, X: Any, enabled: bool) -> Any:
    """The signature of a fitted estimator from the first rows of its training data
    (``False``, no signature, when turned off or there is no data)."""
    from gitrun.integrations.models.signature import ModelSignature, infer_schema

    if X is None or not enabled:
        return False
    head = X.iloc[:5] if hasattr(X, "iloc") else X[:5]
    return ModelSignature(infer_schema(head), infer_schema(model.predict(head)))


def fit_logging_model(
    flavor: str, guard: str, log_model: Callable[[Any, str, Any, Any], None]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A wrapper for an estimator's ``fit`` whose training function logs params and metrics
    (``xgboost.train``, ``lightgbm.train``): the ``fit`` logs the fitted estimator as the model.

    ``log_model(config, run_id, estimator, signature)``.  ``guard`` keeps the
    estimator's nesting counter apart from the training function's, so both log.
    """
    from gitrun.integrations.autolog.gate import logging_call
    from gitrun.integrations.autolog.session import safely

    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
            with logging_call(flavor, guard=guard) as call:
                if call is None:
                    return original(self, *args, **kwargs)
                config, run_id = call
                result = original(self, *args, **kwargs)
                if config.log_models:
                    X = args[0] if args else kwargs.get("X")
                    signature = safely(
                        config, estimator_signature, self, X, config.options["log_model_signatures"]
                    )
                    safely(config, log_model, config, run_id, self, False if signature is None else signature)
                return result

        return fit

    return wrap


AddCallback = Callable[
    [tuple[Any, ...], dict[str, Any], SeriesRecorder], tuple[tuple[Any, ...], dict[str, Any]]
]


def train_logging(
    flavor: str, unlogged: Iterable[str], add_callback: AddCallback, after: Callable[..., None]
) -> Callable[[bool], Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """Wrappers for a boosting library's ``train(params, data, ...)``.

    Before training: the ``params`` dict and the call's other arguments as params.
    During: a callback (added by ``add_callback``) records each round's evaluation.
    After: ``after(config, run_id, booster, recorder, args, kwargs, log_models)``
    logs the series, importances and model.  ``log_models`` is False for the copy
    patched where the scikit-learn API calls ``train``: the estimator's ``fit``
    logs the estimator instead of the bare booster.
    """
    from gitrun.integrations.autolog.gate import logging_call
    from gitrun.integrations.autolog.session import safely

    skipped = tuple(unlogged)

    def for_models(log_models: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
            def train(*args: Any, **kwargs: Any) -> Any:
                with logging_call(flavor) as call:
                    if call is None:
                        return original(*args, **kwargs)
                    config, run_id = call
                    params = args[0] if args else kwargs.get("params", {})
                    safely(config, log_params, run_id, dict(params or {}))
                    safely(config, log_params, run_id, call_params(original, args, kwargs, skipped))
                    recorder = SeriesRecorder()
                    args, kwargs = add_callback(args, kwargs, recorder)
                    booster = original(*args, **kwargs)
                    safely(config, after, config, run_id, booster, recorder, args, kwargs, log_models)
                    return booster

            return train

        return wrap

    return for_models


def install_booster_patches(
    flavor: str,
    module: Any,
    sklearn_module: Any,
    estimator_base: type,
    unlogged: Iterable[str],
    add_callback: AddCallback,
    after: Callable[..., None],
    log_model: Callable[[Any, str, Any, Any], None],
) -> None:
    """XGBoost's and LightGBM's patches: ``<library>.train`` (logs the booster), the copy
    of ``train`` its scikit-learn API calls (the estimator's ``fit`` logs the model), and
    ``fit`` of every estimator class."""
    from gitrun.integrations.autolog import patching

    train = train_logging(flavor, unlogged, add_callback, after)
    patching.patch(flavor, module, "train", train(True))
    patching.patch(flavor, sklearn_module, "train", train(False))
    fit = fit_logging_model(flavor, f"{flavor}.sklearn", log_model)
    patching.patch_class_tree(flavor, estimator_base, ("fit",), fit)
