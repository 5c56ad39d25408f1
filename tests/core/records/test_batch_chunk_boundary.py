"""A batch of points crossing the 5,000-point chunk boundary in one call.

Such a call must return (it runs holding the writer's lock: a loop that makes no
progress at a full chunk would hang the process) and store every point, in order,
in chunks of at most 5,000.  The timeout marks turn a hang into a failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitrun.core.git.repo import Repository
from gitrun.core.records import layout, series
from gitrun.core.records.store import RecordStore
from gitrun.core.records.writer import RecordWriter

INFO = {"run_id": "r1", "status": "RUNNING", "lifecycle_stage": "active", "start_time": 1, "end_time": None}


@pytest.fixture
def store(tmp_path: Path) -> RecordStore:
    return RecordStore(Repository.init_bare(str(tmp_path / "s.git")))


def stored_series(store: RecordStore, run_id: str, key: str) -> list[tuple[int, int, float]]:
    """The series as committed in git, chunk by chunk in name order."""
    tree = store.entry(f"{layout.run_dir(run_id)}/{layout.METRICS_DIR}/{layout.encode_key(key)}")
    assert tree is not None
    points: list[tuple[int, int, float]] = []
    for name, chunk in sorted(store.repo.read_tree(tree.oid).items()):
        steps, stamps, values = series.decode_chunk(store.repo.read_blob(chunk.oid), name)
        assert 0 < len(values) <= series.CHUNK_POINTS
        points += zip(steps, stamps, values)
    return points


def chunk_count(store: RecordStore, run_id: str, key: str) -> int:
    tree = store.entry(f"{layout.run_dir(run_id)}/{layout.METRICS_DIR}/{layout.encode_key(key)}")
    assert tree is not None
    return len(store.repo.read_tree(tree.oid))


@pytest.mark.timeout(60)
def test_one_series_crossing_two_boundaries_in_one_call(store: RecordStore) -> None:
    writer = RecordWriter(store, flush_interval=0)
    writer.create_run("r1", dict(INFO), {}, {})
    n = 2 * series.CHUNK_POINTS + 1234
    writer.log_metric_columns("r1", ["loss"] * n, [i * 0.5 for i in range(n)], list(range(n)), [7] * n)
    writer.flush()
    assert stored_series(store, "r1", "loss") == [(i, 7, i * 0.5) for i in range(n)]
    assert chunk_count(store, "r1", "loss") == 3
    writer.close()


def _log_points(writer: RecordWriter, run_id: str, points: list[tuple[str, float, int, int]]) -> None:
    """``(key, value, step, timestamp)`` points as the columns the writer takes."""
    keys, values, steps, timestamps = zip(*points)
    writer.log_metric_columns(run_id, keys, values, steps, timestamps)


@pytest.mark.timeout(60)
def test_a_batch_filling_a_partly_full_chunk_exactly_then_more(store: RecordStore) -> None:
    writer = RecordWriter(store, flush_interval=0)
    writer.create_run("r1", dict(INFO), {}, {})
    for i in range(1000):
        writer.log_metric("r1", "acc", float(i), i, 1)
    # Fills the open chunk to exactly 5,000 points; the next call must start a new one.
    _log_points(writer, "r1", [("acc", float(i), i, 1) for i in range(1000, series.CHUNK_POINTS)])
    _log_points(writer, "r1", [("acc", float(i), i, 1) for i in range(series.CHUNK_POINTS, 6500)])
    # Several keys in one batch, each crossing the boundary.
    batch = [(key, float(i), i, 2) for i in range(6500) for key in ("m1", "m2")]
    _log_points(writer, "r1", batch)
    writer.flush()
    assert stored_series(store, "r1", "acc") == [(i, 1, float(i)) for i in range(6500)]
    for key in ("m1", "m2"):
        assert stored_series(store, "r1", key) == [(i, 2, float(i)) for i in range(6500)]
        assert chunk_count(store, "r1", key) == 2
    latest = store.load_yaml(store.entry(f"{layout.run_dir('r1')}/{layout.METRICS_FILE}").oid, "m")  # type: ignore[union-attr]
    assert latest["acc"] == {"step": 6499, "timestamp": 1, "value": 6499.0}
    writer.close()


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("in_repo")
def test_log_batch_of_the_tracking_api_crossing_a_chunk(tmp_path: Path) -> None:
    from gitrun import MlflowClient
    from gitrun.entities import Metric

    client = MlflowClient()
    run_id = client.create_run("0").info.run_id
    n = series.CHUNK_POINTS + 10
    client.log_batch(run_id, metrics=[Metric("x", float(i), 1000 + i, i) for i in range(n)])
    history = client.get_metric_history(run_id, "x")
    assert [(m.step, m.value) for m in history] == [(i, float(i)) for i in range(n)]
