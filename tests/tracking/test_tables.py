"""Run tables (gitrun.tracking.tables): pages at offsets, counts, varying columns,
nested runs and their best child, groups -- all meaning what search_runs means."""

from __future__ import annotations

from pathlib import Path

import pytest

import gitrun
from gitrun.errors import InvalidParameterValue
from gitrun.tracking import tables
from gitrun.tracking.client import Client
from gitrun.tracking.tables import RunTableQuery, SortKey


@pytest.fixture
def store(in_repo: Path):  # type: ignore[no-untyped-def]
    client = Client()
    exp = client.create_experiment("t")
    gitrun.set_experiment(experiment_id=exp)
    with gitrun.start_run(run_name="parent") as parent:
        for i, lr in enumerate((0.3, 0.1, 0.2)):
            with gitrun.start_run(run_name=f"child-{i}", nested=True):
                gitrun.log_params({"lr": lr, "opt": "adam"})
                gitrun.log_metric("loss", lr * 10)
    for i in range(5):
        with gitrun.start_run(run_name=f"run-{i}"):
            gitrun.log_params({"lr": 0.5, "opt": "sgd" if i % 2 else "adam", "i": i})
            gitrun.log_metric("loss", float(i))
            if i == 4:
                gitrun.log_metric("loss", float("nan"), step=1)
    gitrun.flush()
    store = client.store
    store.test_experiment = exp  # type: ignore[attr-defined]
    store.test_parent = parent.info.run_id  # type: ignore[attr-defined]
    return store


def names(page: tables.TablePage) -> list[str]:
    return [r.info.run_name for r in page.runs]


def test_pages_at_offsets_match_search_runs_order(store) -> None:  # type: ignore[no-untyped-def]
    query = RunTableQuery((store.test_experiment,), "params.opt = 'adam'", (SortKey("metrics.loss", True),))
    whole = tables.run_page(store, query, 0, 100)
    # Ties (2.0) go to the newer run, NaN after every value, as in search_runs.
    assert names(whole) == ["run-0", "child-1", "run-2", "child-2", "child-0", "run-4"]
    expected = [
        r.info.run_name
        for r in gitrun.MlflowClient().search_runs(
            [store.test_experiment], "params.opt = 'adam'", order_by=["metrics.loss ASC"]
        )
    ]
    assert names(whole) == expected
    assert names(tables.run_page(store, query, 2, 2)) == ["run-2", "child-2"]
    assert tables.run_page(store, query, 50, 10).runs == []
    assert tables.count_runs(store, query) == 6


def test_top_level_only_and_children_counts(store) -> None:  # type: ignore[no-untyped-def]
    query = RunTableQuery((store.test_experiment,), top_level=True)
    page = tables.run_page(store, query, 0, 100)
    assert sorted(names(page)) == ["parent", "run-0", "run-1", "run-2", "run-3", "run-4"]
    assert page.children == {store.test_parent: 3}
    assert tables.count_runs(store, query) == 6
    assert tables.count_runs(store, RunTableQuery((store.test_experiment,))) == 9


def test_best_child_either_way(store) -> None:  # type: ignore[no-untyped-def]
    query = RunTableQuery((store.test_experiment,))
    low = tables.best_children(store, query, [store.test_parent], "loss", True)
    high = tables.best_children(store, query, [store.test_parent], "loss", False)
    assert low[store.test_parent].info.run_name == "child-1"
    assert high[store.test_parent].info.run_name == "child-0"
    assert tables.best_children(store, query, [store.test_parent], "missing", True) == {}


def test_columns_that_vary(store) -> None:  # type: ignore[no-untyped-def]
    summary = tables.column_summary(store, RunTableQuery((store.test_experiment,), "params.lr = '0.5'"))
    assert summary.sampled == 5
    params = {k.key: (k.runs, k.distinct) for k in summary.params}
    assert params == {"i": (5, 5), "lr": (5, 1), "opt": (5, 2)}
    assert set(summary.varying()) >= {"params.i", "params.opt", "metrics.loss"}
    assert "params.lr" not in summary.varying()
    sampled = tables.column_summary(
        store, RunTableQuery((store.test_experiment,), "params.lr = '0.5'"), sample=2
    )
    assert sampled.sampled == 2


def test_groups_mean_and_std_skip_nan(store) -> None:  # type: ignore[no-untyped-def]
    groups = tables.group_runs(store, RunTableQuery((store.test_experiment,)), "opt", ["loss"])
    by_value = {g.value: g for g in groups}
    assert [g.value for g in groups] == ["adam", "sgd", None]
    assert by_value["adam"].runs == 6 and by_value[None].runs == 1  # the parent has no opt
    n, mean, std, low, high = by_value["sgd"].metrics["loss"]
    assert (n, mean, std, low, high) == (2, 2.0, 1.0, 1.0, 3.0)
    n, mean, _, low, high = by_value["adam"].metrics["loss"]
    assert n == 5 and low == 0.0 and high == pytest.approx(3.0)  # run-4's latest loss is NaN: skipped
    assert mean == pytest.approx((0 + 2 + 3 + 1 + 2) / 5)


def test_experiment_activity(store) -> None:  # type: ignore[no-untyped-def]
    found = tables.experiment_activity(store)
    mine = found[store.test_experiment]
    assert mine.runs == 9 and mine.running == 0
    assert mine.last_end_time is not None and mine.last_start_time is not None


def test_filter_problems_give_positions() -> None:
    problem = tables.check_filter("metrics.loss >> 1")
    assert problem is not None and problem.position == 13 and "'>>'" in problem.message
    assert "position" not in problem.message
    assert tables.check_filter("metrics.loss > 1 and params.x = 'a'") is None


def test_bad_queries_are_refused(store) -> None:  # type: ignore[no-untyped-def]
    exp = (store.test_experiment,)
    with pytest.raises(InvalidParameterValue, match="cannot sort"):
        tables.run_page(store, RunTableQuery(exp, sort=(SortKey("duration"),)), 0, 10)
    with pytest.raises(InvalidParameterValue, match="attribute"):
        tables.run_page(store, RunTableQuery(exp, sort=(SortKey("attributes.secret"),)), 0, 10)
    with pytest.raises(InvalidParameterValue, match="view"):
        tables.count_runs(store, RunTableQuery(exp, view="some"))
    with pytest.raises(InvalidParameterValue, match="limit"):
        tables.run_page(store, RunTableQuery(exp), 0, 0)
    with pytest.raises(InvalidParameterValue, match="offset"):
        tables.run_page(store, RunTableQuery(exp), -1, 10)
