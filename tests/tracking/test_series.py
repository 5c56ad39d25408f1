"""Series for charts (gitrun.tracking.series): M4 downsampling keeps every extreme,
zooming selects a range, summaries find the steps of the extremes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import gitrun
from gitrun.errors import InvalidParameterValue
from gitrun.tracking import series
from gitrun.tracking.client import Client
from gitrun.tracking.entities import Metric


def log_series(client: Client, run_id: str, key: str, values: list[float], start_ms: int = 1_000_000) -> None:
    points = [Metric(key, v, start_ms + 10 * i, i) for i, v in enumerate(values)]
    for i in range(0, len(points), 10_000):
        client.log_batch(run_id, metrics=points[i : i + 10_000])
    client.flush()


def test_m4_keeps_first_last_min_max_of_each_bucket() -> None:
    x = np.arange(1000, dtype=float)
    y = np.sin(x / 37.0) + (x == 503) * 5 - (x == 777) * 4
    keep = series.m4_indices(x, y, 10)
    assert len(keep) <= 40
    assert {0, 999, 503, 777} <= set(keep.tolist())
    for b in range(10):
        part = y[b * 100 : (b + 1) * 100]
        kept = y[keep[(keep >= b * 100) & (keep < (b + 1) * 100)]]
        assert kept.max() == part.max() and kept.min() == part.min()


def test_m4_never_picks_nan_as_an_extreme_and_keeps_short_series_whole() -> None:
    x = np.arange(400, dtype=float)
    y = np.where(x % 2 == 0, np.nan, x)
    keep = series.m4_indices(x, y, 10)
    assert 399 in keep.tolist() and 1 in keep.tolist()
    assert series.m4_indices(x[:40], y[:40], 10).tolist() == list(range(40))


def test_a_long_series_is_downsampled_and_zoom_reads_the_range(in_repo: Path) -> None:
    client = Client()
    run = client.create_run("0").info.run_id
    n = 200_000
    values = [math.sin(i / 1000) for i in range(n)]
    values[123_456] = 42.0
    log_series(client, run, "loss", values)
    view = series.series_view(client.store, run, "loss", buckets=500)
    assert view.total == n and view.in_range == n and view.downsampled
    assert len(view.x) <= 2000 and view.x[0] == 0 and view.x[-1] == n - 1
    assert 42.0 in view.y and view.x[view.y.index(42.0)] == 123_456
    zoom = series.series_view(client.store, run, "loss", buckets=500, x_range=(1000, 1999))
    assert zoom.in_range == 1000 and zoom.x[0] == 1000 and zoom.x[-1] == 1999
    wall = series.series_view(
        client.store, run, "loss", x_axis="time", buckets=100, x_range=(1000.0, 1000.05)
    )
    assert wall.x == [1000.0, 1000.01, 1000.02, 1000.03, 1000.04, 1000.05]
    relative = series.series_view(
        client.store, run, "loss", x_axis="relative", buckets=100, start_time=999_000
    )
    assert relative.x[0] == pytest.approx(1.0)


def test_summary_and_non_finite_values(in_repo: Path) -> None:
    client = Client()
    run = client.create_run("0").info.run_id
    log_series(client, run, "acc", [0.5, float("nan"), 0.9, float("inf"), 0.7])
    summary = series.metric_summary(client.store, run, "acc")
    assert summary is not None
    assert (summary.points, summary.last_step, summary.last_value) == (5, 4, 0.7)
    assert (summary.min_value, summary.min_step) == (0.5, 0)
    assert (summary.max_value, summary.max_step) == (math.inf, 3)
    view = series.series_view(client.store, run, "acc")
    assert view.y == [0.5, None, 0.9, None, 0.7]  # JSON has no NaN or infinity
    assert series.metric_summary(client.store, run, "missing") is None
    assert series.series_view(client.store, run, "missing").x == []


def test_unsorted_steps_are_shown_in_step_order(in_repo: Path) -> None:
    with gitrun.start_run() as active:
        for step in (3, 1, 2, 0):
            gitrun.log_metric("m", float(step * 10), step=step)
    view = series.series_view(Client().store, active.info.run_id, "m")
    assert view.x == [0, 1, 2, 3] and view.y == [0, 10, 20, 30]
    lines = list(series.csv_lines(Client().store, active.info.run_id, "m"))
    assert "".join(lines).splitlines()[1].startswith("3,")  # the raw series keeps logging order


def test_bad_arguments(in_repo: Path) -> None:
    client = Client()
    run = client.create_run("0").info.run_id
    for kwargs in ({"x_axis": "epoch"}, {"buckets": 0}, {"buckets": 10**6}, {"x_range": (5.0, 1.0)}):
        with pytest.raises(InvalidParameterValue):
            series.series_view(client.store, run, "m", **kwargs)  # type: ignore[arg-type]
