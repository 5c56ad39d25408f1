"""The scikit-learn flavor and autologging, on real estimators (and xgboost/lightgbm)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

pytest.importorskip("sklearn")

from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import gitrun
from gitrun import MlflowClient
from gitrun.errors import CorruptObject, GitrunError, InvalidParameterValue
from tests.integrations.conftest import object_count, runs_of

pytestmark = pytest.mark.usefixtures("in_repo")


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    X, y = make_classification(n_samples=200, n_features=8, n_informative=5, n_classes=3, random_state=0)
    return X, y


def tutorial_estimators() -> list[Any]:
    return [
        RandomForestClassifier(n_estimators=20, max_depth=5, random_state=0),
        LogisticRegression(max_iter=500),
        GradientBoostingClassifier(n_estimators=10, random_state=0),
        Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=500))]),
        GridSearchCV(LogisticRegression(max_iter=500), {"C": [0.1, 1.0]}, cv=3),
    ]


@pytest.mark.parametrize("estimator", tutorial_estimators(), ids=lambda e: type(e).__name__)
def test_log_and_load_round_trip(estimator: Any, data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    model = estimator.fit(X, y)
    with gitrun.start_run() as run:
        info = gitrun.sklearn.log_model(model, "model")
    assert info.model_uri == f"runs:/{run.info.run_id}/model"
    loaded = gitrun.sklearn.load_model(info.model_uri)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_tutorial_log_model_then_load_the_best_run(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    gitrun.set_experiment("sentiment-analysis-v1")
    models = {}
    for depth in (2, 8):
        with gitrun.start_run() as run:
            model = RandomForestClassifier(n_estimators=20, max_depth=depth, random_state=0).fit(X, y)
            gitrun.log_metric("val_f1", model.score(X, y))
            gitrun.sklearn.log_model(model, "model")
            models[run.info.run_id] = model
    client = MlflowClient()
    experiment = client.get_experiment_by_name("sentiment-analysis-v1")
    assert experiment is not None
    best_run = client.search_runs(
        experiment_ids=[experiment.experiment_id],
        filter_string="metrics.val_f1 > 0.5",
        order_by=["metrics.val_f1 DESC"],
        max_results=1,
    )[0]
    # The best run is found, not just some run: its score is the highest logged.
    scores = [client.get_run(run_id).data.metrics["val_f1"] for run_id in models]
    assert best_run.data.metrics["val_f1"] == max(scores)
    model_uri = f"runs:/{best_run.info.run_id}/model"
    model = gitrun.sklearn.load_model(model_uri)
    np.testing.assert_array_equal(model.predict(X), models[best_run.info.run_id].predict(X))


def test_saved_model_layout(tmp_path: Path, data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    model = LogisticRegression(max_iter=500).fit(X, y)
    target = tmp_path / "saved"
    gitrun.sklearn.save_model(model, target, input_example=X[:3])
    assert sorted(p.name for p in target.iterdir()) == [
        "MLmodel",
        "input_example.json",
        "model.pkl",
        "requirements.txt",
    ]
    descriptor = yaml.safe_load((target / "MLmodel").read_text())
    import sklearn

    flavor = descriptor["flavors"]["sklearn"]
    assert flavor["sklearn_version"] == sklearn.__version__
    assert flavor["serialization_format"] == "pickle"
    assert flavor["digest"].startswith("sha256:")
    assert descriptor["flavors"]["python_function"]["loader_module"] == "gitrun.sklearn"
    requirements = (target / "requirements.txt").read_text().split()
    assert f"scikit-learn=={sklearn.__version__}" in requirements
    assert f"numpy=={np.__version__}" in requirements
    assert any(r.startswith("gitrun==") for r in requirements)
    assert descriptor["pip_requirements"] == requirements
    inputs = json.loads(descriptor["signature"]["inputs"])
    assert inputs == [{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 8]}}]
    outputs = json.loads(descriptor["signature"]["outputs"])
    assert outputs[0]["tensor-spec"]["shape"] == [-1]
    assert json.loads((target / "input_example.json").read_text()) == X[:3].tolist()
    for uri in (str(target), target.as_uri()):
        np.testing.assert_array_equal(gitrun.sklearn.load_model(uri).predict(X), model.predict(X))
    with pytest.raises(GitrunError, match="already exists"):
        gitrun.sklearn.save_model(model, target)


def test_a_changed_pickle_is_refused_before_unpickling(
    tmp_path: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    X, y = data
    target = tmp_path / "saved"
    gitrun.sklearn.save_model(LogisticRegression(max_iter=500).fit(X, y), target)
    (target / "model.pkl").write_bytes(b"cos\nsystem\n(S'echo pwned'\ntR.")
    with pytest.raises(CorruptObject, match="refusing to unpickle"):
        gitrun.sklearn.load_model(target)


def test_library_version_mismatch_warns(tmp_path: Path, data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    target = tmp_path / "saved"
    gitrun.sklearn.save_model(LogisticRegression(max_iter=500).fit(X, y), target)
    text = (target / "MLmodel").read_text()
    import sklearn

    (target / "MLmodel").write_text(
        text.replace(f"sklearn_version: {sklearn.__version__}", "sklearn_version: 0.20.0")
    )
    with pytest.warns(UserWarning, match=r"saved with scikit-learn 0\.20\.0"):
        gitrun.sklearn.load_model(target)
    import scipy

    text = (
        (target / "MLmodel")
        .read_text()
        .replace("sklearn_version: 0.20.0", f"sklearn_version: {sklearn.__version__}")
    )
    text = text.replace(f"scipy=={scipy.__version__}", "scipy==0.1")
    (target / "MLmodel").write_text(text.replace("- numpy==", "- not-installed-lib==1.0\n- numpy=="))
    with pytest.warns(
        UserWarning, match=r"saved with scipy 0\.1 \(installed: .*not-installed-lib==1\.0, not inst"
    ):
        gitrun.sklearn.load_model(target)
    with pytest.raises(InvalidParameterValue, match="no 'pytorch' flavor"):
        gitrun.pytorch.load_model(target)


def test_missing_library_is_a_clear_error() -> None:
    from gitrun.integrations.models.descriptor import check_library

    with pytest.raises(GitrunError, match=r"pip install 'not-a-lib==1\.0'"):
        check_library("not_a_lib_xyz", "not-a-lib", "1.0")


def test_logging_the_same_model_twice_stores_its_bytes_once(
    in_repo: Path, data: tuple[np.ndarray, np.ndarray]
) -> None:
    X, y = data
    model = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    with gitrun.start_run():
        first = gitrun.sklearn.log_model(model, "model", input_example=X[:2])
        before = object_count(in_repo)
        second = gitrun.sklearn.log_model(model, "model-again", input_example=X[:2])
        assert object_count(in_repo) == before
    with gitrun.start_run():
        gitrun.sklearn.log_model(model, "model", input_example=X[:2])
    assert object_count(in_repo) == before
    assert first.model_digest == second.model_digest
    assert first.model_id != second.model_id  # two logged models, one copy of their bytes


def test_log_model_without_a_run_starts_one(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    info = gitrun.sklearn.log_model(LogisticRegression(max_iter=500).fit(X, y))
    active = gitrun.active_run()
    assert active is not None and active.info.run_id == info.run_id
    assert info.artifact_path == "model"
    gitrun.end_run()
    details = gitrun.models.get_model_info(info.model_uri)
    assert details.run_id == info.run_id
    assert details.model_uuid == info.model_uuid
    assert details.utc_time_created == info.utc_time_created
    from gitrun.integrations.models.location import logged_models

    assert logged_models(info.run_id)["model"].flavors == ("python_function", "sklearn")


def test_name_and_deprecated_artifact_path(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    model = LogisticRegression(max_iter=500).fit(X, y)
    with gitrun.start_run():
        with pytest.warns(FutureWarning, match="artifact_path"):
            info = gitrun.sklearn.log_model(model, artifact_path="old-style")
        assert info.model_uri.endswith("/old-style")
        with pytest.raises(InvalidParameterValue, match="both provided"):
            gitrun.sklearn.log_model(model, "a", artifact_path="b")


def test_unknown_registry_uris_are_clear_errors(data: tuple[np.ndarray, np.ndarray]) -> None:
    from gitrun.errors import ResourceDoesNotExist

    with pytest.raises(ResourceDoesNotExist, match="my-model not found"):
        gitrun.sklearn.load_model("models:/my-model/1")
    with pytest.raises(InvalidParameterValue, match="malformed model URI"):
        gitrun.sklearn.load_model("models:/just-a-name")


def test_xgboost_and_lightgbm_round_trip(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    models = []
    xgb = pytest.importorskip("xgboost")
    models.append(xgb.XGBClassifier(n_estimators=10, max_depth=3))
    lgb = pytest.importorskip("lightgbm")
    models.append(lgb.LGBMClassifier(n_estimators=10, verbose=-1))
    for model in models:
        model.fit(X, y)
        with gitrun.start_run():
            info = gitrun.sklearn.log_model(model, "model")
        np.testing.assert_array_equal(
            gitrun.sklearn.load_model(info.model_uri).predict_proba(X), model.predict_proba(X)
        )
        requirements = info.pip_requirements
        assert any(r.startswith(("xgboost", "lightgbm")) for r in requirements), requirements


# -- autolog ------------------------------------------------------------------------------------


def test_tutorial_autolog_in_a_run(data: tuple[np.ndarray, np.ndarray]) -> None:
    X_train, y_train = data
    gitrun.sklearn.autolog()
    with gitrun.start_run() as run:
        model = RandomForestClassifier(n_estimators=100, max_depth=10)
        model.fit(X_train, y_train)
    logged = gitrun.get_run(run.info.run_id)
    assert logged.info.status == "FINISHED"
    assert len(logged.data.params) == len(model.get_params(deep=True)) == 19
    assert logged.data.params["n_estimators"] == "100"
    assert logged.data.params["max_depth"] == "10"
    assert logged.data.tags["estimator_name"] == "RandomForestClassifier"
    assert logged.data.tags["estimator_class"] == "sklearn.ensemble._forest.RandomForestClassifier"
    assert "mlflow.autologging" not in logged.data.tags  # the user's run, not a managed one
    expected = {
        "training_accuracy_score",
        "training_precision_score",
        "training_recall_score",
        "training_f1_score",
        "training_log_loss",
        "training_roc_auc",
        "training_score",
    }
    assert set(logged.data.metrics) == expected
    from sklearn.metrics import accuracy_score, f1_score

    assert logged.data.metrics["training_accuracy_score"] == pytest.approx(
        accuracy_score(y_train, model.predict(X_train))
    )
    assert logged.data.metrics["training_f1_score"] == pytest.approx(
        f1_score(y_train, model.predict(X_train), average="weighted")
    )
    loaded = gitrun.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X_train), model.predict(X_train))
    assert len(runs_of()) == 1  # the forest's 100 trees did not log runs of their own


def test_autolog_regressor_metrics() -> None:
    X, y = make_regression(n_samples=100, n_features=4, random_state=0)
    gitrun.sklearn.autolog(log_models=False)
    with gitrun.start_run() as run:
        RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y)
    metrics = gitrun.get_run(run.info.run_id).data.metrics
    assert set(metrics) == {
        "training_mean_squared_error",
        "training_root_mean_squared_error",
        "training_mean_absolute_error",
        "training_r2_score",
        "training_score",
    }
    assert metrics["training_root_mean_squared_error"] == pytest.approx(
        metrics["training_mean_squared_error"] ** 0.5
    )
    assert MlflowClient().list_artifacts(run.info.run_id) == []  # log_models=False


def test_autolog_without_a_run_manages_one(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    gitrun.sklearn.autolog(log_input_examples=True)
    LogisticRegression(max_iter=500).fit(X, y)
    assert gitrun.active_run() is None
    run = gitrun.last_active_run()
    assert run is not None
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    files = {a.path for a in MlflowClient().list_artifacts(run.info.run_id, "model")}
    assert "model/input_example.json" in files and "model/MLmodel" in files
    info = gitrun.models.get_model_info(f"runs:/{run.info.run_id}/model")
    assert info.signature is not None and info.saved_input_example_info is not None
    with pytest.raises(ValueError):
        LogisticRegression().fit(X, np.zeros(len(X)))  # one class: the fit itself fails
    failed = gitrun.last_active_run()
    assert failed is not None and failed.info.run_id != run.info.run_id
    assert failed.info.status == "FAILED"
    assert gitrun.active_run() is None


def test_autolog_in_a_nested_run(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    gitrun.sklearn.autolog()
    with gitrun.start_run() as parent:
        with gitrun.start_run(nested=True) as child:
            Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression(max_iter=500))]).fit(X, y)
    logged = gitrun.get_run(child.info.run_id)
    assert logged.data.tags["estimator_name"] == "Pipeline"
    assert "lr__C" in logged.data.params and "scale__with_mean" in logged.data.params
    assert "training_score" in logged.data.metrics
    assert not gitrun.get_run(parent.info.run_id).data.params
    assert len(runs_of()) == 2  # the pipeline's steps logged nothing of their own


def test_autolog_grid_search(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    gitrun.sklearn.autolog(max_tuning_runs=2)
    search = GridSearchCV(LogisticRegression(max_iter=500), {"C": [0.01, 0.1, 1.0]}, cv=3)
    with gitrun.start_run() as run:
        search.fit(X, y)
    parent = gitrun.get_run(run.info.run_id)
    assert parent.data.params["best_C"] == str(search.best_params_["C"])
    assert parent.data.params["cv"] == "3"  # the search's own params (deep=False), as MLflow
    assert parent.data.metrics["best_cv_score"] == pytest.approx(search.best_score_)
    assert {a.path for a in MlflowClient().list_artifacts(run.info.run_id)} == {"cv_results.csv", "model"}
    csv_text = gitrun.artifacts.load_text(f"runs:/{run.info.run_id}/cv_results.csv")
    assert csv_text.splitlines()[0].startswith(",mean_fit_time")
    assert len(csv_text.splitlines()) == 4
    children = gitrun.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'", output_format="list"
    )
    assert len(children) == 2
    ranks = sorted(c.data.metrics["rank_test_score"] for c in children)
    assert ranks == sorted(search.cv_results_["rank_test_score"])[:2]
    best = min(children, key=lambda c: c.data.metrics["rank_test_score"])
    assert best.data.params["C"] == str(search.best_params_["C"])
    assert best.data.params["max_iter"] == "500"
    assert {"mean_test_score", "std_test_score", "mean_fit_time"} <= set(best.data.metrics)
    loaded = gitrun.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), search.predict(X))


def test_autolog_xgboost_with_manual_logging(data: tuple[np.ndarray, np.ndarray]) -> None:
    xgb = pytest.importorskip("xgboost")
    X_train, y_train = data
    gitrun.sklearn.autolog()
    with gitrun.start_run() as run:
        model = xgb.XGBClassifier(n_estimators=10)
        model.fit(X_train, y_train)
        gitrun.log_param("feature_engineering_version", "v2")
        predictions = model.predict(X_train)
        gitrun.log_metric("estimated_cost_savings", float((predictions == y_train).sum()))
    logged = gitrun.get_run(run.info.run_id)
    assert logged.data.tags["estimator_name"] == "XGBClassifier"
    assert logged.data.params["n_estimators"] == "10"
    assert logged.data.params["feature_engineering_version"] == "v2"
    assert "training_accuracy_score" in logged.data.metrics
    loaded = gitrun.sklearn.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X_train), predictions)


def test_autolog_lightgbm(data: tuple[np.ndarray, np.ndarray]) -> None:
    lgb = pytest.importorskip("lightgbm")
    X, y = data
    gitrun.sklearn.autolog()
    with gitrun.start_run() as run:
        lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y)
    logged = gitrun.get_run(run.info.run_id)
    assert logged.data.tags["estimator_name"] == "LGBMClassifier"
    assert "training_log_loss" in logged.data.metrics


def test_a_logging_failure_does_not_break_fit(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    gitrun.sklearn.autolog()
    run = gitrun.start_run()
    MlflowClient().delete_run(run.info.run_id)  # every write into it fails from now on
    with pytest.warns(UserWarning, match="sklearn autologging failed"):
        model = LogisticRegression(max_iter=500).fit(X, y)
    assert model.predict(X).shape == y.shape
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reported once only
        LogisticRegression(max_iter=500).fit(X, y)
    with pytest.raises(InvalidParameterValue, match="deleted"):
        gitrun.end_run()


def test_autolog_disable_and_user_estimators(data: tuple[np.ndarray, np.ndarray]) -> None:
    from sklearn.base import BaseEstimator, ClassifierMixin

    X, y = data
    gitrun.sklearn.autolog()

    class Majority(ClassifierMixin, BaseEstimator):  # defined after autolog was turned on
        def fit(self, X: Any, y: Any) -> Majority:
            self.classes_, counts = np.unique(y, return_counts=True)
            self.majority_ = self.classes_[counts.argmax()]
            return self

        def predict(self, X: Any) -> Any:
            return np.full(len(X), self.majority_)

    Majority().fit(X, y)
    run = gitrun.last_active_run()
    assert run is not None and run.data.tags["estimator_name"] == "Majority"
    assert "training_accuracy_score" in run.data.metrics
    gitrun.sklearn.autolog(disable=True)
    count = len(runs_of())
    LogisticRegression(max_iter=500).fit(X, y)
    Majority().fit(X, y)
    assert len(runs_of()) == count
    assert "fit" in LogisticRegression.__dict__ and not hasattr(LogisticRegression.fit, "_gitrun_autolog")


def test_grid_search_logs_exactly_mlflows_keys(data: tuple[np.ndarray, np.ndarray]) -> None:
    """Parent and child key sets of MLflow's sklearn autolog (mlflow/sklearn/__init__.py and
    utils.py, 3.x: the search's params with deep=False plus best_*, children with the base
    estimator's params, cv_results_ aggregates without param_*/split* columns, estimator tags)."""
    X, y = data
    gitrun.sklearn.autolog()
    base = LogisticRegression(max_iter=500)
    search = GridSearchCV(base, {"C": [0.1, 1.0]}, cv=3)
    with gitrun.start_run() as run:
        search.fit(X, y)
    parent = gitrun.get_run(run.info.run_id)
    assert set(parent.data.params) == set(search.get_params(deep=False)) | {"best_C"}
    assert not any(k.startswith("estimator__") for k in parent.data.params)
    assert parent.data.tags["estimator_name"] == "GridSearchCV"
    assert parent.data.tags["estimator_class"] == "sklearn.model_selection._search.GridSearchCV"
    assert "best_cv_score" in parent.data.metrics
    children = gitrun.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'", output_format="list"
    )
    assert len(children) == 2
    for child in children:
        assert set(child.data.params) == set(base.get_params(deep=True))
        assert set(child.data.metrics) == {
            "mean_fit_time",
            "std_fit_time",
            "mean_score_time",
            "std_score_time",
            "mean_test_score",
            "std_test_score",
            "rank_test_score",
        }
        assert child.data.tags["estimator_name"] == "LogisticRegression"
        assert child.data.tags["estimator_class"] == "sklearn.linear_model._logistic.LogisticRegression"
