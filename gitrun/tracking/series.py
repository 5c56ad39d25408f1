"""Metric series for charts: summaries and downsampled views of long series.

A chart is a few hundred pixels wide; a series may hold millions of points.
:func:`series_view` keeps, for each of ``buckets`` equal slices of the visible x
range, the first, last, lowest and highest point (the M4 method: the line drawn
through them covers exactly the pixels the full series would), so a 1M-point
series is drawn from at most ``4 * buckets`` points and zooming in asks for the
points of the new range.  The raw series stays available
(``Client.get_metric_history``, :func:`csv_lines`).

Needs numpy (the ``ui`` extra), imported on first use.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from gitrun.core.git.objects import Oid
from gitrun.errors import GitrunError, InvalidParameterValue
from gitrun.tracking.store import TrackingStore

if TYPE_CHECKING:
    import numpy as np

XAxis = Literal["step", "time", "relative"]
X_AXES: tuple[XAxis, ...] = ("step", "time", "relative")
MAX_BUCKETS = 10_000
_CACHE_POINTS = 20_000_000  # ~480 MB of columns at most, across series


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:  # pragma: no cover - numpy comes with the ui extra
        raise GitrunError("charts of metric series need numpy: pip install 'gitrun[ui]'") from None
    return numpy


@dataclass(frozen=True)
class Columns:
    """A whole series as numpy arrays, sorted by step (stable: logging order among equal steps)."""

    steps: np.ndarray
    timestamps: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)


class _ColumnCache:
    """Decoded series by content address (the series' git tree), least recently used out."""

    def __init__(self, capacity: int) -> None:
        self._items: OrderedDict[Oid, Columns] = OrderedDict()
        self._points = 0
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, oid: Oid) -> Columns | None:
        with self._lock:
            found = self._items.get(oid)
            if found is not None:
                self._items.move_to_end(oid)
            return found

    def put(self, oid: Oid, columns: Columns) -> None:
        with self._lock:
            if oid in self._items or len(columns) > self._capacity:
                return
            self._items[oid] = columns
            self._points += len(columns)
            while self._points > self._capacity:
                _, dropped = self._items.popitem(last=False)
                self._points -= len(dropped)


_cache = _ColumnCache(_CACHE_POINTS)


def read_columns(store: TrackingStore, run_id: str, key: str) -> Columns:
    """A run's whole series of ``key`` as sorted columns (empty when not logged)."""
    np = _numpy()
    oid = store.metric_series_oid(run_id, key)
    if oid is not None:
        cached = _cache.get(oid)
        if cached is not None:
            return cached
    chunks = store.metric_chunks(run_id, key, oid) if oid is not None else []

    def column(part: int, dtype: Any) -> Any:
        return np.concatenate([np.frombuffer(c[part], dtype=dtype) for c in chunks] or [np.zeros(0, dtype)])

    steps, stamps, values = column(0, np.int64), column(1, np.int64), column(2, np.float64)
    if len(steps) > 1 and bool(np.any(steps[1:] < steps[:-1])):
        order = np.argsort(steps, kind="stable")
        steps, stamps, values = steps[order], stamps[order], values[order]
    columns = Columns(steps, stamps, values)
    if oid is not None:
        _cache.put(oid, columns)
    return columns


@dataclass(frozen=True)
class MetricSummary:
    """One metric of a run: its latest point and its extremes."""

    key: str
    points: int
    last_value: float
    last_step: int
    min_value: float | None
    min_step: int | None
    max_value: float | None
    max_step: int | None


def metric_summary(store: TrackingStore, run_id: str, key: str) -> MetricSummary | None:
    """Latest value and the steps of the lowest and highest (non-NaN) values."""
    np = _numpy()
    cols = read_columns(store, run_id, key)
    if not len(cols):
        return None
    finite = ~np.isnan(cols.values)
    lo = hi = None
    if finite.any():
        where = np.flatnonzero(finite)
        lo = int(where[np.argmin(cols.values[finite])])
        hi = int(where[np.argmax(cols.values[finite])])
    # "Latest" as MLflow defines it: the highest step, then the latest timestamp.
    last = int(np.lexsort((cols.timestamps, cols.steps))[-1])
    return MetricSummary(
        key,
        len(cols),
        float(cols.values[last]),
        int(cols.steps[last]),
        float(cols.values[lo]) if lo is not None else None,
        int(cols.steps[lo]) if lo is not None else None,
        float(cols.values[hi]) if hi is not None else None,
        int(cols.steps[hi]) if hi is not None else None,
    )


