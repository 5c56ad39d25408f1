"""Two writers of one repository changing the same run at once: what the merge keeps.

Each writer starts from the same committed run; the second to flush merges its
version with the first's (``merge_run`` through the store's compare-and-swap).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitrun.core.git.objects import MODE_BLOB, MODE_TREE, TreeEntry
from gitrun.core.git.repo import Repository
from gitrun.core.git.trees import apply_edits
from gitrun.core.records import layout, merge, series
from gitrun.core.records.recovery import recover
from gitrun.core.records.store import RecordStore
from gitrun.core.records.writer import RecordWriter

INFO = {"run_id": "r1", "status": "RUNNING", "lifecycle_stage": "active", "start_time": 100, "end_time": None}


@pytest.fixture
def store(tmp_path: Path) -> RecordStore:
    store = RecordStore(Repository.init_bare(str(tmp_path / "s.git")))
    creator = RecordWriter(store, flush_interval=0, use_journal=False)
    creator.create_run("r1", dict(INFO), {}, {})
    creator.flush()
    return store


def _writers(store: RecordStore) -> tuple[RecordWriter, RecordWriter]:
    """Two writers that have both read the run as committed now."""
    first = RecordWriter(store, flush_interval=0, use_journal=False)
    second = RecordWriter(store, flush_interval=0, use_journal=False)
    first.view("r1")
    second.view("r1")
    return first, second


def _info(store: RecordStore) -> dict[str, Any]:
    entry = store.entry(f"{layout.run_dir('r1')}/{layout.RUN_FILE}")
    assert entry is not None
    return store.load_yaml(entry.oid, "run")


def _series(store: RecordStore, key: str) -> list[float]:
    tree = store.entry(f"{layout.run_dir('r1')}/{layout.METRICS_DIR}/{key}")
    assert tree is not None, key
    values: list[float] = []
    for name, chunk in sorted(store.repo.read_tree(tree.oid).items()):
        values += list(series.decode_chunk(store.repo.read_blob(chunk.oid), name)[2])
    return values


def test_end_and_start_times_set_by_both_take_the_later_end_and_the_earlier_start(store: RecordStore) -> None:
    first, second = _writers(store)
    second.update_info("r1", {"status": "FINISHED", "end_time": 300, "start_time": 90})
    second.flush()
    first.update_info("r1", {"status": "FAILED", "end_time": 200, "start_time": 95})
    first.flush()
    info = _info(store)
    assert (info["end_time"], info["start_time"]) == (300, 90)
    assert info["status"] == "FAILED"  # both terminal: the writer committing now wins


def test_a_terminal_status_wins_over_running(store: RecordStore) -> None:
    first, second = _writers(store)
    second.update_info("r1", {"status": "FINISHED", "end_time": 300})
    second.flush()
    first.update_info("r1", {"status": "RUNNING", "end_time": 250})
    first.flush()
    assert (_info(store)["status"], _info(store)["end_time"]) == ("FINISHED", 300)


def test_both_writers_log_the_first_metrics_of_a_run(store: RecordStore) -> None:
    first, second = _writers(store)
    second.log_metric_columns("r1", ["b", "b"], [1.0, 2.0], [0, 1], [10, 11])
    second.flush()
    first.log_metric_columns("r1", ["a", "a", "a"], [5.0, 6.0, 7.0], [0, 1, 2], [10, 11, 12])
    first.flush()
    assert _series(store, "a") == [5.0, 6.0, 7.0]
    assert _series(store, "b") == [1.0, 2.0]


def test_a_recorded_end_of_a_run_deleted_meanwhile_is_replayed(store: RecordStore) -> None:
    dead = RecordWriter(store, flush_interval=0)
    dead.open_run("r1", owned=True)
    dead.flush()
    dead.update_info("r1", {"status": "FINISHED", "end_time": 500})  # ended, not yet committed
    assert dead._journal is not None
    dead._journal.abandon_after_fork()  # killed before its next flush
    other = RecordWriter(store, flush_interval=0, use_journal=False)
    other.update_info("r1", {"lifecycle_stage": "deleted"})
    other.flush()
    assert recover(store) == ["r1"]
    info = _info(store)
    assert (info["status"], info["end_time"], info["lifecycle_stage"]) == ("FINISHED", 500, "deleted")


def test_a_name_that_is_a_folder_on_one_side_and_a_file_on_the_other(tmp_path: Path) -> None:
    # Not written by gitrun; a hand-made or foreign tree must still merge, the same
    # way on both machines.
    repo = Repository.init_bare(str(tmp_path / "hand.git"))
    blob = repo.write_blob(b"a file\n")
    inner = repo.write_blob(b"inside\n")
    as_file = apply_edits(repo, None, {"notes": TreeEntry("notes", MODE_BLOB, blob)})
    as_folder = apply_edits(repo, None, {"notes/x": TreeEntry("x", MODE_BLOB, inner)})
    assert as_file and as_folder
    one = merge.merge_roots(repo, None, as_file, as_folder)
    other = merge.merge_roots(repo, None, as_folder, as_file)
    assert one == other
    (entry,) = repo.read_tree(one).values()
    expected = max(repo.read_tree(as_file)["notes"], repo.read_tree(as_folder)["notes"], key=lambda e: e.oid)
    assert entry == expected
    assert entry.mode in (MODE_BLOB, MODE_TREE)
