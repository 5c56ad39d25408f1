"""Training metrics of a fitted estimator, named as MLflow's sklearn autolog names them.

Computed on the data passed to ``fit``.  Predictions are made once and shared by
every metric, and ``training_score`` reuses them when the estimator's ``score``
is the standard one (accuracy for classifiers, R² for regressors): a RandomForest
is not asked to predict three times.  A metric that cannot be computed (one class
only, multi-output targets, ...) is left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


def training_metrics(
    estimator: Any, X: Any, y: Any, sample_weight: Any = None
) -> tuple[dict[str, float], Any]:
    """``({metric: value}, predictions)``; predictions are None when not computed."""
    if y is None:
        return _score_only(estimator, X, y, sample_weight), None
    import sklearn

    # Our inputs were just validated by fit: skip the metrics' own parameter checks.
    with sklearn.config_context(skip_parameter_validation=True):
        return _metrics(estimator, X, y, sample_weight)


def _metrics(estimator: Any, X: Any, y: Any, sample_weight: Any) -> tuple[dict[str, float], Any]:
    from sklearn.base import ClassifierMixin, RegressorMixin, is_classifier, is_regressor

    if is_classifier(estimator):
        kind, standard = "classifier", ClassifierMixin.score
    elif is_regressor(estimator):
        kind, standard = "regressor", RegressorMixin.score
    else:
        return _score_only(estimator, X, y, sample_weight), None
    proba = _proba(estimator, X) if kind == "classifier" else None
    predicted = _argmax(estimator, proba)
    if predicted is None:
        predicted = estimator.predict(X)
    if kind == "classifier":
        metrics = _classifier(estimator, y, predicted, proba, sample_weight)
    else:
        metrics = _regressor(y, predicted, sample_weight)
    standard_key = "training_accuracy_score" if kind == "classifier" else "training_r2_score"
    if getattr(type(estimator), "score", None) is standard and standard_key in metrics:
        metrics["training_score"] = metrics[standard_key]
    else:
        metrics.update(_score_only(estimator, X, y, sample_weight))
    return metrics, predicted


def _proba(estimator: Any, X: Any) -> Any:
    if not hasattr(estimator, "predict_proba"):
        return None
    try:
        return estimator.predict_proba(X)
    except Exception:  # noqa: BLE001 - some classifiers expose predict_proba but refuse it
        return None


def _argmax(estimator: Any, proba: Any) -> Any:
    """The predictions from ``proba`` when ``predict`` is by definition their argmax.

    A forest's ``predict`` averages every tree's probabilities and takes the
    argmax: computing it again would double the cost of the metrics.
    """
    if proba is None or getattr(proba, "ndim", 0) != 2:
        return None
    import sys

    forest = sys.modules.get("sklearn.ensemble._forest")
    tree = sys.modules.get("sklearn.tree._classes")
    standard = {
        getattr(getattr(forest, "ForestClassifier", None), "predict", None),
        getattr(getattr(tree, "DecisionTreeClassifier", None), "predict", None),
    } - {None}
    if getattr(type(estimator), "predict", None) not in standard:
        return None
    return estimator.classes_.take(proba.argmax(axis=1), axis=0)


def _classifier(estimator: Any, y: Any, predicted: Any, proba: Any, weight: Any) -> dict[str, float]:
    from sklearn import metrics as m

    out: dict[str, float] = {}
    _add(out, "training_accuracy_score", lambda: m.accuracy_score(y, predicted, sample_weight=weight))
    out.update(_weighted_prf(y, predicted, weight))
    if proba is not None:
        labels = getattr(estimator, "classes_", None)
        _add(out, "training_log_loss", lambda: m.log_loss(y, proba, sample_weight=weight, labels=labels))
        if proba.ndim == 2 and proba.shape[1] == 2:
            _add(out, "training_roc_auc", lambda: m.roc_auc_score(y, proba[:, 1], sample_weight=weight))
        else:
            _add(
                out,
                "training_roc_auc",
                lambda: m.roc_auc_score(y, proba, multi_class="ovr", sample_weight=weight, labels=labels),
            )
    return out


def _weighted_prf(y: Any, predicted: Any, weight: Any) -> dict[str, float]:
    """Precision, recall and F1 in one call: each separate call re-derives labels and counts."""
    from sklearn import metrics as m

    try:
        precision, recall, f1, _ = m.precision_recall_fscore_support(
            y, predicted, average="weighted", sample_weight=weight, zero_division=0
        )
    except Exception:  # noqa: BLE001 - e.g. multi-output targets: the metrics do not apply
        return {}
    return {
        "training_precision_score": float(precision),
        "training_recall_score": float(recall),
        "training_f1_score": float(f1),
    }


def _regressor(y: Any, predicted: Any, weight: Any) -> dict[str, float]:
    from sklearn import metrics as m

    out: dict[str, float] = {}
    _add(out, "training_mean_squared_error", lambda: m.mean_squared_error(y, predicted, sample_weight=weight))
    if "training_mean_squared_error" in out:
        out["training_root_mean_squared_error"] = math.sqrt(out["training_mean_squared_error"])
    _add(
        out, "training_mean_absolute_error", lambda: m.mean_absolute_error(y, predicted, sample_weight=weight)
    )
    _add(out, "training_r2_score", lambda: m.r2_score(y, predicted, sample_weight=weight))
    return out


def _score_only(estimator: Any, X: Any, y: Any, weight: Any) -> dict[str, float]:
    if not hasattr(estimator, "score"):
        return {}
    out: dict[str, float] = {}
    if weight is not None:
        _add(out, "training_score", lambda: estimator.score(X, y, sample_weight=weight))
    else:
        _add(out, "training_score", lambda: estimator.score(X, y))
    return out


def _add(out: dict[str, float], name: str, compute: Callable[[], Any]) -> None:
    try:
        value = float(compute())
    except Exception:  # noqa: BLE001 - a metric that does not apply is left out
        return
    out[name] = value
