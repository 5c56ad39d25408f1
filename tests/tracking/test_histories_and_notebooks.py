"""Metric histories of many runs, leaderboard helpers, and what notebooks display."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import gitrun
from gitrun.tracking import entities as ent
from gitrun.tracking import histories, leaderboard


def _metric(value: float, step: int, ts: int = 0) -> ent.Metric:
    return ent.Metric("k", value, ts, step)


def test_summary_min_max_best_step_and_last_by_step() -> None:
    found = histories.summarize(
        "val_loss",
        [_metric(0.9, 0), _metric(0.4, 2), _metric(math.nan, 3), _metric(0.5, 1), _metric(0.45, 4)],
    )
    assert found is not None
    assert (found.points, found.last, found.last_step) == (5, 0.45, 4)
    assert (found.minimum, found.min_step, found.maximum, found.max_step) == (0.4, 2, 0.9, 0)
    assert found.best(ascending=True) == (0.4, 2) and found.best(ascending=False) == (0.9, 0)
    assert histories.summarize("k", []) is None
    assert histories.lower_is_better("val_loss") and not histories.lower_is_better("val_accuracy")


def test_downsample_keeps_spikes_and_ends() -> None:
    steps = [float(s) for s in range(10_000)]
    values = [0.0] * 10_000
    values[4321] = 99.0
    xs, ys = histories.downsample(steps, values, 300)
    assert len(xs) <= 300 and xs[0] == 0 and xs[-1] == 9999 and 99.0 in ys and xs == sorted(xs)
    assert histories.downsample([1.0, 2.0], [3.0, 4.0], 300) == ([1.0, 2.0], [3.0, 4.0])


def _run(run_id: str, start: int, parent: str | None = None, **metrics: float) -> ent.Run:
    tags = {"mlflow.parentRunId": parent} if parent else {}
    info = ent.RunInfo(run_id, run_id, "0", "u", "FINISHED", start, start + 1, f"runs:/{run_id}", "active")
    return ent.Run(info, ent.RunData(metrics=dict(metrics), tags=tags))


def test_tree_rows_nest_under_the_right_parent_and_survive_cycles() -> None:
    runs = [
        _run("c2", 5, "p1"),
        _run("p2", 4),
        _run("g1", 6, "c1"),
        _run("c1", 3, "p1"),
        _run("p1", 2),
        _run("orphan", 1, "gone"),
        _run("x", 7, "y"),
        _run("y", 8, "x"),
    ]
    drawn = [(r.run.info.run_id, leaderboard.tree_prefix(r)) for r in leaderboard.tree_rows(runs)]
    assert drawn[:6] == [("p2", ""), ("p1", ""), ("c1", "├ "), ("g1", "│ └ "), ("c2", "└ "), ("orphan", "")]
    assert {d[0] for d in drawn} == {r.info.run_id for r in runs} and len(drawn) == len(runs)


def test_best_children_and_groups() -> None:
    runs = [
        _run("a", 1, "p", acc=0.5),
        _run("b", 2, "p", acc=math.nan),
        _run("c", 3, "p", acc=0.7),
        _run("d", 4, "q"),
    ]
    best = {s.parent_id: s for s in leaderboard.best_children(runs, "acc", ascending=False)}
    assert best["p"].best is not None and best["p"].best.info.run_id == "c" and best["p"].children == 3
    assert best["q"].best is None
    low = leaderboard.best_children(runs, "acc", ascending=True)
    assert low[0].best is not None and low[0].best.info.run_id == "a"
    assert leaderboard.stats([1.0, 2.0, 3.0, math.nan]) == leaderboard.Stats(3, 2.0, 1.0, 1.0, 3.0)


def test_metric_histories_dataframe_and_html(in_repo: Path) -> None:
    pd = pytest.importorskip("pandas")
    with gitrun.start_run(run_name="a <b>") as a:
        for step in range(3):
            gitrun.log_metric("loss", 1.0 / (step + 1), step=step, timestamp=1000 + step)
        gitrun.log_param("lr", "<0.1>")
    with gitrun.start_run(run_name="second") as b:
        gitrun.log_metric("loss", 0.2, step=0, timestamp=2000)
        gitrun.log_metric("acc", 0.9, step=0, timestamp=2000)
    gitrun.flush()
    frame = gitrun.metric_histories([a.info.run_id, b.info.run_id], "loss")
    assert list(frame.columns) == ["run_id", "run_name", "key", "step", "timestamp", "value"]
    assert frame["value"].tolist() == [1.0, 0.5, 1 / 3, 0.2]
    assert frame["timestamp"].iloc[0] == pd.Timestamp(1000, unit="ms", tz="UTC")
    assert set(gitrun.metric_histories(b.info.run_id)["key"]) == {"loss", "acc"}

    run_html = gitrun.get_run(a.info.run_id)._repr_html_()
    assert (
        "a &lt;b&gt;" in run_html
        and "&lt;0.1&gt;" in run_html
        and "<b>" not in run_html.replace("<b>Run", "")
    )
    found = gitrun.search_runs(search_all_experiments=True, output_format="list")
    table = found._repr_html_()
    assert table.startswith("<div>2 runs</div><table") and "second" in table and "0.9" in table
    experiments = gitrun.search_experiments()
    assert "Default" in experiments._repr_html_()
    assert "<b>Experiment Default</b>" in gitrun.get_experiment("0")._repr_html_()
