"""The default metrics of classifiers and regressors, named as MLflow's default evaluator names them.

Regressors: ``example_count``, ``mean_absolute_error``, ``mean_squared_error``,
``root_mean_squared_error``, ``sum_on_target``, ``mean_on_target``, ``r2_score``,
``max_error``, ``mean_absolute_percentage_error``.

Classifiers: ``example_count``, ``accuracy_score``, ``recall_score``,
``precision_score``, ``f1_score`` (binary: of the positive label; multiclass:
weighted), and with scores (``predict_proba``) ``log_loss``, ``roc_auc`` and, for
binary ones, ``precision_recall_auc``; binary classifiers also get the confusion
counts ``true_negatives``, ``false_positives``, ``false_negatives``, ``true_positives``.
Names read from MLflow's ``mlflow/models/evaluation/default_evaluator.py`` (3.x).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def regressor_metrics(y: Any, predicted: Any, weight: Any = None) -> dict[str, float]:
    import numpy as np
    from sklearn import metrics as m

    y = np.asarray(y, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    mse = float(m.mean_squared_error(y, predicted, sample_weight=weight))
    out = {
        "example_count": float(len(y)),
        "mean_absolute_error": float(m.mean_absolute_error(y, predicted, sample_weight=weight)),
        "mean_squared_error": mse,
        "root_mean_squared_error": math.sqrt(mse),
        "sum_on_target": float(np.sum(y)),
        "mean_on_target": float(np.mean(y)),
        "r2_score": float(m.r2_score(y, predicted, sample_weight=weight)),
        "max_error": float(m.max_error(y, predicted)),
        "mean_absolute_percentage_error": float(
            m.mean_absolute_percentage_error(y, predicted, sample_weight=weight)
        ),
    }
    return out


def classifier_metrics(
    y: Any, predicted: Any, scores: Any, labels: list[Any], pos_label: Any, weight: Any = None
) -> dict[str, float]:
    """Metrics of a classifier; ``scores`` (n x classes, or None) in the order of ``labels``."""
    import numpy as np
    from sklearn import metrics as m

    binary = len(labels) <= 2
    average = "binary" if binary else "weighted"
    kwargs: dict[str, Any] = {"average": average, "sample_weight": weight, "zero_division": 0}
    if binary:
        kwargs["pos_label"] = pos_label
    out = {
        "example_count": float(len(y)),
        "accuracy_score": float(m.accuracy_score(y, predicted, sample_weight=weight)),
        "recall_score": float(m.recall_score(y, predicted, **kwargs)),
        "precision_score": float(m.precision_score(y, predicted, **kwargs)),
        "f1_score": float(m.f1_score(y, predicted, **kwargs)),
    }
    if binary and len(labels) == 2:
        negative = labels[0] if labels[1] == pos_label else labels[1]
        tn, fp, fn, tp = m.confusion_matrix(
            y, predicted, labels=[negative, pos_label], sample_weight=weight
        ).ravel()
        out.update(
            true_negatives=float(tn),
            false_positives=float(fp),
            false_negatives=float(fn),
            true_positives=float(tp),
        )
    if scores is not None:
        scores = np.asarray(scores, dtype=float)
        _add(out, "log_loss", lambda: m.log_loss(y, scores, labels=labels, sample_weight=weight))
        if binary and len(labels) == 2:
            positive = scores[:, labels.index(pos_label)]
            truth = np.asarray(y) == pos_label
            _add(out, "roc_auc", lambda: m.roc_auc_score(truth, positive, sample_weight=weight))
            _add(
                out,
                "precision_recall_auc",
                lambda: m.average_precision_score(truth, positive, sample_weight=weight),
            )
        else:
            _add(
                out,
                "roc_auc",
                lambda: m.roc_auc_score(
                    y, scores, multi_class="ovr", average="weighted", labels=labels, sample_weight=weight
                ),
            )
    return out


def per_class_rows(y: Any, predicted: Any, scores: Any, labels: list[Any]) -> list[dict[str, Any]]:
    """One row per class, that class taken as the positive one (``per_class_metrics.csv``)."""
    import numpy as np
    from sklearn import metrics as m

    y, predicted = np.asarray(y), np.asarray(predicted)
    rows = []
    for index, label in enumerate(labels):
        truth, guess = y == label, predicted == label
        tn, fp, fn, tp = m.confusion_matrix(truth, guess, labels=[False, True]).ravel()
        row: dict[str, Any] = {
            "positive_class": label,
            "true_negatives": int(tn),
            "false_positives": int(fp),
            "false_negatives": int(fn),
            "true_positives": int(tp),
            "recall": float(m.recall_score(truth, guess, zero_division=0)),
            "precision": float(m.precision_score(truth, guess, zero_division=0)),
            "f1_score": float(m.f1_score(truth, guess, zero_division=0)),
        }
        if scores is not None and 0 < truth.sum() < len(truth):
            column = np.asarray(scores)[:, index]
            row["roc_auc"] = float(m.roc_auc_score(truth, column))
            row["precision_recall_auc"] = float(m.average_precision_score(truth, column))
        rows.append(row)
    return rows


def _add(out: dict[str, float], name: str, compute: Callable[[], Any]) -> None:
    try:
        out[name] = float(compute())
    except ValueError:  # e.g. one class only in y: the metric is undefined, left out
        pass
