"""The derived index: incremental updates, rebuilds and repairs never change a search result."""

from __future__ import annotations

import math
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gitrun import MlflowClient
from gitrun.core.git.objects import MODE_BLOB
from gitrun.core.git.repo import Repository
from gitrun.core.index import bulk
from gitrun.core.index.grammar import parse_filter, parse_order_by
from gitrun.core.index.index import RunIndex
from gitrun.core.index.query import ExperimentSearch, RunSearch
from gitrun.core.records import layout
from gitrun.core.records.store import Edit, RecordStore
from gitrun.entities import Metric, Param, RunTag
from gitrun.tracking import session as tracking_session
from tests.conftest import git

pytestmark = pytest.mark.usefixtures("in_repo")


def index_of(path: Path, file: str | None = None) -> RunIndex:
    repo = Repository.at(str(path))
    assert repo is not None
    return RunIndex(RecordStore(repo), file)


def fresh(path: Path, tmp: Path) -> RunIndex:
    """An index built from scratch in a new file: the reference for every comparison."""
    target = tmp / f"fresh-{len(list(tmp.glob('fresh-*')))}.sqlite"
    return index_of(path, str(target))


def snapshot(index: RunIndex, filter_string: str = "", order_by: list[str] | None = None) -> list[Any]:
    """Everything a search returns, NaN made comparable."""
    experiments = index.search_experiments(ExperimentSearch(view="all"), 50_000).items
    search = RunSearch(
        tuple(e.experiment_id for e in experiments),
        parse_filter(filter_string),
        parse_order_by(order_by),
        "all",
    )
    runs = index.search_runs(search, 50_000).items
    return [
        (
            r.run_id,
            r.experiment_id,
            r.run_name,
            r.status,
            r.lifecycle_stage,
            r.start_time,
            r.end_time,
            r.params,
            r.tags,
            {k: "nan" if math.isnan(v) else v for k, v in r.metrics.items()},
        )
        for r in runs
    ] + [(e.experiment_id, e.name, e.lifecycle_stage, e.tags) for e in experiments]


def make_runs(client: MlflowClient, count: int, experiment: str = "0", prefix: str = "r") -> list[str]:
    ids = []
    for i in range(count):
        run = client.create_run(experiment, run_name=f"{prefix}{i}", start_time=1000 + i)
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("acc", i / count, 0, 0), Metric("nan", math.nan, 0, 0)],
            params=[Param("i", str(i))],
            tags=[RunTag("team", "red" if i % 2 else "blue")],
        )
        client.set_terminated(run.info.run_id)
        ids.append(run.info.run_id)
    client.flush()
    return ids


def test_update_is_incremental_and_noop_when_nothing_changed(in_repo: Path) -> None:
    client = MlflowClient()
    make_runs(client, 5)
    index = index_of(in_repo)
    first = index.update()
    assert first is not None and first.full and first.runs_written == 5
    assert index.update() is None
    make_runs(client, 1, prefix="new")
    stats = index.update()
    assert stats is not None and not stats.full and stats.runs_written == 1 and stats.runs_removed == 0
    client.log_metric(client.search_runs(["0"], max_results=1)[0].info.run_id, "acc", 5.0)
    client.flush()
    stats = index.update()
    assert stats is not None and stats.runs_written == 1


def test_incremental_changes_equal_a_rebuild(in_repo: Path, tmp_path: Path) -> None:
    client = MlflowClient()
    exp = client.create_experiment("changes", tags={"k": "v"})
    ids = make_runs(client, 6, exp)
    index = index_of(in_repo)
    assert snapshot(index) == snapshot(fresh(in_repo, tmp_path))
    steps = [
        lambda: client.log_metric(ids[0], "acc", math.nan),
        lambda: client.set_tag(ids[1], "team", "green"),
        lambda: client.delete_tag(ids[2], "team"),
        lambda: client.delete_run(ids[3]),
        lambda: client.restore_run(ids[3]),
        lambda: client.delete_run(ids[4]),
        lambda: client.update_run(ids[5], name="renamed"),
        lambda: client.rename_experiment(exp, "changed"),
        lambda: client.set_experiment_tag(exp, "k", "w"),
        lambda: client.delete_experiment(exp),
    ]
    for step in steps:
        step()
        client.flush()
        assert snapshot(index) == snapshot(fresh(in_repo, tmp_path))
        assert snapshot(index, "metrics.acc >= 0 and tags.team != 'red'", ["params.i DESC"]) == snapshot(
            fresh(in_repo, tmp_path), "metrics.acc >= 0 and tags.team != 'red'", ["params.i DESC"]
        )


