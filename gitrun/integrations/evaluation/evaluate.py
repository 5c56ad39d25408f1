"""``gitrun.evaluate`` / ``gitrun.models.evaluate``: MLflow's default evaluator for
classifiers and regressors.

The model predicts on the data once (and gives class scores once, when it has
``predict_proba``); the metrics (:mod:`.metrics`), the plots (:mod:`.plots`),
``per_class_metrics.csv`` and custom metrics (:mod:`.custom`) are computed from
those.  Everything is logged to ``run_id``, else the active run, else a new run
that is ended afterwards (MLflow's rule); the evaluation data is recorded as a
dataset input with context ``eval``.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitrun.errors import InvalidParameterValue
from gitrun.integrations.evaluation.custom import EvaluationMetric, MetricThreshold, check_thresholds

_MODEL_TYPES = ("classifier", "regressor")


@dataclass(frozen=True)
class EvaluationArtifact:
    """An artifact the evaluation logged: its ``runs:/`` URI and, for tables, its content."""

    uri: str
    content: Any = None


@dataclass(frozen=True)
class EvaluationResult:
    """What ``evaluate`` returns (MLflow's fields)."""

    metrics: dict[str, float]
    artifacts: dict[str, EvaluationArtifact]
    baseline_model_metrics: dict[str, float] | None = None
    run_id: str | None = None
    tables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Data:
    features: Any
    targets: Any
    predictions: Any
    frame: Any  # the DataFrame to record as the eval dataset (None for arrays)
    name: str | None


def evaluate(
    model: Any = None,
    data: Any = None,
    *,
    model_type: str | None = None,
    targets: Any = None,
    predictions: str | None = None,
    dataset_path: str | None = None,
    feature_names: Sequence[str] | None = None,
    evaluators: Any = None,
    evaluator_config: dict[str, Any] | None = None,
    extra_metrics: Sequence[EvaluationMetric] | None = None,
    custom_artifacts: Any = None,
    baseline_model: Any = None,
    validation_thresholds: dict[str, MetricThreshold] | None = None,
    inference_params: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    env_manager: str = "local",
    run_id: str | None = None,
) -> EvaluationResult:
    """Evaluate a classifier or regressor on ``data`` and log the results.

    Args:
        model: A fitted model with ``predict`` (an estimator, a ``PyFuncModel``), a
            model URI (``runs:/``, ``models:/``, a path), a function of the features,
            or None when ``predictions`` names a column of ``data`` holding them.
        data: A DataFrame (``targets`` names the label column), a features array
            (``targets`` is the label array), or a ``gitrun.data`` dataset.
        model_type: ``"classifier"`` or ``"regressor"``.
        evaluator_config: ``pos_label``, ``label_list``, ``metric_prefix``, ``log_plots``.
        extra_metrics: custom metrics from :func:`make_metric`.
        baseline_model: evaluated on the same data; its metrics are in
            ``baseline_model_metrics`` and ``validation_thresholds`` compare the two.

    Raises:
        InvalidParameterValue: an unknown model type, missing targets or predictions.
        ModelValidationFailedException: a ``validation_thresholds`` entry is not met.
    """
    if model_type not in _MODEL_TYPES:
        raise InvalidParameterValue(f"model_type must be one of {list(_MODEL_TYPES)}, got {model_type!r}")
    config = dict(evaluator_config or {})
    prepared = _prepare(data, targets, predictions, feature_names)
    scores_of = None
    if prepared.predictions is not None and model is None:
        predicted = prepared.predictions
    else:
        predict, scores_of = _predictor(model, inference_params)
        predicted = predict(prepared.features)
    scores = _safe_scores(scores_of, prepared.features) if model_type == "classifier" else None
    metrics, artifacts = _compute(model_type, prepared, predicted, scores, config, extra_metrics)
    baseline_metrics = None
    if baseline_model is not None:
        base_predict, base_scores_of = _predictor(baseline_model, inference_params)
        base_scores = _safe_scores(base_scores_of, prepared.features) if model_type == "classifier" else None
        baseline_metrics, _ = _compute(
            model_type, prepared, base_predict(prepared.features), base_scores, config, extra_metrics
        )
    if validation_thresholds:
        check_thresholds(validation_thresholds, metrics, baseline_metrics)
    prefix = str(config.get("metric_prefix") or "")
    metrics = {f"{prefix}{k}": v for k, v in metrics.items()}
    logged_run, uris = _log(run_id, metrics, artifacts, prepared, config)
    return EvaluationResult(
        metrics=metrics,
        artifacts={name: EvaluationArtifact(uris[name], content) for name, content in artifacts.items()},
        baseline_model_metrics=baseline_metrics,
        run_id=logged_run,
        tables={k: v for k, v in artifacts.items() if isinstance(v, list)},
    )


def _prepare(data: Any, targets: Any, predictions: str | None, feature_names: Sequence[str] | None) -> _Data:
    if data is None:
        raise InvalidParameterValue("evaluate needs data=")
    name = None
    if hasattr(data, "_to_mlflow_entity") and hasattr(data, "df"):  # a gitrun.data PandasDataset
        name = data.name
        targets = targets if targets is not None else data.targets
        predictions = predictions if predictions is not None else data.predictions
        data = data.df
    if hasattr(data, "columns"):
        if targets is None or targets not in data.columns:
            raise InvalidParameterValue(
                f"targets= must name a column of the data (columns: {list(data.columns)})"
            )
        drop = [c for c in (targets, predictions) if c is not None]
        features = data[list(feature_names)] if feature_names else data.drop(columns=drop)
        preds = data[predictions].to_numpy() if predictions is not None else None
        return _Data(features, data[targets].to_numpy(), preds, data, name)
    if targets is None:
        raise InvalidParameterValue("with an array as data, targets= must be the array of labels")
    import numpy as np

    return _Data(data, np.asarray(targets), None, None, name)


def _predictor(
    model: Any, params: dict[str, Any] | None
) -> tuple[Callable[[Any], Any], Callable[[Any], Any] | None]:
    """``(predict, predict_proba or None)`` for whatever ``model`` is."""
    import os

    if isinstance(model, (str, os.PathLike)):
        from gitrun.integrations.pyfunc.flavor import load_model

        model = load_model(model)
    if model is None:
        raise InvalidParameterValue("evaluate needs a model, or predictions= naming a column of the data")
    raw = model.get_raw_model() if hasattr(model, "get_raw_model") else model
    proba = getattr(raw, "predict_proba", None)
    if hasattr(model, "predict"):
        if params and hasattr(model, "get_raw_model"):
            return (lambda X: model.predict(X, params=params)), proba
        return model.predict, proba
    if callable(model):
        return model, None
    raise InvalidParameterValue(f"cannot evaluate a {type(model).__name__}: it has no predict()")


def _safe_scores(scores_of: Callable[[Any], Any] | None, features: Any) -> Any:
    if scores_of is None:
        return None
    try:
        return scores_of(features)
    except (AttributeError, NotImplementedError, ValueError):  # e.g. an SVC without probability=True
        return None


def _compute(
    model_type: str,
    data: _Data,
    predicted: Any,
    scores: Any,
    config: dict[str, Any],
    extra: Sequence[EvaluationMetric] | None,
) -> tuple[dict[str, float], dict[str, Any]]:
    import numpy as np

    from gitrun.integrations.evaluation import metrics as m

    predicted = np.asarray(predicted)
    artifacts: dict[str, Any] = {}
    if model_type == "regressor":
        values = m.regressor_metrics(data.targets, predicted)
    else:
        labels = list(
            config.get("label_list")
            or sorted(set(np.asarray(data.targets).tolist()) | set(predicted.tolist()))
        )
        pos_label = config.get("pos_label", labels[-1] if labels else 1)
        if scores is not None and np.asarray(scores).shape[1] != len(labels):
            scores = None  # the model's classes are not the labels of this data
        values = m.classifier_metrics(data.targets, predicted, scores, labels, pos_label)
        artifacts.update(_classifier_artifacts(data, predicted, scores, labels, config))
    for metric in extra or ():
        values.update(metric.compute(predicted, data.targets, values))
    return values, artifacts


def _classifier_artifacts(
    data: _Data, predicted: Any, scores: Any, labels: list[Any], config: dict[str, Any]
) -> dict[str, Any]:
    import importlib.util

    from gitrun.integrations.evaluation import metrics as m
    from gitrun.integrations.evaluation import plots

    out: dict[str, Any] = {}
    if len(labels) > 2:
        out["per_class_metrics.csv"] = m.per_class_rows(data.targets, predicted, scores, labels)
    if config.get("log_plots", True) and importlib.util.find_spec("matplotlib") is not None:
        out["confusion_matrix.png"] = plots.confusion_matrix_figure(data.targets, predicted, labels)
        if scores is not None:
            out["roc_curve_plot.png"] = plots.curve_figure(data.targets, scores, labels, "roc")
            out["precision_recall_curve_plot.png"] = plots.curve_figure(data.targets, scores, labels, "pr")
    return out


def _log(
    run_id: str | None,
    metrics: dict[str, float],
    artifacts: dict[str, Any],
    data: _Data,
    config: dict[str, Any],
) -> tuple[str, dict[str, str]]:
    from gitrun.tracking import fluent

    if run_id is not None:
        return run_id, _log_into(run_id, metrics, artifacts, data)
    active = fluent.active_run()
    if active is not None:
        return active.info.run_id, _log_into(active.info.run_id, metrics, artifacts, data)
    with fluent.start_run() as run:
        return run.info.run_id, _log_into(run.info.run_id, metrics, artifacts, data)


def _log_into(
    run_id: str, metrics: dict[str, float], artifacts: dict[str, Any], data: _Data
) -> dict[str, str]:
    from gitrun.tracking import entities as ent
    from gitrun.tracking.client import Client

    client = Client()
    now = int(time.time() * 1000)
    client.log_batch(run_id, metrics=[ent.Metric(k, v, now, 0) for k, v in metrics.items()])
    uris = {}
    for name, content in artifacts.items():
        if isinstance(content, list):
            client.log_text(run_id, _csv(content), name)
        else:
            client.log_figure(run_id, content, name)
        uris[name] = f"runs:/{run_id}/{name}"
    if data.frame is not None:
        from gitrun.data import from_pandas

        client.log_input(run_id, from_pandas(data.frame, name=data.name or "dataset"), "eval")
    return uris


def _csv(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
