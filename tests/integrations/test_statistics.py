"""statsmodels, pmdarima and CatBoost flavors (and statsmodels autologging) on real fits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import gitrun
from gitrun import MlflowClient
from tests.integrations.conftest import object_count, runs_of

pytestmark = pytest.mark.usefixtures("in_repo")

# MLflow's statsmodels metrics (its `_autolog_metric_allowlist`, mlflow/statsmodels.py, 3.x)
# that an OLS result has.
OLS_METRICS = {
    "aic",
    "bic",
    "centered_tss",
    "condition_number",
    "df_model",
    "df_resid",
    "ess",
    "f_pvalue",
    "fvalue",
    "llf",
    "mse_model",
    "mse_resid",
    "mse_total",
    "rsquared",
    "rsquared_adj",
    "scale",
    "ssr",
    "uncentered_tss",
}


def ols_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(0)
    X = np.column_stack([np.ones(50), rng.rand(50, 2)])
    return X, X @ np.array([1.0, 2.0, -1.0]) + rng.normal(0, 0.1, 50)


def test_statsmodels_autolog_logs_what_mlflow_logs() -> None:
    sm = pytest.importorskip("statsmodels.api")
    gitrun.statsmodels.autolog()
    X, y = ols_data()
    results = sm.OLS(y, X).fit()
    (run,) = runs_of()
    assert run.data.tags["mlflow.autologging"] == "statsmodels"
    assert set(run.data.metrics) == OLS_METRICS
    assert run.data.metrics["rsquared"] == pytest.approx(results.rsquared)
    # fit(method='pinv', cov_type='nonrobust', cov_kwds=None, use_t=None, **kwargs)
    assert run.data.params == {"method": "pinv", "cov_type": "nonrobust", "cov_kwds": "None", "use_t": "None"}
    names = {f.path for f in MlflowClient().list_artifacts(run.info.run_id)}
    assert names == {"model", "model_summary.txt"}
    summary = gitrun.artifacts.load_text(f"runs:/{run.info.run_id}/model_summary.txt")
    assert "OLS Regression Results" in summary
    loaded = gitrun.statsmodels.load_model(f"runs:/{run.info.run_id}/model")
    np.testing.assert_array_equal(loaded.predict(X), results.predict(X))
    np.testing.assert_array_equal(
        gitrun.pyfunc.load_model(f"runs:/{run.info.run_id}/model").predict(X), results.predict(X)
    )


def test_statsmodels_identical_results_are_stored_once(in_repo: Path) -> None:
    sm = pytest.importorskip("statsmodels.api")
    X, y = ols_data()
    results = sm.OLS(y, X).fit()
    with gitrun.start_run():
        gitrun.statsmodels.log_model(results, "model")
    before = object_count(in_repo)
    with gitrun.start_run():
        gitrun.statsmodels.log_model(sm.OLS(y, X).fit(), "model")
    assert object_count(in_repo) == before


def test_statsmodels_time_series_fit_logs_once() -> None:
    tsa = pytest.importorskip("statsmodels.tsa.arima.model")
    gitrun.statsmodels.autolog()
    series = np.sin(np.arange(60) / 5.0) + np.random.RandomState(1).normal(0, 0.05, 60)
    tsa.ARIMA(series, order=(1, 0, 0)).fit()
    (run,) = runs_of()  # the inner fits of the state-space model did not log runs of their own
    assert {"aic", "bic", "llf"} <= set(run.data.metrics)


def test_pmdarima_round_trip() -> None:
    pm = pytest.importorskip("pmdarima")
    series = np.sin(np.arange(80) / 5.0) + np.random.RandomState(2).normal(0, 0.05, 80)
    model = pm.ARIMA(order=(1, 0, 0)).fit(series)
    with gitrun.start_run():
        info = gitrun.pmdarima.log_model(model, "arima")
    loaded = gitrun.pmdarima.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict(n_periods=5), model.predict(n_periods=5))
    import pandas as pd

    pyfunc = gitrun.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(
        pyfunc.predict(pd.DataFrame({"n_periods": [5]})), model.predict(n_periods=5)
    )
    assert any(r.startswith("pmdarima==") for r in info.pip_requirements)


def test_catboost_round_trip_and_dedup(in_repo: Path) -> None:
    catboost = pytest.importorskip("catboost")
    rng = np.random.RandomState(0)
    X = rng.rand(100, 3)
    y = (X[:, 0] > 0.5).astype(int)
    model = catboost.CatBoostClassifier(iterations=5, verbose=0, random_seed=0, allow_writing_files=False)
    model.fit(X, y)
    with gitrun.start_run():
        info = gitrun.catboost.log_model(model, "model")
    before = object_count(in_repo)
    with gitrun.start_run():
        gitrun.catboost.log_model(model, "model")
    assert object_count(in_repo) == before
    loaded = gitrun.catboost.load_model(info.model_uri)
    assert type(loaded) is catboost.CatBoostClassifier
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert info.flavors["catboost"]["model_type"] == "CatBoostClassifier"


def test_prophet_round_trip(in_repo: Path) -> None:
    prophet = pytest.importorskip("prophet")
    import pandas as pd

    frame = pd.DataFrame({"ds": pd.date_range("2024-01-01", periods=40), "y": np.sin(np.arange(40) / 5.0)})
    model = prophet.Prophet(daily_seasonality=False, weekly_seasonality=False, yearly_seasonality=False)
    model.fit(frame)
    with gitrun.start_run():
        info = gitrun.prophet.log_model(model, "forecast")
    before = object_count(in_repo)
    with gitrun.start_run():
        gitrun.prophet.log_model(model, "forecast")
    assert object_count(in_repo) == before  # Prophet's JSON is deterministic: stored once
    future = model.make_future_dataframe(periods=5)
    loaded = gitrun.prophet.load_model(info.model_uri)
    np.testing.assert_array_equal(loaded.predict(future)["yhat"], model.predict(future)["yhat"])
    pyfunc = gitrun.pyfunc.load_model(info.model_uri)
    np.testing.assert_array_equal(pyfunc.predict(future)["yhat"], model.predict(future)["yhat"])


def test_spacy_round_trip() -> None:
    spacy = pytest.importorskip("spacy")
    import pandas as pd
    from spacy.training import Example

    nlp = spacy.blank("en")
    textcat = nlp.add_pipe("textcat")
    for label in ("POS", "NEG"):
        textcat.add_label(label)
    data = [("good great fine", {"POS": 1.0, "NEG": 0.0}), ("bad awful poor", {"POS": 0.0, "NEG": 1.0})]
    examples = [Example.from_dict(nlp.make_doc(t), {"cats": c}) for t, c in data]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(5):
        nlp.update(examples, sgd=optimizer)
    with gitrun.start_run():
        info = gitrun.spacy.log_model(nlp, "textcat")
    loaded = gitrun.spacy.load_model(info.model_uri)
    assert loaded.pipe_names == ["textcat"]
    assert loaded("good fine").cats == pytest.approx(nlp("good fine").cats)
    scores = gitrun.pyfunc.load_model(info.model_uri).predict(pd.DataFrame({"text": ["good fine", "bad"]}))
    assert scores["predictions"][0] == pytest.approx(nlp("good fine").cats)
