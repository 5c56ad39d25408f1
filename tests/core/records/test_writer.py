"""The record writer and recovery, at the core level (no tracking API)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitrun.core.git.repo import Repository
from gitrun.core.records import layout
from gitrun.core.records.recovery import recover
from gitrun.core.records.store import RecordStore
from gitrun.core.records.writer import RecordWriter
from gitrun.errors import InvalidParameterValue

INFO = {"run_id": "r1", "status": "RUNNING", "lifecycle_stage": "active", "start_time": 1, "end_time": None}


@pytest.fixture
def store(tmp_path: Path) -> RecordStore:
    return RecordStore(Repository.init_bare(str(tmp_path / "s.git")))


def _map(store: RecordStore, run_id: str, name: str) -> dict[str, object]:
    entry = store.entry(f"{layout.run_dir(run_id)}/{name}")
    assert entry is not None
    return store.load_yaml(entry.oid, name)


def test_mapping_files_merge_between_writers(store: RecordStore) -> None:
    first = RecordWriter(store, flush_interval=0, use_journal=False)
    first.create_run("r1", dict(INFO), {}, {})
    first.update_map("r1", "artifacts.yaml", {"a.txt": {"digest": "sha256:aa", "size": 1}})
    first.flush()
    second = RecordWriter(store, flush_interval=0, use_journal=False)
    second.update_map("r1", "artifacts.yaml", {"b.txt": {"digest": "sha256:bb", "size": 2}})
    second.flush()
    first.update_map("r1", "artifacts.yaml", {"c.txt": {"digest": "sha256:cc", "size": 3}}, delete=["a.txt"])
    first.flush()
    assert _map(store, "r1", "artifacts.yaml") == {
        "b.txt": {"digest": "sha256:bb", "size": 2},
        "c.txt": {"digest": "sha256:cc", "size": 3},
    }
    assert first.view("r1", ["artifacts.yaml"]).maps["artifacts.yaml"] == _map(store, "r1", "artifacts.yaml")


def test_recovery_replays_everything_after_a_crash(store: RecordStore) -> None:
    writer = RecordWriter(store, flush_interval=0)
    writer.create_run("r1", dict(INFO), {"t": "1"}, {})
    writer.log_params("r1", {"p": "1"})
    writer.log_metric_columns("r1", ["m"] * 3, [1.0, 2.0, 3.0], [0, 1, 2], [10, 11, 12])
    writer.flush()
    writer.update_map("r1", "artifacts.yaml", {"x": {"digest": "sha256:xx", "size": 9}})
    writer.log_metric("r1", "m", 4.0, 3, 13)
    writer.set_tags("r1", {"t": "2"})
    with pytest.raises(InvalidParameterValue):
        writer.log_params("r1", {"p": "2"})
    assert writer._journal is not None
    writer._journal.abandon_after_fork()  # the process "dies": its journal lock is released
    touched = recover(store)
    assert touched == ["r1"]
    info = _map(store, "r1", layout.RUN_FILE)
    assert info["status"] == "KILLED" and info["end_time"] is not None
    assert _map(store, "r1", layout.TAGS_FILE) == {"t": "2"}
    assert _map(store, "r1", layout.PARAMS_FILE) == {"p": "1"}
    assert _map(store, "r1", "artifacts.yaml") == {"x": {"digest": "sha256:xx", "size": 9}}
    assert _map(store, "r1", layout.METRICS_FILE) == {"m": {"step": 3, "timestamp": 13, "value": 4.0}}
    tree = store.entry(f"{layout.run_dir('r1')}/metrics/m")
    assert tree is not None
    from gitrun.core.records import series

    points = []
    for _name, chunk in sorted(store.repo.read_tree(tree.oid).items()):
        points += list(series.decode_chunk(store.repo.read_blob(chunk.oid), "c")[2])
    assert points == [1.0, 2.0, 3.0, 4.0]  # the committed points were not replayed twice
    assert recover(store) == []
