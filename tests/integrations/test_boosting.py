"""XGBoost and LightGBM: flavors and autologging on real (small) CPU trainings.

The expected key sets are MLflow's, read from ``mlflow/xgboost/__init__.py`` and
``mlflow/lightgbm/__init__.py`` (3.x: the params of ``train`` minus its
``unlogged_params``, ``<data>-<metric>`` series, ``feature_importance_*`` files);
they are written out here so that the tests do not need MLflow installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gitrun
from gitrun import MlflowClient
from tests.integrations.conftest import object_count, runs_of

pytestmark = pytest.mark.usefixtures("in_repo")

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(0)
    X = rng.rand(240, 4)
    y = (X[:, 0] * 3).astype(int)  # three classes, learnable
    return X, y


def artifacts(run_id: str) -> set[str]:
    return {f.path for f in MlflowClient().list_artifacts(run_id)}


# -- XGBoost -----------------------------------------------------------------------------------


XGB_TRAIN_PARAMS = {"num_boost_round", "maximize", "early_stopping_rounds", "verbose_eval", "custom_metric"}


def test_xgboost_train_autolog_logs_what_mlflow_logs(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    gitrun.xgboost.autolog()
    dtrain, dvalid = xgb.DMatrix(X[:180], y[:180]), xgb.DMatrix(X[180:], y[180:])
    booster_params = {"objective": "multi:softprob", "num_class": 3, "eval_metric": "mlogloss"}
    with gitrun.start_run() as run:
        booster = xgb.train(
            booster_params, dtrain, 12, evals=[(dtrain, "train"), (dvalid, "validation")], verbose_eval=False
        )
    logged = gitrun.get_run(run.info.run_id)
    assert set(logged.data.params) == set(booster_params) | XGB_TRAIN_PARAMS
    assert logged.data.params["num_boost_round"] == "12"
    assert logged.data.params["num_class"] == "3"
    assert set(logged.data.metrics) == {"train-mlogloss", "validation-mlogloss"}
    history = MlflowClient().get_metric_history(run.info.run_id, "validation-mlogloss")
    assert [m.step for m in history] == list(range(12))
    assert artifacts(run.info.run_id) == {
        "feature_importance_weight.json",
        "feature_importance_weight.png",
        "model",
    }
    importance = gitrun.artifacts.load_dict(f"runs:/{run.info.run_id}/feature_importance_weight.json")
    assert importance == pytest.approx(booster.get_score(importance_type="weight"))
    loaded = gitrun.xgboost.load_model(f"runs:/{run.info.run_id}/model")
    assert type(loaded) is xgb.Booster
    np.testing.assert_array_equal(loaded.inplace_predict(X), booster.inplace_predict(X))
    np.testing.assert_array_equal(
        gitrun.pyfunc.load_model(f"runs:/{run.info.run_id}/model").predict(X), booster.inplace_predict(X)
    )


def test_xgboost_early_stopping_metrics(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    gitrun.xgboost.autolog()
    dtrain, dvalid = xgb.DMatrix(X[:180], y[:180]), xgb.DMatrix(X[180:], y[180:])
    with gitrun.start_run() as run:
        booster = xgb.train(
            {"objective": "multi:softprob", "num_class": 3},
            dtrain,
            200,
            evals=[(dvalid, "validation")],
            early_stopping_rounds=2,
            verbose_eval=False,
        )
    logged = gitrun.get_run(run.info.run_id)
    history = MlflowClient().get_metric_history(run.info.run_id, "validation-mlogloss")
    rounds = len(history) - 1  # the best round's value is logged again at step `rounds`
    assert logged.data.metrics["best_iteration"] == booster.best_iteration
    assert logged.data.metrics["stopped_iteration"] == rounds - 1
    assert history[-1].step == rounds
    assert history[-1].value == history[booster.best_iteration].value


def test_xgboost_sklearn_api_autolog_logs_the_estimator(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    gitrun.autolog()  # xgboost's own integration, not scikit-learn's, handles XGBClassifier
    model = xgb.XGBClassifier(n_estimators=6, max_depth=3).fit(X, y, eval_set=[(X, y)], verbose=False)
    (run,) = runs_of()
    assert run.data.tags["mlflow.autologging"] == "xgboost"
    assert "estimator_name" not in run.data.tags  # MLflow's xgboost path sets no estimator tags
    assert {"num_boost_round", "max_depth", "objective"} <= set(run.data.params)
    assert run.data.params["num_boost_round"] == "6"
    assert set(run.data.metrics) == {"validation_0-mlogloss"}
    assert "training_accuracy_score" not in run.data.metrics
    loaded = gitrun.xgboost.load_model(f"runs:/{run.info.run_id}/model")
    assert type(loaded) is xgb.XGBClassifier
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    info = gitrun.models.get_model_info(f"runs:/{run.info.run_id}/model")
    assert info.flavors["xgboost"]["model_class"] == "xgboost.sklearn.XGBClassifier"
    assert info.signature is not None and info.signature.inputs is not None


def test_xgboost_identical_models_are_stored_once(in_repo: Path, data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    booster = xgb.train({"objective": "multi:softprob", "num_class": 3}, xgb.DMatrix(X, y), 5)
    with gitrun.start_run():
        first = gitrun.xgboost.log_model(booster, "model")
    before = object_count(in_repo)
    with gitrun.start_run():
        second = gitrun.xgboost.log_model(booster, "model")
    assert object_count(in_repo) == before
    assert first.model_digest == second.model_digest


def test_xgboost_json_format_and_bad_format(tmp_path: Path, data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    booster = xgb.train({"objective": "multi:softprob", "num_class": 3}, xgb.DMatrix(X, y), 3)
    gitrun.xgboost.save_model(booster, tmp_path / "m", model_format="json")
    assert (tmp_path / "m" / "model.json").read_text().startswith("{")
    np.testing.assert_array_equal(
        gitrun.xgboost.load_model(tmp_path / "m").inplace_predict(X), booster.inplace_predict(X)
    )
    with pytest.raises(gitrun.MlflowException, match="model_format"):
        gitrun.xgboost.save_model(booster, tmp_path / "n", model_format="pickle")


# -- LightGBM ----------------------------------------------------------------------------------

LGB_TRAIN_PARAMS = {"num_boost_round", "keep_training_booster"}


def test_lightgbm_train_autolog_logs_what_mlflow_logs(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    gitrun.lightgbm.autolog()
    booster_params = {"objective": "multiclass", "num_class": 3, "verbose": -1}
    train, valid = lgb.Dataset(X[:180], y[:180]), lgb.Dataset(X[180:], y[180:])
    with gitrun.start_run() as run:
        booster = lgb.train(booster_params, train, 8, valid_sets=[valid])
    logged = gitrun.get_run(run.info.run_id)
    assert set(logged.data.params) == set(booster_params) | LGB_TRAIN_PARAMS
    assert set(logged.data.metrics) == {"valid_0-multi_logloss"}
    history = MlflowClient().get_metric_history(run.info.run_id, "valid_0-multi_logloss")
    assert [m.step for m in history] == list(range(8))
    assert artifacts(run.info.run_id) == {
        "feature_importance_split.json",
        "feature_importance_split.png",
        "feature_importance_gain.json",
        "feature_importance_gain.png",
        "model",
    }
    split = gitrun.artifacts.load_dict(f"runs:/{run.info.run_id}/feature_importance_split.json")
    assert split == dict(zip(booster.feature_name(), booster.feature_importance("split").tolist()))
    loaded = gitrun.lightgbm.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), booster.predict(X))


def test_lightgbm_early_stopping_and_sklearn_api(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    gitrun.autolog()
    model = lgb.LGBMClassifier(n_estimators=200, verbose=-1)
    model.fit(
        X[:180], y[:180], eval_set=[(X[180:], y[180:])], callbacks=[lgb.early_stopping(2, verbose=False)]
    )
    (run,) = runs_of()
    assert run.data.tags["mlflow.autologging"] == "lightgbm"
    assert run.data.metrics["best_iteration"] == model.best_iteration_
    history = MlflowClient().get_metric_history(run.info.run_id, "valid_0-multi_logloss")
    assert run.data.metrics["stopped_iteration"] == len(history) - 1
    assert history[-1].value == history[model.best_iteration_ - 1].value
    loaded = gitrun.lightgbm.load_model(f"runs:/{run.info.run_id}/model")
    assert type(loaded) is lgb.LGBMClassifier
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))


def test_scikit_learn_autolog_alone_still_logs_boosting_estimators(
    data: tuple[np.ndarray, np.ndarray],
) -> None:
    X, y = data
    gitrun.sklearn.autolog()
    lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(X, y)
    (run,) = runs_of()
    assert run.data.tags["mlflow.autologging"] == "sklearn"
    gitrun.lightgbm.autolog()  # now LightGBM's integration takes over
    lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(X, y)
    tags = sorted(r.data.tags["mlflow.autologging"] for r in runs_of())
    assert tags == ["lightgbm", "sklearn"]


def test_disable_restores_train(data: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = data
    original = xgb.train
    gitrun.xgboost.autolog()
    assert xgb.train is not original
    gitrun.xgboost.autolog(disable=True)
    assert xgb.train is original
    xgb.train({}, xgb.DMatrix(X, y), 2)
    assert runs_of() == []
