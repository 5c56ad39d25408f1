"""Recovery of dead writers' journals, case by case, at the core level.

A writer "dies" by dropping its journal's lock without flushing
(``abandon_after_fork``): exactly what the kernel does when a process is killed.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from gitrun.core.git.objects import MODE_BLOB
from gitrun.core.git.repo import Repository
from gitrun.core.records import layout
from gitrun.core.records.recovery import DAMAGED_DIR, recover
from gitrun.core.records.store import RecordStore
from gitrun.core.records.writer import RecordWriter
from gitrun.errors import DamagedRecordWarning


def _info(run_id: str) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "status": "RUNNING",
        "lifecycle_stage": "active",
        "start_time": 1,
        "end_time": None,
    }


@pytest.fixture
def store(tmp_path: Path) -> RecordStore:
    return RecordStore(Repository.init_bare(str(tmp_path / "s.git")))


def _map(store: RecordStore, run_id: str, name: str) -> dict[str, Any]:
    entry = store.entry(f"{layout.run_dir(run_id)}/{name}")
    assert entry is not None, f"{name} of {run_id} is not committed"
    return store.load_yaml(entry.oid, name)


def _die(writer: RecordWriter) -> None:
    assert writer._journal is not None
    writer._journal.abandon_after_fork()


def test_a_run_never_committed_is_created_from_the_journal(store: RecordStore) -> None:
    blob = store.repo.write_blob(b"notes\n")
    writer = RecordWriter(store, flush_interval=0)
    writer.create_run("new", _info("new"), {"t": "1"}, {"notes.txt": (MODE_BLOB, blob)})
    writer.log_params("new", {"p": "x"})
    writer.log_metric("new", "m", 2.0, 0, 5)
    _die(writer)
    assert store.tip() is None  # nothing was ever committed
    assert recover(store) == ["new"]
    info = _map(store, "new", layout.RUN_FILE)
    assert info["status"] == "KILLED" and isinstance(info["end_time"], int)
    assert _map(store, "new", layout.TAGS_FILE) == {"t": "1"}
    assert _map(store, "new", layout.PARAMS_FILE) == {"p": "x"}
    assert _map(store, "new", layout.METRICS_FILE) == {"m": {"step": 0, "timestamp": 5, "value": 2.0}}
    notes = store.entry(f"{layout.run_dir('new')}/notes.txt")
    assert notes is not None and notes.oid == blob
    assert os.listdir(writer.journal_dir) == []


def test_changes_after_the_flushed_mark_are_replayed_and_runs_not_owned_stay_running(
    store: RecordStore,
) -> None:
    owner = RecordWriter(store, flush_interval=0, use_journal=False)
    owner.create_run("theirs", _info("theirs"), {}, {})
    owner.create_run("mine", _info("mine"), {"keep": "1", "drop": "1"}, {})
    owner.flush()
    blob = store.repo.write_blob(b"file\n")
    writer = RecordWriter(store, flush_interval=0)
    writer.open_run("mine", owned=True)
    writer.set_tags("theirs", {"seen": "yes"})  # opened, not owned: another process runs it
    writer.flush()
    writer.set_tags("mine", {"new": "1"}, delete=["drop"])
    writer.update_info("mine", {"name": "renamed"})
    writer.put_files("mine", {"extra.txt": (MODE_BLOB, blob)})
    writer.update_map("mine", "artifacts.yaml", {"a": {"size": 1}})
    writer.log_params("mine", {"p": "1"})
    _die(writer)
    assert recover(store) == ["mine", "theirs"]
    info = _map(store, "mine", layout.RUN_FILE)
    assert (info["status"], info["name"]) == ("KILLED", "renamed")
    assert _map(store, "mine", layout.TAGS_FILE) == {"keep": "1", "new": "1"}
    assert _map(store, "mine", "artifacts.yaml") == {"a": {"size": 1}}
    assert _map(store, "mine", layout.PARAMS_FILE) == {"p": "1"}
    extra = store.entry(f"{layout.run_dir('mine')}/extra.txt")
    assert extra is not None and extra.oid == blob
    assert _map(store, "theirs", layout.RUN_FILE)["status"] == "RUNNING"
    assert _map(store, "theirs", layout.TAGS_FILE) == {"seen": "yes"}


def test_a_later_change_by_another_writer_wins_over_a_replayed_one(store: RecordStore) -> None:
    writer = RecordWriter(store, flush_interval=0)
    writer.create_run("r1", _info("r1"), {}, {})
    writer.flush()
    writer.log_params("r1", {"p": "from the dead writer"})
    _die(writer)
    other = RecordWriter(store, flush_interval=0, use_journal=False)
    other.log_params("r1", {"p": "from another writer"})
    other.flush()
    assert recover(store) == ["r1"]
    assert _map(store, "r1", layout.PARAMS_FILE) == {"p": "from another writer"}
    assert _map(store, "r1", layout.RUN_FILE)["status"] == "KILLED"


def test_a_run_deleted_meanwhile_is_still_marked_killed(store: RecordStore) -> None:
    writer = RecordWriter(store, flush_interval=0)
    writer.create_run("r1", _info("r1"), {}, {})
    writer.log_metric("r1", "m", 1.0, 0, 1)
    writer.flush()
    _die(writer)
    # Another process deletes the run before anyone recovers the dead writer's journal.
    other = RecordWriter(store, flush_interval=0, use_journal=False)
    other.update_info("r1", {"lifecycle_stage": "deleted"})
    other.flush()
    assert recover(store) == ["r1"]
    info = _map(store, "r1", layout.RUN_FILE)
    assert (info["status"], info["lifecycle_stage"]) == ("KILLED", "deleted")


def test_only_dead_journals_are_recovered(store: RecordStore) -> None:
    alive = RecordWriter(store, flush_interval=0)
    try:
        alive.create_run("live", _info("live"), {}, {})
        folder = Path(alive.journal_dir)
        (folder / "README").write_text("not a journal")
        stale = folder / "0000dead.jnl.new"
        stale.write_bytes(b"")
        old = time.time() - 3600
        os.utime(stale, (old, old))
        fresh = folder / "0000born.jnl.new"  # a writer publishing its journal right now
        fresh.write_bytes(b"")
        assert recover(store) == []
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            ["README", "0000born.jnl.new", f"{alive.writer_id}.jnl"]
        )
        assert store.tip() is None  # the live writer's run is its own to commit
    finally:
        alive.close()
    # Closed while it still owned a RUNNING run: the journal stays, so that recovery
    # marks the run KILLED (its owner never ended it).
    assert recover(store) == ["live"]
    assert _map(store, "live", layout.RUN_FILE)["status"] == "KILLED"
    assert recover(store) == []


def test_a_journal_grown_past_its_first_size_is_replayed_whole(store: RecordStore) -> None:
    writer = RecordWriter(store, flush_interval=0)
    writer.create_run("r1", _info("r1"), {}, {})
    writer.flush()
    # Single points, then columns: both grow the journal's mapping (1 MiB at first).
    count = 40_000
    for step in range(count):
        writer.log_metric("r1", "one", float(step), step, step)
    steps = list(range(count))
    writer.log_metric_columns("r1", ["cols"] * count, [float(s) for s in steps], steps, steps)
    assert writer._journal is not None and os.path.getsize(writer._journal.path) > 2 * 1024 * 1024
    _die(writer)
    assert recover(store) == ["r1"]
    from gitrun.core.records import series

    for key in ("one", "cols"):
        tree = store.entry(f"{layout.run_dir('r1')}/{layout.METRICS_DIR}/{key}")
        assert tree is not None
        values: list[float] = []
        for name, chunk in sorted(store.repo.read_tree(tree.oid).items()):
            values += list(series.decode_chunk(store.repo.read_blob(chunk.oid), name)[2])
        assert values == [float(s) for s in range(count)], key


def test_a_journal_gone_before_it_is_opened_is_not_recovered(store: RecordStore) -> None:
    from gitrun.core.records import journal as jnl

    writer = RecordWriter(store, flush_interval=0)
    writer.create_run("r1", _info("r1"), {}, {})
    assert writer._journal is not None
    path = writer._journal.path
    assert jnl.try_lock_dead(path) is None  # its owner is alive
    _die(writer)
    fd = jnl.try_lock_dead(path)  # dead: the lock is ours now
    assert fd is not None
    os.close(fd)
    # Another process recovered it and removed it between our listing and our open.
    os.unlink(path)
    assert jnl.try_lock_dead(path) is None
    assert recover(store) == []


def _prune_run_tree(store: RecordStore, run_id: str) -> RecordStore:
    """Delete the run's tree object, as a concurrent prune can; a fresh store reads it."""
    entry = store.entry(layout.run_dir(run_id))
    assert entry is not None
    os.unlink(os.path.join(store.repo.common_dir, "objects", entry.oid[:2], entry.oid[2:]))
    return RecordStore(Repository(store.repo.git_dir))


