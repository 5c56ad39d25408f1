"""gitrun.evaluate on real scikit-learn models: MLflow's default metrics, plots, custom metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gitrun
from gitrun import MlflowClient
from gitrun.errors import InvalidParameterValue

pytest.importorskip("sklearn")
pytest.importorskip("pandas")

from sklearn.datasets import make_classification, make_regression
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

pd = pytest.importorskip("pandas")

pytestmark = pytest.mark.usefixtures("in_repo")

# MLflow's default evaluator metric names (mlflow/models/evaluation/default_evaluator.py, 3.x).
REGRESSOR_METRICS = {
    "example_count",
    "mean_absolute_error",
    "mean_squared_error",
    "root_mean_squared_error",
    "sum_on_target",
    "mean_on_target",
    "r2_score",
    "max_error",
    "mean_absolute_percentage_error",
}
BINARY_METRICS = {
    "example_count",
    "accuracy_score",
    "recall_score",
    "precision_score",
    "f1_score",
    "log_loss",
    "roc_auc",
    "precision_recall_auc",
    "true_negatives",
    "false_positives",
    "false_negatives",
    "true_positives",
}
MULTICLASS_METRICS = {
    "example_count",
    "accuracy_score",
    "recall_score",
    "precision_score",
    "f1_score",
    "log_loss",
    "roc_auc",
}


def binary_frame() -> tuple[object, object]:
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)]).assign(label=y)
    return LogisticRegression(max_iter=500).fit(X[:150], y[:150]), frame


def artifacts(run_id: str) -> set[str]:
    return {f.path for f in MlflowClient().list_artifacts(run_id)}


def test_binary_classifier_metrics_and_plots() -> None:
    model, frame = binary_frame()
    with gitrun.start_run() as run:
        result = gitrun.evaluate(model, frame, targets="label", model_type="classifier")
    assert set(result.metrics) == BINARY_METRICS
    from sklearn.metrics import accuracy_score, roc_auc_score

    X, y = frame.drop(columns="label").to_numpy(), frame["label"].to_numpy()
    assert result.metrics["accuracy_score"] == pytest.approx(accuracy_score(y, model.predict(X)))
    assert result.metrics["roc_auc"] == pytest.approx(roc_auc_score(y, model.predict_proba(X)[:, 1]))
    assert result.metrics["true_positives"] + result.metrics["false_negatives"] == y.sum()
    logged = gitrun.get_run(run.info.run_id)
    assert logged.data.metrics == pytest.approx(result.metrics)
    assert {"confusion_matrix.png", "roc_curve_plot.png", "precision_recall_curve_plot.png"} <= artifacts(
        run.info.run_id
    )
    assert result.artifacts["roc_curve_plot.png"].uri == f"runs:/{run.info.run_id}/roc_curve_plot.png"
    (item,) = logged.inputs.dataset_inputs
    assert {(t.key, t.value) for t in item.tags} == {("mlflow.data.context", "eval")}


def test_multiclass_per_class_metrics() -> None:
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=1)
    model = LogisticRegression(max_iter=500).fit(X, y)
    result = gitrun.evaluate(model, X, targets=y, model_type="classifier")
    assert set(result.metrics) == MULTICLASS_METRICS
    table = result.tables["per_class_metrics.csv"]
    assert [row["positive_class"] for row in table] == [0, 1, 2]
    assert sum(row["true_positives"] for row in table) == (model.predict(X) == y).sum()
    text = gitrun.artifacts.load_text(result.artifacts["per_class_metrics.csv"].uri)
    assert text.splitlines()[0].startswith("positive_class,true_negatives")
    assert gitrun.active_run() is None  # the run evaluate started was ended


def test_regressor_metrics_from_a_logged_model_uri() -> None:
    X, y = make_regression(n_samples=120, n_features=3, noise=5.0, random_state=0)
    model = LinearRegression().fit(X, y)
    with gitrun.start_run():
        info = gitrun.sklearn.log_model(model, "model")
    result = gitrun.evaluate(info.model_uri, X, targets=y, model_type="regressor")
    assert set(result.metrics) == REGRESSOR_METRICS
    residual = y - model.predict(X)
    assert result.metrics["root_mean_squared_error"] == pytest.approx(math.sqrt(np.mean(residual**2)))
    assert result.metrics["max_error"] == pytest.approx(np.abs(residual).max())


def test_custom_metrics_baseline_and_thresholds() -> None:
    model, frame = binary_frame()

    def error_rate(predictions: object, targets: object) -> float:
        return float(np.mean(np.asarray(predictions) != np.asarray(targets)))

    metric = gitrun.models.make_metric(eval_fn=error_rate, greater_is_better=False)
    baseline = DummyClassifier(strategy="most_frequent").fit(frame.drop(columns="label"), frame["label"])
    threshold = gitrun.models.MetricThreshold(threshold=0.6, min_absolute_change=0.05, greater_is_better=True)
    result = gitrun.evaluate(
        model,
        frame,
        targets="label",
        model_type="classifier",
        extra_metrics=[metric],
        baseline_model=baseline,
        validation_thresholds={"accuracy_score": threshold},
        evaluator_config={"log_plots": False},
    )
    assert result.metrics["error_rate"] == pytest.approx(1 - result.metrics["accuracy_score"])
    assert result.baseline_model_metrics is not None
    assert result.baseline_model_metrics["accuracy_score"] < result.metrics["accuracy_score"]
    strict = gitrun.models.MetricThreshold(min_absolute_change=0.9)
    with pytest.raises(gitrun.MlflowException, match="accuracy_score"):
        gitrun.evaluate(
            model,
            frame,
            targets="label",
            model_type="classifier",
            baseline_model=baseline,
            validation_thresholds={"accuracy_score": strict},
            evaluator_config={"log_plots": False},
        )


def test_predictions_column_and_errors() -> None:
    model, frame = binary_frame()
    frame = frame.assign(pred=model.predict(frame.drop(columns="label")))
    result = gitrun.evaluate(
        data=frame,
        targets="label",
        predictions="pred",
        model_type="classifier",
        evaluator_config={"log_plots": False, "metric_prefix": "val_"},
    )
    assert "val_accuracy_score" in result.metrics and "val_log_loss" not in result.metrics
    with pytest.raises(InvalidParameterValue, match="model_type"):
        gitrun.evaluate(model, frame, targets="label", model_type="ranker")
    with pytest.raises(InvalidParameterValue, match="targets"):
        gitrun.evaluate(model, frame, targets="nope", model_type="classifier")
    with pytest.raises(InvalidParameterValue, match="make_metric needs name"):
        gitrun.models.make_metric(eval_fn=lambda p, t: 0.0, greater_is_better=True)
