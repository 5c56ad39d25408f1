"""Metric series of many runs at once: summaries (min, max, the step of the best value),
long-format rows (run, key, step, timestamp, value) and one pandas DataFrame, and
downsampling for small plots.

"Did it converge?" needs more than the last value: where the minimum was, how far the
last value is from it, the shape of the curve.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from gitrun.tracking import entities as ent
from gitrun.tracking.client import Client


@dataclass(frozen=True)
class SeriesSummary:
    """One metric series of one run."""

    key: str
    points: int
    last: float
    last_step: int
    minimum: float
    min_step: int
    maximum: float
    max_step: int

    def best(self, *, ascending: bool) -> tuple[float, int]:
        """The best value and its step: the minimum when lower is better."""
        return (self.minimum, self.min_step) if ascending else (self.maximum, self.max_step)


def summarize(key: str, history: Sequence[ent.Metric]) -> SeriesSummary | None:
    """Min, max (first step reaching each; NaN ignored) and the last point logged by
    step order (MLflow's latest value: the largest step, then timestamp)."""
    if not history:
        return None
    last = max(history, key=lambda m: (m.step, m.timestamp))
    finite = [m for m in history if not math.isnan(m.value)]
    if not finite:
        return SeriesSummary(
            key, len(history), last.value, last.step, math.nan, last.step, math.nan, last.step
        )
    low = min(finite, key=lambda m: (m.value, m.step))
    high = max(finite, key=lambda m: (m.value, -m.step))
    return SeriesSummary(key, len(history), last.value, last.step, low.value, low.step, high.value, high.step)


def lower_is_better(key: str) -> bool:
    """A guess from the name, for showing a "best" step: losses and errors go down."""
    name = key.lower()
    return any(word in name for word in ("loss", "error", "err", "mse", "mae", "rmse", "perplexity", "time"))


def history(client: Client, run: ent.Run, key: str) -> list[ent.Metric]:
    """A run's series; for a RUNNING run also the points its process logged but has not
    committed yet (read from its journal), so that watching a live run is not seconds late."""
    if run.info.status != ent.RunStatus.RUNNING:
        return client.get_metric_history(run.info.run_id, key)
    from gitrun.core.records.live import series_with_live_points

    client.store.runs.flush()
    found = series_with_live_points(client.store.records, run.info.run_id, key)
    return ent.Metric.many(key, found.values, found.timestamps, found.steps, run.info.run_id)


def summaries(client: Client, run_id: str, keys: Iterable[str]) -> dict[str, SeriesSummary]:
    out = {}
    run = client.get_run(run_id)
    for key in keys:
        found = summarize(key, history(client, run, key))
        if found is not None:
            out[key] = found
    return out


@dataclass(frozen=True)
class Point:
    """One point of one run's series, for long-format output."""

    run_id: str
    run_name: str
    key: str
    step: int
    timestamp: int
    value: float


def long_rows(client: Client, runs: Sequence[ent.Run], keys: Sequence[str]) -> Iterator[Point]:
    """Every point of ``keys`` (each run's own metrics when empty) of every run, in long
    format: run after run, key after key, points in logged order."""
    for run in runs:
        wanted = list(keys) or sorted(run.data.metrics)
        for key in wanted:
            for m in history(client, run, key):
                yield Point(run.info.run_id, run.info.run_name, key, m.step, m.timestamp, m.value)


def metric_histories(
    run_ids: Sequence[str] | str, keys: Sequence[str] | str | None = None, *, client: Client | None = None
) -> Any:
    """The metric series of several runs as one pandas DataFrame in long format.

    Columns: ``run_id``, ``run_name``, ``key``, ``step``, ``timestamp`` (UTC datetimes),
    ``value``.  Pivot it for plotting, e.g.
    ``df[df.key == "val_loss"].pivot(index="step", columns="run_name", values="value")``.

    Args:
        run_ids: One run id or several.
        keys: Metric keys (one or several); None for every metric of each run.
        client: The client to read with (default: the current tracking URI).
    """
    try:
        import pandas as pd
    except ImportError:
        from gitrun.errors import InvalidParameterValue

        raise InvalidParameterValue(
            "metric_histories returns a pandas DataFrame: pip install pandas"
        ) from None
    client = client or Client()
    ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
    wanted = [keys] if isinstance(keys, str) else list(keys or [])
    runs = [client.get_run(r) for r in ids]
    rows = list(long_rows(client, runs, wanted))
    frame = pd.DataFrame(
        {
            "run_id": [p.run_id for p in rows],
            "run_name": [p.run_name for p in rows],
            "key": [p.key for p in rows],
            "step": pd.Series([p.step for p in rows], dtype="int64"),
            "timestamp": pd.to_datetime([p.timestamp for p in rows], unit="ms", utc=True),
            "value": pd.Series([p.value for p in rows], dtype="float64"),
        }
    )
    return frame


def downsample(
    steps: Sequence[float], values: Sequence[float], limit: int
) -> tuple[list[float], list[float]]:
    """At most ``limit`` points that keep a long curve's shape: each bucket's first,
    minimum and maximum points (so spikes survive), in step order."""
    if len(values) <= limit or limit < 3:
        return list(steps), list(values)
    buckets = max(1, limit // 3)
    size = len(values) / buckets
    keep: set[int] = {0, len(values) - 1}
    for b in range(buckets):
        start, end = int(b * size), min(len(values), int((b + 1) * size))
        if start >= end:
            continue
        idx = range(start, end)
        finite = [i for i in idx if not math.isnan(values[i])]
        keep.add(start)
        if finite:
            keep.add(min(finite, key=lambda i: values[i]))
            keep.add(max(finite, key=lambda i: values[i]))
    order = sorted(keep)
    return [steps[i] for i in order], [values[i] for i in order]


@dataclass(frozen=True)
class Curve:
    """One series ready to draw: x values (steps, or seconds since the run started)."""

    run_id: str
    run_name: str
    key: str
    x: list[float]
    y: list[float]


def curves(
    client: Client, runs: Sequence[ent.Run], keys: Sequence[str], *, x_axis: str = "step", limit: int = 2000
) -> list[Curve]:
    """The series of ``keys`` of each run (those it has), downsampled to ``limit``
    points; ``x_axis`` is ``step`` or ``time`` (seconds since the run started)."""
    out = []
    for run in runs:
        for key in keys:
            points = history(client, run, key)
            if not points:
                continue
            if x_axis == "time":
                ordered = sorted(points, key=lambda m: m.timestamp)
                xs = [(m.timestamp - run.info.start_time) / 1000 for m in ordered]
            else:
                ordered = sorted(points, key=lambda m: (m.step, m.timestamp))
                xs = [float(m.step) for m in ordered]
            xs_down, ys = downsample(xs, [m.value for m in ordered], limit)
            out.append(Curve(run.info.run_id, run.info.run_name, key, list(xs_down), ys))
    return out