def test_deleted_index_file_is_rebuilt(in_repo: Path) -> None:
    client = MlflowClient()
    make_runs(client, 4)
    index = index_of(in_repo)
    before = snapshot(index)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(index.path + suffix):
            os.unlink(index.path + suffix)
    assert snapshot(index) == before  # the same object notices the file is gone
    assert os.path.exists(index.path)
    assert snapshot(index_of(in_repo)) == before


@pytest.mark.parametrize("garbage", [b"", b"not a database" * 1000, os.urandom(8192)])
def test_garbage_in_index_file_is_rebuilt(in_repo: Path, garbage: bytes) -> None:
    client = MlflowClient()
    make_runs(client, 4)
    index = index_of(in_repo)
    before = snapshot(index)
    index.close()
    for suffix in ("-wal", "-shm"):
        if os.path.exists(index.path + suffix):
            os.unlink(index.path + suffix)
    with open(index.path, "wb") as fh:
        fh.write(garbage)
    other = index_of(in_repo)
    assert snapshot(other) == before
    assert other.last_update is not None and other.last_update.full
    make_runs(client, 1, prefix="after")
    assert len(snapshot(other)) == len(before) + 1


def test_garbage_under_an_open_connection(in_repo: Path) -> None:
    client = MlflowClient()
    make_runs(client, 3)
    index = index_of(in_repo)
    before = snapshot(index)
    with sqlite3.connect(index.path) as conn:  # pages in the main file, none left in the WAL
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with open(index.path, "r+b") as fh:
        fh.write(os.urandom(4096 * 4))
    make_runs(client, 1, prefix="after")
    assert len(snapshot(index)) == len(before) + 1
    assert index.last_update is not None and index.last_update.full  # rebuilt, not patched
    assert snapshot(index) == snapshot(index_of(in_repo))


@pytest.mark.parametrize(
    "damage",
    [
        # One value short: a page would pair names and values wrongly.
        "UPDATE run_data SET metric_values = substr(metric_values, 1, 8) WHERE rid = 2",
        "DELETE FROM run_data WHERE rid = 2",
    ],
)
def test_damaged_run_data_rebuilds_the_index(in_repo: Path, damage: str) -> None:
    client = MlflowClient()
    make_runs(client, 3)
    index = index_of(in_repo)
    before = snapshot(index)
    index.close()
    with sqlite3.connect(index.path) as conn:
        conn.execute(damage)
    reopened = index_of(in_repo)
    assert snapshot(reopened) == before
    assert reopened.last_update is not None and reopened.last_update.full


def test_other_schema_version_and_unknown_tip_are_rebuilt(in_repo: Path, tmp_path: Path) -> None:
    client = MlflowClient()
    make_runs(client, 3)
    index = index_of(in_repo)
    before = snapshot(index)
    index.close()
    with sqlite3.connect(index.path) as conn:
        conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    assert snapshot(index_of(in_repo)) == before
    with sqlite3.connect(index.path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'tip'", ("0" * 40,))
        conn.execute("DELETE FROM runs")
    make_runs(client, 1, prefix="after")
    reopened = index_of(in_repo)
    stats = reopened.update()
    assert stats is not None and stats.full
    assert snapshot(reopened) == snapshot(fresh(in_repo, tmp_path))


def test_runs_fetched_from_another_clone_appear(in_repo: Path, tmp_path: Path) -> None:
    client = MlflowClient()
    first = make_runs(client, 3, prefix="here")
    tracking_session.close_all()
    index = index_of(in_repo)
    assert len([r for r in snapshot(index) if len(r) > 4]) == 3
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(in_repo), str(other))
    git(other, "fetch", "-q", str(in_repo), "+refs/gitrun/records:refs/gitrun/records")
    remote_client = MlflowClient(str(other))
    theirs = make_runs(remote_client, 2, prefix="there")
    tracking_session.close_all()
    git(in_repo, "fetch", "-q", str(other), "+refs/gitrun/records:refs/gitrun/records")
    runs = [r for r in snapshot(index) if len(r) > 4]
    assert {r[0] for r in runs} == {*first, *theirs}
    assert snapshot(index) == snapshot(fresh(in_repo, tmp_path))