@dataclass(frozen=True)
class SeriesView:
    """The points of a series to draw: x ascending, y with None for NaN and infinities.

    ``total`` is the series' length; ``in_range`` how many points lie in the asked x
    range; ``downsampled`` whether ``x``/``y`` hold fewer than those.
    """

    run_id: str
    key: str
    x_axis: XAxis
    x: list[float]
    y: list[float | None]
    total: int
    in_range: int
    downsampled: bool
    x_min: float | None
    x_max: float | None


def _x_values(cols: Columns, axis: XAxis, start_time: int) -> Any:
    np = _numpy()
    if axis == "step":
        return cols.steps.astype(np.float64)
    if axis == "time":
        return cols.timestamps / 1000.0
    return (cols.timestamps - start_time) / 1000.0


def m4_indices(x: np.ndarray, y: np.ndarray, buckets: int) -> Any:
    """Indices of the points to keep from ``x`` (ascending) and ``y``: per bucket of equal
    x width, its first, last, lowest and highest point (NaN never chosen as an extreme)."""
    np = _numpy()
    n = len(x)
    if n <= 4 * buckets:
        return np.arange(n)
    span = float(x[-1] - x[0])
    if span <= 0 or not math.isfinite(span):
        bucket = (np.arange(n) * buckets) // n
    else:
        bucket = np.minimum(((x - x[0]) / span * buckets).astype(np.int64), buckets - 1)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], n] - 1
    keep = [starts, ends]
    sizes = ends - starts + 1
    for reduce in (np.fmin, np.fmax):
        extreme = reduce.reduceat(y, starts)
        hits = np.flatnonzero(y == np.repeat(extreme, sizes))
        if len(hits):
            which = bucket[hits]
            keep.append(hits[np.r_[True, which[1:] != which[:-1]]])
    return np.unique(np.concatenate(keep))


def _json_floats(values: np.ndarray) -> list[float | None]:
    return [v if math.isfinite(v) else None for v in values.tolist()]


def series_view(
    store: TrackingStore,
    run_id: str,
    key: str,
    *,
    x_axis: XAxis = "step",
    buckets: int = 1000,
    x_range: tuple[float, float] | None = None,
    start_time: int | None = None,
) -> SeriesView:
    """The points to draw of a run's series, at most ``4 * buckets`` of them.

    Args:
        x_axis: ``step``, ``time`` (wall clock, seconds since the epoch) or
            ``relative`` (seconds since the run started).
        buckets: About the chart's width in pixels (1..10000).
        x_range: Only points with ``lo <= x <= hi`` (zooming in); None for all.
        start_time: The run's start in ms, for ``relative`` (read from the run if None).

    Raises:
        InvalidParameterValue: an unknown axis, a bucket count out of bounds, a bad range.
    """
    np = _numpy()
    if x_axis not in X_AXES:
        raise InvalidParameterValue(f"unknown x axis {x_axis!r}: use {', '.join(X_AXES)}")
    if not 1 <= buckets <= MAX_BUCKETS:
        raise InvalidParameterValue(f"buckets must be between 1 and {MAX_BUCKETS}, got {buckets}")
    if x_range is not None and not x_range[0] <= x_range[1]:
        raise InvalidParameterValue(f"empty x range {x_range[0]}..{x_range[1]}")
    cols = read_columns(store, run_id, key)
    if x_axis == "relative" and start_time is None:
        start_time = store.get_run(run_id).info.start_time
    x = _x_values(cols, x_axis, start_time or 0)
    y = cols.values
    if x_axis != "step" and len(x) > 1 and bool(np.any(x[1:] < x[:-1])):
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
    x_min = float(x[0]) if len(x) else None
    x_max = float(x[-1]) if len(x) else None
    if x_range is not None:
        lo = int(np.searchsorted(x, x_range[0], side="left"))
        hi = int(np.searchsorted(x, x_range[1], side="right"))
        x, y = x[lo:hi], y[lo:hi]
    keep = m4_indices(x, y, buckets)
    return SeriesView(
        run_id,
        key,
        x_axis,
        x[keep].tolist(),
        _json_floats(y[keep]),
        len(cols),
        len(x),
        len(keep) < len(x),
        x_min,
        x_max,
    )


def csv_lines(store: TrackingStore, run_id: str, key: str) -> Iterator[str]:
    """The raw series as CSV text (``step,timestamp,value``), in logging order, in pieces."""
    yield "step,timestamp,value\n"
    for steps, stamps, values in store.metric_chunks(run_id, key):
        yield "".join(f"{s},{t},{v!r}\n" for s, t, v in zip(steps, stamps, values))