def test_a_run_whose_tree_git_lost_is_rebuilt_from_the_journal(store: RecordStore) -> None:
    from gitrun.core.records import series

    writer = RecordWriter(store, flush_interval=0)
    writer.create_run("r1", _info("r1"), {"t": "1"}, {})
    writer.log_params("r1", {"p": "x"})
    writer.log_metric("r1", "m", 1.0, 0, 5)
    writer.flush()  # what came before the journal's flushed mark is replayed too
    writer.log_metric("r1", "m", 2.0, 1, 6)
    writer.set_tags("r1", {"u": "2"})
    _die(writer)
    fresh = _prune_run_tree(store, "r1")
    assert recover(fresh) == ["r1"]
    assert _map(fresh, "r1", layout.RUN_FILE)["status"] == "KILLED"
    assert _map(fresh, "r1", layout.PARAMS_FILE) == {"p": "x"}
    assert _map(fresh, "r1", layout.TAGS_FILE) == {"t": "1", "u": "2"}
    tree = fresh.entry(f"{layout.run_dir('r1')}/{layout.METRICS_DIR}/m")
    assert tree is not None
    points = []
    for name, chunk in sorted(fresh.repo.read_tree(tree.oid).items()):
        steps, timestamps, values = series.decode_chunk(fresh.repo.read_blob(chunk.oid), name)
        points += list(zip(steps, timestamps, values))
    assert points == [(0, 5, 1.0), (1, 6, 2.0)]
    assert os.listdir(writer.journal_dir) == []


