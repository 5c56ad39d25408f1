"""One run changed on two machines survives push and fetch with both sides' changes.

(test_sync.py has separate runs per machine; here the same run is edited on both:
tags on one, status on the other, params on both, a metric on both.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gitrun.core.git.repo import Repository
from gitrun.core.records import layout, sync
from gitrun.core.records.store import RecordStore
from gitrun.core.records.writer import RecordWriter
from tests.conftest import git

RUN = "5e1f0c2a9b8d4e7f8a6b5c4d3e2f1a0b"
INFO = {"run_id": RUN, "status": "RUNNING", "lifecycle_stage": "active", "start_time": 1, "end_time": None}


def _store(path: Path) -> RecordStore:
    repo = Repository.at(str(path))
    assert repo is not None
    return RecordStore(repo)


def _writer(store: RecordStore) -> RecordWriter:
    return RecordWriter(store, flush_interval=0, use_journal=False)


def _file(store: RecordStore, name: str) -> dict[str, Any]:
    entry = store.entry(f"{layout.run_dir(RUN)}/{name}")
    assert entry is not None, name
    return store.load_yaml(entry.oid, name)


def test_one_run_edited_on_two_machines_keeps_both_sides(work_repo: Path, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(work_repo), str(remote))
    for name in ("a", "b"):
        git(tmp_path, "clone", "-q", str(remote), str(tmp_path / name))
    store_a, store_b = _store(tmp_path / "a"), _store(tmp_path / "b")

    first = _writer(store_a)
    first.create_run(RUN, dict(INFO), {"origin": "a"}, {})
    first.log_params(RUN, {"lr": "0.1"})
    first.log_metric(RUN, "loss", 1.0, 0, 10)
    first.flush()
    sync.push(store_a, "origin")
    sync.fetch(store_b, "origin")
    assert _file(store_b, layout.PARAMS_FILE) == {"lr": "0.1"}

    # Machine a: tags and a param.  Machine b: the status and another param.
    on_a = _writer(store_a)
    on_a.set_tags(RUN, {"reviewed": "yes"}, delete=["origin"])
    on_a.log_params(RUN, {"from_a": "1"})
    on_a.log_metric(RUN, "acc", 0.5, 1, 20)
    on_a.flush()
    on_b = _writer(store_b)
    on_b.update_info(RUN, {"status": "FINISHED", "end_time": 99})
    on_b.log_params(RUN, {"from_b": "2"})
    on_b.log_metric(RUN, "loss", 0.5, 1, 30)
    on_b.flush()

    sync.push(store_a, "origin")
    sync.push(store_b, "origin")  # fetches a's edits, merges, pushes
    sync.fetch(store_a, "origin")
    for store in (store_a, store_b):
        assert _file(store, layout.TAGS_FILE) == {"reviewed": "yes"}
        assert _file(store, layout.PARAMS_FILE) == {"lr": "0.1", "from_a": "1", "from_b": "2"}
        info = _file(store, layout.RUN_FILE)
        assert (info["status"], info["end_time"]) == ("FINISHED", 99)
        latest = _file(store, layout.METRICS_FILE)
        assert latest["loss"] == {"step": 1, "timestamp": 30, "value": 0.5}
        assert latest["acc"] == {"step": 1, "timestamp": 20, "value": 0.5}
    # Both machines converged on the same run tree.
    assert store_a.entry(layout.run_dir(RUN)) == store_b.entry(layout.run_dir(RUN))
