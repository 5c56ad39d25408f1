"""The writer's replay methods, which recovery drives to replay a dead writer's journal.

Recovery (``recovery.py``) decides what to replay; these tests pin what the writer does
with it: a replayed chunk joins the points git holds without repeating them, a chunk
whose first points are lost is refused, and a discarded run leaves no trace.
"""

from __future__ import annotations

from typing import Any

import pytest

from gitrun.core.records import layout, series
from gitrun.core.records.pending import Point
from gitrun.core.records.store import RecordStore
from gitrun.core.records.writer import RecordWriter
from gitrun.errors import GitrunError


def _info(run_id: str) -> dict[str, Any]:
    return {"run_id": run_id, "status": "RUNNING", "lifecycle_stage": "active", "start_time": 1}


def _replayer(store: RecordStore) -> RecordWriter:
    # As recovery makes it: no journal of its own, no background flushing.
    return RecordWriter(store, flush_interval=0, use_journal=False)


def _chunks(store: RecordStore, run_id: str, key: str) -> dict[str, list[Point]]:
    tree = store.entry(f"{layout.run_dir(run_id)}/{layout.METRICS_DIR}/{layout.encode_key(key)}")
    assert tree is not None, f"no series {key} in {run_id}"
    found = {}
    for name, entry in store.repo.read_tree(tree.oid).items():
        steps, timestamps, values = series.decode_chunk(store.repo.read_blob(entry.oid), name)
        found[name] = list(zip(steps, timestamps, values))
    return found


def _latest(store: RecordStore, run_id: str) -> dict[str, Any]:
    entry = store.entry(f"{layout.run_dir(run_id)}/{layout.METRICS_FILE}")
    assert entry is not None
    return store.load_yaml(entry.oid, layout.METRICS_FILE)


def _committed_series(store: RecordStore, points: list[Point]) -> str:
    """Commit run ``r`` with one chunk of series ``m``; returns the chunk's name."""
    writer = _replayer(store)
    writer.create_run("r", _info("r"), {}, {})
    for step, timestamp, value in points:
        writer.log_metric("r", "m", value, step, timestamp)
    writer.flush()
    (name,) = _chunks(store, "r", "m")
    return name


def test_a_replayed_chunk_adds_only_the_points_git_does_not_hold(store: RecordStore) -> None:
    held = [(0, 10, 1.0), (1, 11, 0.5), (2, 12, 0.25)]
    name = _committed_series(store, held)
    writer = _replayer(store)
    writer.open_run("r", owned=False)
    # A rotated journal: its points start at position 1 of the chunk, two of them in git.
    journaled = [(1, 11, 0.5), (2, 12, 0.25), (3, 13, 9.0), (4, 14, 0.125)]
    writer.replay_chunk("r", "m", name, 1, journaled)
    writer.flush()
    assert _chunks(store, "r", "m") == {name: [*held, (3, 13, 9.0), (4, 14, 0.125)]}
    assert _latest(store, "r") == {"m": {"step": 4, "timestamp": 14, "value": 0.125}}


def test_replaying_a_chunk_git_holds_whole_commits_nothing(store: RecordStore) -> None:
    held = [(0, 10, 1.0), (1, 11, 2.0)]
    name = _committed_series(store, held)
    tip = store.tip()
    writer = _replayer(store)
    writer.open_run("r", owned=False)
    writer.replay_chunk("r", "m", name, 0, held)
    writer.flush()
    assert store.tip() == tip


def test_a_chunk_new_to_git_is_replayed_under_the_dead_writers_name(store: RecordStore) -> None:
    writer = _replayer(store)
    writer.create_run("r", _info("r"), {}, {})
    writer.replay_chunk("r", "m", "00000000000000aa-dead", 0, [(0, 5, 3.0), (1, 6, 4.0)])
    writer.flush()
    assert _chunks(store, "r", "m") == {"00000000000000aa-dead": [(0, 5, 3.0), (1, 6, 4.0)]}
    assert _latest(store, "r") == {"m": {"step": 1, "timestamp": 6, "value": 4.0}}


@pytest.mark.parametrize("committed", [False, True], ids=["new-run", "committed-run"])
def test_a_chunk_whose_first_points_are_in_neither_place_is_refused(
    store: RecordStore, committed: bool
) -> None:
    writer = _replayer(store)
    if committed:
        _committed_series(store, [(0, 10, 1.0)])
        writer.open_run("r", owned=False)
    else:
        writer.create_run("r", _info("r"), {}, {})
    with pytest.raises(
        GitrunError, match=r"chunk 00000000000000bb-dead of 'm': its first 3 points are neither"
    ):
        writer.replay_chunk("r", "m", "00000000000000bb-dead", 3, [(3, 13, 1.0)])


def test_a_discarded_run_is_neither_buffered_nor_committed(store: RecordStore) -> None:
    writer = _replayer(store)
    writer.create_run("gone", _info("gone"), {}, {})
    writer.log_params("gone", {"p": "1"})
    writer.replay_chunk("gone", "m", "00000000000000cc-dead", 0, [(0, 1, 1.0)])
    writer.create_run("kept", _info("kept"), {}, {})
    writer.discard("gone")
    assert not writer.is_live("gone")
    writer.flush()
    assert store.entry(layout.run_dir("gone")) is None
    assert store.entry(layout.run_dir("kept")) is not None


def test_discarding_a_run_keeps_what_git_holds(store: RecordStore) -> None:
    _committed_series(store, [(0, 10, 1.0)])
    tip = store.tip()
    writer = _replayer(store)
    writer.open_run("r", owned=False)
    writer.update_info("r", {"status": "KILLED"})
    writer.discard("r")
    writer.flush()
    assert store.tip() == tip
    writer.discard("never-opened")  # nothing held: nothing to do


def test_replaying_needs_a_writer_without_a_journal(store: RecordStore) -> None:
    writer = RecordWriter(store, flush_interval=0)
    writer.create_run("r", _info("r"), {}, {})
    with pytest.raises(GitrunError, match="without a journal"):
        writer.replay_chunk("r", "m", "00000000000000dd-dead", 0, [(0, 1, 1.0)])
    with pytest.raises(GitrunError, match="without a journal"):
        writer.discard("r")
    assert writer.is_live("r")
    writer.close()


@pytest.mark.parametrize("overwrite", [True, False])
def test_a_run_created_to_overwrite_replaces_the_tree_git_holds(store: RecordStore, overwrite: bool) -> None:
    """Recovery rebuilds a run whose tree git cannot read: merging with that tree would
    fail, so the rebuilt tree replaces it.  A readable tree shows the difference."""
    old = _committed_series(store, [(0, 10, 1.0)])
    writer = _replayer(store)
    writer.create_run("r", _info("r"), {"t": "1"}, {}, overwrite=overwrite)
    writer.replay_chunk("r", "m", "00000000000000ee-dead", 0, [(1, 11, 2.0)])
    writer.flush()
    chunks = _chunks(store, "r", "m")
    if overwrite:
        assert chunks == {"00000000000000ee-dead": [(1, 11, 2.0)]}
    else:
        assert chunks == {old: [(0, 10, 1.0)], "00000000000000ee-dead": [(1, 11, 2.0)]}