def test_unwritable_location_falls_back_to_memory(in_repo: Path) -> None:
    client = MlflowClient()
    make_runs(client, 2)
    blocked = in_repo / "blocked"
    blocked.write_text("a file where the index folder should be")
    index = index_of(in_repo, str(blocked / "sub" / "index.sqlite"))
    with pytest.warns(UserWarning, match="in-memory index"):
        assert snapshot(index) == snapshot(index_of(in_repo))


def test_prefix_and_children(in_repo: Path) -> None:
    client = MlflowClient()
    parent = client.create_run("0").info.run_id
    kids = [
        client.create_run("0", tags={"mlflow.parentRunId": parent}, start_time=i).info.run_id
        for i in range(3)
    ]
    client.flush()
    index = index_of(in_repo)
    assert index.child_run_ids(parent) == kids
    assert index.run_ids_with_prefix(parent[:32]) == [parent]
    assert set(index.run_ids_with_prefix("")) == {parent, *kids}


def test_bulk_reader_through_git_equals_gitruns_reader(
    in_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = MlflowClient()
    make_runs(client, 6)
    # Build both ways: through one `git cat-file --batch`, and with gitrun's own reader.
    monkeypatch.setattr(bulk, "MIN_RUNS", 1)
    through_git = fresh(in_repo, tmp_path)
    assert through_git.update() is not None
    monkeypatch.setattr(bulk, "MIN_RUNS", 10**9)
    assert snapshot(through_git) == snapshot(fresh(in_repo, tmp_path))
    # Without git on PATH, the Python reader is used.
    monkeypatch.setattr(bulk, "MIN_RUNS", 1)
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    assert not bulk.available()
    assert snapshot(fresh(in_repo, tmp_path)) == snapshot(through_git)


def test_damaged_run_record_is_left_out_with_a_warning(in_repo: Path, tmp_path: Path) -> None:
    client = MlflowClient()
    ids = make_runs(client, 2)
    index = index_of(in_repo)
    assert len([r for r in snapshot(index) if len(r) > 4]) == 2
    repo = Repository.at(str(in_repo))
    assert repo is not None
    store = RecordStore(repo)
    path = f"{layout.run_dir(ids[0])}/{layout.RUN_FILE}"
    old = store.entry(path)
    assert old is not None
    store.commit({path: Edit(repo.write_blob(b"run_id: [unclosed\n"), MODE_BLOB, old.oid)}, "damage")
    with pytest.warns(UserWarning, match=f"search leaves out run {ids[0]}"):
        kept = [r[0] for r in snapshot(index) if len(r) > 4]
    assert kept == [ids[1]]
    with pytest.warns(UserWarning, match=f"search leaves out run {ids[0]}"):
        assert snapshot(fresh(in_repo, tmp_path)) == snapshot(index)


def test_scan_and_driven_plans_agree(in_repo: Path) -> None:
    """An unselective filter with small pages in the default order scans runs newest
    first; the same filter with that order written out is driven by an index.  Both
    must page through the same runs."""
    client = MlflowClient()
    make_runs(client, 30)
    flt = "tags.team = 'red' and metrics.acc >= 0 and params.i != 'x'"

    def pages(order_by: list[str] | None) -> list[str]:
        seen, token = [], None
        while True:
            page = client.search_runs(["0"], flt, max_results=2, order_by=order_by, page_token=token)
            seen += [r.info.run_id for r in page]
            token = page.token
            if token is None:
                return seen

    scanned, driven = pages(None), pages(["attributes.start_time DESC"])
    assert len(scanned) == 15 and scanned == driven
