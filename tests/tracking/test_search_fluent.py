"""gitrun.search_runs (DataFrame and list), search_experiments, run-id prefixes, and the tutorial."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

import gitrun
from gitrun import MlflowClient, ViewType
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from gitrun.tracking import search
from gitrun.tracking.session import open_store

pytestmark = pytest.mark.usefixtures("in_repo")

INFO_COLUMNS = ["run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time"]


def _make_runs() -> dict[str, str]:
    gitrun.set_experiment("frames")
    ids = {}
    with gitrun.start_run(run_name="one") as run:
        gitrun.log_params({"model": "cnn", "lr": 0.1})
        gitrun.log_metric("acc", 0.9)
        ids["one"] = run.info.run_id
    with gitrun.start_run(run_name="two") as run:
        gitrun.log_param("model", "mlp")
        gitrun.log_metric("loss", math.nan)
        gitrun.set_tag("team", "red")
        ids["two"] = run.info.run_id
    return ids


def test_dataframe_has_mlflow_columns_and_missing_values() -> None:
    ids = _make_runs()
    df = gitrun.search_runs(order_by=["attributes.run_name"])
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns[:6]) == INFO_COLUMNS
    rest = list(df.columns[6:])
    metrics = [c for c in rest if c.startswith("metrics.")]
    params = [c for c in rest if c.startswith("params.")]
    tags = [c for c in rest if c.startswith("tags.")]
    assert rest == metrics + params + tags  # grouped in MLflow's order
    assert set(metrics) == {"metrics.acc", "metrics.loss"}
    assert set(params) == {"params.model", "params.lr"}
    assert {"tags.team", "tags.mlflow.runName"} <= set(tags)
    assert list(df["run_id"]) == [ids["one"], ids["two"]]
    assert df.loc[0, "metrics.acc"] == 0.9 and math.isnan(df.loc[1, "metrics.acc"])
    assert math.isnan(df.loc[1, "metrics.loss"])
    assert df.loc[1, "params.lr"] is None and df.loc[0, "tags.team"] is None
    assert str(df["start_time"].dtype).startswith("datetime64") and df["start_time"].dt.tz is not None
    assert (df["status"] == "FINISHED").all()


def test_list_output_and_bad_format() -> None:
    ids = _make_runs()
    runs = gitrun.search_runs(filter_string="params.model = 'cnn'", output_format="list")
    assert [r.info.run_id for r in runs] == [ids["one"]]
    with pytest.raises(ValueError, match="Unsupported output format"):
        gitrun.search_runs(output_format="json")


def test_zero_runs_gives_the_info_columns_only() -> None:
    gitrun.set_experiment("empty")
    df = gitrun.search_runs()
    assert list(df.columns) == INFO_COLUMNS and len(df) == 0


def test_experiment_selection() -> None:
    ids = _make_runs()
    gitrun.set_experiment("other")
    with gitrun.start_run() as run:
        other = run.info.run_id
    # The active experiment by default.
    assert list(gitrun.search_runs()["run_id"]) == [other]
    with pytest.warns(UserWarning, match="Cannot retrieve experiment by name nope"):
        by_name = gitrun.search_runs(experiment_names=["frames", "nope"], output_format="list")
    assert {r.info.run_id for r in by_name} == set(ids.values())
    everything = gitrun.search_runs(search_all_experiments=True, output_format="list")
    assert {r.info.run_id for r in everything} == {*ids.values(), other}
    with pytest.raises(InvalidParameterValue, match="not both"):
        gitrun.search_runs(experiment_ids=["0"], experiment_names=["frames"])
    with pytest.warns(UserWarning):
        assert gitrun.search_runs(experiment_names=["nope"], output_format="list") == []


def test_fluent_search_collects_pages_until_max_results() -> None:
    client = MlflowClient()
    exp = client.create_experiment("many")
    for i in range(12):
        client.create_run(exp, start_time=i)
    search._PAGE_SIZE_PANDAS = 5  # type: ignore[misc]
    try:
        assert len(gitrun.search_runs([exp], output_format="list")) == 12
        assert len(gitrun.search_runs([exp], max_results=7, output_format="list")) == 7
    finally:
        search._PAGE_SIZE_PANDAS = 10_000  # type: ignore[misc]


def test_search_experiments_filter_order_and_view() -> None:
    client = MlflowClient()
    a = client.create_experiment("alpha", tags={"team": "red"})
    b = client.create_experiment("beta")
    c = client.create_experiment("gamma", tags={"team": "blue"})
    client.delete_experiment(c)
    names = [e.name for e in client.search_experiments()]
    assert names[:2] == ["beta", "alpha"] and "Default" in names and "gamma" not in names
    assert [e.name for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)] == ["gamma"]
    assert [e.name for e in client.search_experiments(filter_string="name LIKE 'a%'")] == ["alpha"]
    assert [e.name for e in client.search_experiments(filter_string="tags.team = 'red'")] == ["alpha"]
    assert [
        e.experiment_id
        for e in client.search_experiments(filter_string="tags.team IS NULL", order_by=["name DESC"])
    ] == [b, "0"]
    assert [e.name for e in client.search_experiments(order_by=["name"])] == ["Default", "alpha", "beta"]
    assert [
        e.experiment_id
        for e in client.search_experiments(
            view_type=ViewType.ALL, filter_string=f"experiment_id IN ('{a}', '{c}')", order_by=["name"]
        )
    ] == [a, c]
    page = client.search_experiments(max_results=1, order_by=["name"])
    assert [e.name for e in page] == ["Default"] and page.token
    nxt = client.search_experiments(max_results=5, order_by=["name"], page_token=page.token)
    assert [e.name for e in nxt] == ["alpha", "beta"] and nxt.token is None
    with pytest.raises(InvalidParameterValue, match="Invalid entity type 'params'"):
        client.search_experiments(filter_string="params.x = 'y'")
    with pytest.raises(InvalidParameterValue, match="Invalid order_by entity"):
        client.search_experiments(order_by=["tags.team"])
    assert [e.name for e in gitrun.search_experiments(filter_string="name = 'beta'")] == ["beta"]


def test_run_id_prefixes_resolve_like_git() -> None:
    client = MlflowClient()
    store = open_store(None)
    ids = [client.create_run("0").info.run_id for _ in range(40)]
    target = ids[0]
    assert search.resolve_run_id(store, target) == target
    unique = next(n for n in range(1, 33) if sum(i.startswith(target[:n]) for i in ids) == 1)
    assert search.resolve_run_id(store, target[:unique].upper()) == target
    ambiguous = next(i[:1] for i in ids if sum(j.startswith(i[:1]) for j in ids) > 1)
    with pytest.raises(InvalidParameterValue, match="ambiguous") as excinfo:
        search.resolve_run_id(store, ambiguous)
    assert all(i in excinfo.value.message for i in ids if i.startswith(ambiguous))
    with pytest.raises(ResourceDoesNotExist, match="no run id starts with"):
        search.resolve_run_id(store, "zzzz")
    client.delete_run(target)
    assert search.resolve_run_id(store, target[:unique]) == target  # deleted runs too


def test_tutorial_organizing_and_comparing_experiments(
    in_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tutorial's code with `gitrun` for `mlflow` (model loading left out)."""
    gitrun.set_experiment("sentiment-analysis-v1")
    for lr, acc, f1 in [(0.1, 0.80, 0.82), (0.01, 0.91, 0.88), (0.001, 0.87, 0.90)]:
        with gitrun.start_run(run_name=f"bert-base-lr{lr}"):
            gitrun.set_tag("model_family", "bert")
            gitrun.set_tag("researcher", "team_a")
            gitrun.log_param("learning_rate", lr)
            gitrun.log_metric("val_accuracy", acc)
            gitrun.log_metric("val_f1", f1)

    from gitrun.tracking import MlflowClient as TutorialClient

    client = TutorialClient()
    experiment = client.get_experiment_by_name("sentiment-analysis-v1")
    assert experiment is not None
    # Get all runs from experiment
    runs = client.search_runs(
        experiment_ids=[experiment.experiment_id],
        order_by=["metrics.val_accuracy DESC"],
        max_results=10,
    )
    # Compare top runs
    for run in runs:
        print(f"Run ID: {run.info.run_id}")
        print(f"Accuracy: {run.data.metrics['val_accuracy']:.4f}")
        print(f"LR: {run.data.params['learning_rate']}")
        print("---")
    out = capsys.readouterr().out
    assert out.index("Accuracy: 0.9100") < out.index("Accuracy: 0.8700") < out.index("Accuracy: 0.8000")
    assert "LR: 0.01" in out
    # Find best run by specific metric
    best_run = client.search_runs(
        experiment_ids=[experiment.experiment_id],
        filter_string="metrics.val_f1 > 0.85",
        order_by=["metrics.val_f1 DESC"],
        max_results=1,
    )[0]
    assert best_run.data.params["learning_rate"] == "0.001"
    model_uri = f"runs:/{best_run.info.run_id}/model"
    assert model_uri.startswith("runs:/")
