"""Chunk names stay unique and ordered when the clock does not advance between them
(coarse clocks, a clock stepped back by NTP)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gitrun.core.git.repo import Repository
from gitrun.core.records import layout, series
from gitrun.core.records.store import RecordStore
from gitrun.core.records.writer import RecordWriter

INFO = {"run_id": "r1", "status": "RUNNING", "lifecycle_stage": "active", "start_time": 1, "end_time": None}


def test_a_clock_that_stands_still_still_gives_ordered_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = RecordStore(Repository.init_bare(str(tmp_path / "s.git")))
    writer = RecordWriter(store, flush_interval=0, use_journal=False)
    writer.create_run("r1", dict(INFO), {}, {})
    frozen = time.time_ns()
    monkeypatch.setattr(time, "time_ns", lambda: frozen)
    count = 12_000  # three chunks of at most 5,000 points
    steps = list(range(count))
    writer.log_metric_columns("r1", ["m"] * count, [float(s) for s in steps], steps, steps)
    writer.flush()
    monkeypatch.undo()
    tree = store.entry(f"{layout.run_dir('r1')}/{layout.METRICS_DIR}/m")
    assert tree is not None
    chunks = sorted(store.repo.read_tree(tree.oid).items())
    assert len(chunks) == 3
    values: list[float] = []
    for name, chunk in chunks:
        values += list(series.decode_chunk(store.repo.read_blob(chunk.oid), name)[2])
    assert values == [float(s) for s in steps]