def test_a_lost_tree_the_journal_cannot_rebuild_sets_the_journal_aside(store: RecordStore) -> None:
    owner = RecordWriter(store, flush_interval=0, use_journal=False)
    owner.create_run("r1", _info("r1"), {}, {})
    owner.flush()
    writer = RecordWriter(store, flush_interval=0)
    writer.open_run("r1", owned=True)  # opened, not created: the journal holds no creation
    writer.log_params("r1", {"p": "x"})
    _die(writer)
    fresh = _prune_run_tree(store, "r1")
    tip = fresh.tip()
    with pytest.warns(DamagedRecordWarning, match="the journal cannot rebuild it"):
        assert recover(fresh) == []
    assert fresh.tip() == tip
    damaged = Path(writer.journal_dir) / DAMAGED_DIR
    assert [p.name.split(".jnl.")[0] for p in damaged.iterdir()] == [writer.writer_id]


def test_a_replayed_tag_delete_of_a_tag_gone_earlier_keeps_the_tags_it_set(
    store: RecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gitrun.core.git import identity

    earlier = time.time() - 60
    monkeypatch.setattr(identity, "clock", lambda: earlier)
    owner = RecordWriter(store, flush_interval=0, use_journal=False)
    owner.create_run("r1", _info("r1"), {"b": "1"}, {})
    owner.flush()
    writer = RecordWriter(store, flush_interval=0)
    writer.open_run("r1", owned=True)  # sees tag b
    other = RecordWriter(store, flush_interval=0, use_journal=False)
    other.set_tags("r1", {}, ["b"])
    other.flush()  # committed a minute before the dead writer's change below
    writer.set_tags("r1", {"x": "1"}, ["b"])
    _die(writer)
    monkeypatch.undo()
    assert recover(store) == ["r1"]
    # b is already gone: its delete is dropped, the tag set beside it is not.
    assert _map(store, "r1", layout.TAGS_FILE) == {"x": "1"}
