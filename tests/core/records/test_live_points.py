"""Reading a live run's journaled points from another store, before they are committed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitrun.core.git.repo import Repository
from gitrun.core.records import live
from gitrun.core.records.store import RecordStore
from gitrun.core.records.writer import RecordWriter

INFO = {"run_id": "r1", "status": "RUNNING", "lifecycle_stage": "active", "start_time": 1, "end_time": None}


@pytest.fixture
def store(tmp_path: Path) -> RecordStore:
    return RecordStore(Repository.init_bare(str(tmp_path / "s.git")))


def _reader(store: RecordStore) -> RecordStore:
    """Another process's view: its own repository object and store."""
    return RecordStore(Repository(store.repo.git_dir))


def _as_tuples(chunk: live.LiveChunk) -> list[tuple[int, int, float]]:
    return list(zip(chunk.steps, chunk.timestamps, chunk.values, strict=True))


def test_points_not_yet_committed_are_seen_by_a_reader(store: RecordStore) -> None:
    writer = RecordWriter(store, flush_interval=0)
    try:
        writer.create_run("r1", dict(INFO), {}, {})
        writer.log_metric_columns("r1", ["loss"] * 3, [3.0, 2.0, 1.0], [0, 1, 2], [10, 11, 12])
        writer.log_metric("r1", "other", 9.0, 0, 10)
        writer.flush()
        reader = _reader(store)
        committed = [(0, 10, 3.0), (1, 11, 2.0), (2, 12, 1.0)]
        assert _as_tuples(live.series_with_live_points(reader, "r1", "loss")) == committed
        # Logged, journaled, not committed: only the live view has them.
        writer.log_metric("r1", "loss", 0.5, 3, 13)
        writer.log_metric_columns("r1", ["loss", "loss"], [0.25, 0.125], [4, 5], [14, 15])
        expected = [*committed, (3, 13, 0.5), (4, 14, 0.25), (5, 15, 0.125)]
        assert [_as_tuples(c) for c in live.committed_chunks(reader, "r1", "loss").values()] == [committed]
        assert _as_tuples(live.series_with_live_points(reader, "r1", "loss")) == expected
        assert _as_tuples(live.series_with_live_points(reader, "r1", "other")) == [(0, 10, 9.0)]
        assert _as_tuples(live.series_with_live_points(reader, "r1", "absent")) == []
        assert _as_tuples(live.series_with_live_points(reader, "r2", "loss")) == []
        # Once committed, git has the same points the live view showed.
        writer.flush()
        fresh = _reader(store)
        merged = list(live.committed_chunks(fresh, "r1", "loss").values())
        assert [p for chunk in merged for p in _as_tuples(chunk)] == expected
        assert _as_tuples(live.series_with_live_points(fresh, "r1", "loss")) == expected
    finally:
        writer.close()


def test_a_shorter_journal_copy_never_hides_committed_points(store: RecordStore) -> None:
    first = RecordWriter(store, flush_interval=0)
    first.create_run("r1", dict(INFO), {}, {})
    first.log_metric_columns("r1", ["m"] * 4, [1.0, 2.0, 3.0, 4.0], [0, 1, 2, 3], [1, 2, 3, 4])
    first.flush()
    first.close()
    # A second writer resumes the committed chunk and journals one more point: its
    # chunk copy holds all five, so the live view has five, in order.
    second = RecordWriter(store, flush_interval=0)
    try:
        second.log_metric("r1", "m", 5.0, 4, 5)
        series = live.series_with_live_points(_reader(store), "r1", "m")
        assert series.values == [1.0, 2.0, 3.0, 4.0, 5.0]
        assert series.steps == [0, 1, 2, 3, 4]
    finally:
        second.close()


def test_journals_that_cannot_be_read_are_skipped(store: RecordStore) -> None:
    writer = RecordWriter(store, flush_interval=0)
    try:
        writer.create_run("r1", dict(INFO), {}, {})
        writer.log_metric("r1", "m", 1.5, 0, 1)
        folder = writer.journal_dir
        Path(folder, "aaaa.jnl").write_bytes(b"not a journal, long enough to have a header" * 2)
        Path(folder, "notes.txt").write_text("not a journal at all")
        series = live.series_with_live_points(_reader(store), "r1", "m")
        assert series.values == [1.5]
    finally:
        writer.close()
    assert live.live_chunks(os.path.join(str(store.repo.gitrun_dir), "no-such-folder"), "r1", "m") == {}


def test_points_logged_after_a_journal_rotation_join_the_committed_ones(
    store: RecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rotated journal holds a chunk's points from its position ``at`` on only: the
    reader puts them after git's first ``at`` points, neither dropping nor repeating."""
    from gitrun.core.records import writer as writer_module

    monkeypatch.setattr(writer_module, "ROTATE_BYTES", 1)  # rotate after every full flush
    writer = RecordWriter(store, flush_interval=0)
    try:
        writer.create_run("r1", dict(INFO), {}, {})
        writer.log_metric_columns("r1", ["loss"] * 3, [3.0, 2.0, 1.0], [0, 1, 2], [10, 11, 12])
        writer.flush()
        assert writer._journal is not None and writer._journal.path.endswith("-1.jnl")  # rotated
        writer.log_metric("r1", "loss", 0.5, 3, 13)
        reader = _reader(store)
        expected = [(0, 10, 3.0), (1, 11, 2.0), (2, 12, 1.0), (3, 13, 0.5)]
        assert _as_tuples(live.series_with_live_points(reader, "r1", "loss")) == expected
    finally:
        writer.close()
