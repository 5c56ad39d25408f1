"""One contract, two run stores: the git store and the in-memory store must behave
alike through every :class:`RunStore` primitive (as dulwich's ``RefsContainerTests``
hold every refs container to one suite).  A test here that only one store passes is
a bug in that store or in the contract."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gitrun.core.git.objects import MODE_BLOB, MODE_TREE, TreeEntry
from gitrun.core.git.repo import Repository
from gitrun.core.records import layout, series
from gitrun.core.records.git_run_store import GitRunStore
from gitrun.core.records.memory_run_store import MemoryRunStore
from gitrun.core.records.run_store import MetricColumns, RunStore
from gitrun.core.records.store import RecordStore
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist

RUN = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"


def _info(run_id: str = RUN, **fields: Any) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "experiment_id": "7",
        "run_name": "lr-0.1",
        "user_id": "ada",
        "status": "RUNNING",
        "start_time": 1_700_000_000_000,
        "end_time": None,
        "lifecycle_stage": "active",
        "artifact_uri": f"runs:/{run_id}",
        "source": {"argv": ["train.py", "--lr", "0.1"], "cwd": "."},
        **fields,
    }


@pytest.fixture(params=["git", "memory"])
def runs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunStore]:
    store: RunStore
    if request.param == "git":
        repo = Repository.init_bare(str(tmp_path / "records.git"))
        store = GitRunStore(RecordStore(repo), flush_interval=0)
    else:
        store = MemoryRunStore()
    yield store
    store.close()


@pytest.fixture
def objects(runs: RunStore, tmp_path: Path) -> Repository:
    """Where a test writes the objects it puts into a run's tree: the git store takes
    only objects of its own repository (it checks them before every commit)."""
    if isinstance(runs, GitRunStore):
        return runs.records.repo
    return Repository.init_bare(str(tmp_path / "objects.git"))


@pytest.fixture
def run(runs: RunStore) -> str:
    runs.create_run(RUN, _info(), {"mlflow.runName": "lr-0.1"}, {})
    return RUN


def test_a_created_run_reads_back_typed_with_its_whole_info(runs: RunStore, run: str) -> None:
    record = runs.read_run(run)
    assert (record.run_id, record.experiment_id, record.run_name, record.user_id) == (
        RUN,
        "7",
        "lr-0.1",
        "ada",
    )
    assert (record.status, record.lifecycle_stage, record.start_time, record.end_time) == (
        "RUNNING",
        "active",
        1_700_000_000_000,
        None,
    )
    assert record.artifact_uri == f"runs:/{RUN}"
    assert dict(record.tags) == {"mlflow.runName": "lr-0.1"}
    assert dict(record.params) == {} and dict(record.metrics) == {}
    assert record.info["source"] == {"argv": ["train.py", "--lr", "0.1"], "cwd": "."}
    assert runs.run_exists(run) and runs.is_live(run)


def test_a_created_run_exists_at_once_before_anything_is_committed(runs: RunStore) -> None:
    runs.create_run(OTHER, _info(OTHER), {}, {})
    assert runs.run_exists(OTHER) and runs.is_live(OTHER)
    assert runs.read_state(OTHER).info["run_name"] == "lr-0.1"


def test_a_run_id_is_created_once(runs: RunStore, run: str) -> None:
    with pytest.raises(InvalidParameterValue, match="already exists"):
        runs.create_run(run, _info(run_name="again"), {}, {})
    assert runs.read_run(run).run_name == "lr-0.1"


def test_an_unknown_run_is_not_found_by_any_primitive(runs: RunStore) -> None:
    assert not runs.run_exists(OTHER)
    for call in (
        lambda: runs.read_run(OTHER),
        lambda: runs.read_state(OTHER),
        lambda: runs.log_batch(OTHER, params={"a": "1"}),
        lambda: runs.update_info(OTHER, {"status": "FINISHED"}),
        lambda: runs.open_run(OTHER, owned=True),
    ):
        with pytest.raises(ResourceDoesNotExist):
            call()
    assert not runs.run_exists(OTHER)


def test_params_are_write_once(runs: RunStore, run: str) -> None:
    runs.log_batch(run, params={"lr": "0.1", "depth": "3"})
    runs.log_batch(run, params={"lr": "0.1"})  # the same value again: a no-op
    with pytest.raises(InvalidParameterValue, match="Changing param values is not allowed"):
        runs.log_batch(run, params={"lr": "0.2"})
    assert dict(runs.read_run(run).params) == {"lr": "0.1", "depth": "3"}


def test_metric_points_keep_their_order_and_the_latest_is_the_highest_step(runs: RunStore, run: str) -> None:
    runs.log_metric(run, "loss", 0.5, 2, 1000)
    runs.log_metric(run, "loss", 0.9, 1, 2000)  # logged later, at an earlier step
    runs.log_batch(
        run, metrics=MetricColumns(["loss", "acc", "loss"], [0.4, 0.7, 0.3], [3, 3, 3], [3000, 3000, 2500])
    )
    chunks = runs.metric_series(run, "loss")
    points = [p for steps, stamps, values in chunks for p in zip(steps, stamps, values)]
    assert points == [(2, 1000, 0.5), (1, 2000, 0.9), (3, 3000, 0.4), (3, 2500, 0.3)]
    # The latest is the greatest (step, timestamp, value): step 3 at the latest time.
    assert dict(runs.read_run(run).metrics) == {"loss": 0.4, "acc": 0.7}
    assert runs.metric_series(run, "never logged") == []


def test_a_long_series_reads_back_whole_across_chunks(runs: RunStore, run: str) -> None:
    n = series.CHUNK_POINTS * 2 + 17
    half = n // 2
    runs.log_batch(
        run,
        metrics=MetricColumns(["x"] * half, [float(i) for i in range(half)], list(range(half)), [5] * half),
    )
    runs.flush()
    for i in range(half, n):
        runs.log_metric(run, "x", float(i), i, 5)
    values = [v for _, _, chunk in runs.metric_series(run, "x") for v in chunk]
    assert values == [float(i) for i in range(n)]
    assert runs.read_run(run).metrics["x"] == float(n - 1)


def test_tags_are_set_and_deleted_and_deleting_a_missing_tag_is_an_error(runs: RunStore, run: str) -> None:
    runs.log_batch(run, tags={"team": "vision", "stage": "dev"})
    runs.log_batch(run, tags={"stage": "prod"}, delete_tags=["team"])
    with pytest.raises(ResourceDoesNotExist, match="No tag with name: team"):
        runs.log_batch(run, delete_tags=["team"])
    assert dict(runs.read_run(run).tags) == {"mlflow.runName": "lr-0.1", "stage": "prod"}
    assert dict(runs.read_state(run).tags) == {"mlflow.runName": "lr-0.1", "stage": "prod"}


def test_a_deleted_run_takes_no_writes_but_can_be_restored(runs: RunStore, run: str) -> None:
    runs.update_info(run, {"lifecycle_stage": "deleted"})
    refused = (
        lambda: runs.log_batch(run, params={"a": "1"}),
        lambda: runs.log_metric(run, "m", 1.0, 0, 1),
        lambda: runs.update_info(run, {"status": "FINISHED"}),
        lambda: runs.update_map(run, layout.MODELS_FILE, {"m": {"model_id": "m-1"}}),
        lambda: runs.put_files(run, {layout.CODE_DIR: None}),
    )
    for call in refused:
        with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
            call()
    runs.update_info(run, {"lifecycle_stage": "active"}, allow_deleted=True)
    runs.log_batch(run, params={"a": "1"})
    record = runs.read_run(run)
    assert (record.lifecycle_stage, record.status, dict(record.params), dict(record.metrics)) == (
        "active",
        "RUNNING",
        {"a": "1"},
        {},
    )


def test_info_updates_are_read_back(runs: RunStore, run: str) -> None:
    runs.update_info(run, {"status": "FINISHED", "end_time": 1_700_000_000_500, "run_name": "renamed"})
    assert runs.read_state(run).info["status"] == "FINISHED"
    record = runs.read_run(run)
    assert (record.status, record.end_time, record.run_name) == ("FINISHED", 1_700_000_000_500, "renamed")


def test_mapping_files_merge_key_by_key_and_reach_the_record(runs: RunStore, run: str) -> None:
    model = {"model_id": "m-1", "digest": "sha256:ab", "flavors": ["sklearn"]}
    runs.update_map(run, layout.MODELS_FILE, {"model": model, "old": {"model_id": "m-0"}})
    runs.update_map(run, layout.MODELS_FILE, {}, delete=["old"])
    runs.update_map(run, layout.DATASETS_FILE, {"d1": {"name": "iris", "digest": "12ab", "context": "train"}})
    state = runs.read_state(run, maps=[layout.MODELS_FILE, layout.ARTIFACTS_FILE])
    assert state.maps == {layout.MODELS_FILE: {"model": model}, layout.ARTIFACTS_FILE: {}}
    record = runs.read_run(run)
    assert dict(record.models) == {"model": model}
    assert dict(record.datasets) == {"d1": {"name": "iris", "digest": "12ab", "context": "train"}}


def test_extra_tree_entries_are_set_read_and_removed(runs: RunStore, run: str, objects: Repository) -> None:
    blob = objects.write_blob(b"python: 3.11\n")
    runs.put_files(run, {layout.ENVIRONMENT_FILE: (MODE_BLOB, blob)})
    runs.flush()
    assert runs.read_state(run, files=[layout.ENVIRONMENT_FILE, layout.CODE_DIR]).files == {
        layout.ENVIRONMENT_FILE: (MODE_BLOB, blob)
    }
    runs.put_files(run, {layout.ENVIRONMENT_FILE: None})
    assert runs.read_state(run, files=[layout.ENVIRONMENT_FILE]).files == {}


def test_files_given_at_creation_are_part_of_the_run(runs: RunStore, objects: Repository) -> None:
    tree = objects.write_tree(
        {"train.py": TreeEntry("train.py", MODE_BLOB, objects.write_blob(b"print(1)\n"))}
    )
    runs.create_run(OTHER, _info(OTHER), {}, {layout.CODE_DIR: (MODE_TREE, tree)})
    runs.flush()
    assert runs.read_state(OTHER, files=[layout.CODE_DIR]).files == {layout.CODE_DIR: (MODE_TREE, tree)}


def test_nothing_is_lost_by_release_and_reads_see_every_write(runs: RunStore, run: str) -> None:
    runs.open_run(run, owned=True)
    runs.log_batch(run, params={"p": "1"}, tags={"t": "x"})
    runs.log_metric(run, "m", 2.5, 0, 10)
    runs.update_info(run, {"status": "FINISHED"})
    runs.release(run)
    record = runs.read_run(run)
    assert (dict(record.params), record.tags["t"], dict(record.metrics), record.status) == (
        {"p": "1"},
        "x",
        {"m": 2.5},
        "FINISHED",
    )
    assert runs.run_exists(run)


def test_runs_do_not_see_each_others_writes(runs: RunStore, run: str) -> None:
    runs.create_run(OTHER, _info(OTHER, run_name="other"), {}, {})
    runs.log_batch(run, params={"a": "1"}, tags={"only": "first"})
    runs.log_metric(OTHER, "m", 1.0, 0, 1)
    first, second = runs.read_run(run), runs.read_run(OTHER)
    assert (dict(first.params), dict(first.metrics), first.tags.get("only")) == ({"a": "1"}, {}, "first")
    assert (dict(second.params), dict(second.metrics), "only" in second.tags) == ({}, {"m": 1.0}, False)
