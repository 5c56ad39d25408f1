"""The tracking-layer functions behind the MLflow server and import-mlflow:
runs made elsewhere (ingest), dataset inputs, logged models, latest points, and the
idempotent, resumable run import."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gitrun.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from gitrun.tracking import datasets, imports, ingest
from gitrun.tracking import entities as ent
from gitrun.tracking import logged_models as lm
from gitrun.tracking.client import Client
from gitrun.tracking.latest import latest_points
from tests.conftest import git


@pytest.fixture
def client(work_repo: Path) -> Client:
    return Client(str(work_repo))


def test_create_run_keeps_what_the_remote_client_says(client: Client, work_repo: Path) -> None:
    (work_repo / "train.py").write_text("changed, uncommitted\n")
    run_id = ingest.create_run(
        client.store,
        ingest.RunSpec(
            "0", run_id="a" * 32, user_id="alice", start_time=1234, tags={"mlflow.parentRunId": "p1"}
        ),
    )
    assert run_id == "a" * 32
    run = client.get_run(run_id)
    assert (run.info.user_id, run.info.start_time, run.info.status) == ("alice", 1234, "RUNNING")
    assert run.data.tags["mlflow.runName"] == run.info.run_name != ""
    record = ingest.read_info(client.store, run_id)
    assert record["parent_run_id"] == "p1"
    assert record["source"]["origin"] == "mlflow-rest"
    # Nothing of this process is captured: the code ran on the client.
    assert "code" not in record and "gitrun.git.dirty" not in run.data.tags
    with pytest.raises(ResourceAlreadyExists):
        ingest.create_run(client.store, ingest.RunSpec("0", run_id="a" * 32))


def test_create_run_refusals(client: Client) -> None:
    with pytest.raises(ResourceDoesNotExist):
        ingest.create_run(client.store, ingest.RunSpec("999"))
    with pytest.raises(InvalidParameterValue, match="different"):
        ingest.create_run(client.store, ingest.RunSpec("0", run_name="a", tags={"mlflow.runName": "b"}))
    exp = client.create_experiment("gone")
    client.delete_experiment(exp)
    with pytest.raises(InvalidParameterValue, match="active"):
        ingest.create_run(client.store, ingest.RunSpec(exp))
    user = ingest.create_run(client.store, ingest.RunSpec("0", tags={"mlflow.user": "bob"}))
    assert client.get_run(user).info.user_id == "bob"


def test_update_run_changes_only_what_is_given(client: Client) -> None:
    run_id = ingest.create_run(client.store, ingest.RunSpec("0", run_name="first"))
    ingest.update_run(client.store, run_id, status="FINISHED", end_time=99)
    run = client.get_run(run_id)
    assert (run.info.status, run.info.end_time, run.info.run_name) == ("FINISHED", 99, "first")
    ingest.update_run(client.store, run_id, run_name="second")
    run = client.get_run(run_id)
    assert (run.info.status, run.info.run_name, run.data.tags["mlflow.runName"]) == (
        "FINISHED",
        "second",
        "second",
    )
    with pytest.raises(InvalidParameterValue, match="status"):
        ingest.update_run(client.store, run_id, status="BOGUS")
    with pytest.raises(ResourceDoesNotExist):
        ingest.update_run(client.store, "b" * 32)


def test_metric_columns_fast_path_and_fallback(client: Client) -> None:
    cols = ingest.metric_columns(["a", "a", "b"], [1, 2.5, 3], [0, 1, 0], [10, 11, 12])
    assert cols == (["a", "a", "b"], [1.0, 2.5, 3.0], [0, 1, 0], [10, 11, 12])
    assert isinstance(cols[1][0], float)
    assert ingest.metric_columns(["a"], ["NaN"], [0], [1]) is None  # strings: per-point path
    assert ingest.metric_columns(["a"], [1.0], [0], [-1]) is None  # negative timestamp
    assert ingest.metric_columns(["a"], [1.0], [2**63], [1]) is None
    assert ingest.metric_columns([5], [1.0], [0], [1]) is None
    with pytest.raises(InvalidParameterValue):
        ingest.metric_columns(["bad#key"], [1.0], [0], [1])
    run_id = ingest.create_run(client.store, ingest.RunSpec("0"))
    assert cols is not None
    ingest.log_metric_columns(client.store, run_id, cols)
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "a")] == [(0, 1.0), (1, 2.5)]
    latest = latest_points(client.store, run_id)
    assert (latest["a"].step, latest["a"].timestamp, latest["a"].value) == (1, 11, 2.5)
    with pytest.raises(ResourceDoesNotExist):
        latest_points(client.store, "c" * 32)


def test_datasets_round_trip(client: Client) -> None:
    run_id = ingest.create_run(client.store, ingest.RunSpec("0"))
    item = ent.DatasetInput(
        ent.Dataset("train", "abc123", "code", '{"x": 1}', schema="{}", profile=None),
        [ent.InputTag("mlflow.data.context", "training")],
    )
    datasets.log_datasets(client.store, run_id, [item, item])
    client.flush()
    found = datasets.run_datasets(client.store, run_id)
    assert found == [item]
    with pytest.raises(InvalidParameterValue, match="name and a digest"):
        datasets.log_datasets(client.store, run_id, [ent.DatasetInput(ent.Dataset("", "d", "", ""))])


def test_logged_models(client: Client) -> None:
    exp = client.create_experiment("models")
    run_id = ingest.create_run(client.store, ingest.RunSpec(exp))
    model = lm.create(
        client.store, exp, "model", source_run_id=run_id, params={"alpha": "1"}, tags={"t": "v"}
    )
    assert model.model_id.startswith(f"m-{run_id}-") and model.status == lm.PENDING
    assert lm.run_of(model.model_id) == run_id
    ready = lm.update(client.store, model.model_id, status=lm.READY, params={"beta": "2"}, delete_tags=["t"])
    assert ready.status == lm.READY and ready.params == {"alpha": "1", "beta": "2"} and ready.tags == {}
    client.flush()
    assert lm.get(client.store, model.model_id) == ready
    assert [m.model_id for m in lm.search(client.store, [exp], "model")] == [model.model_id]
    assert lm.search(client.store, [exp], "other") == []
    assert lm.folders_of(client.store, run_id) == {"model"}
    # No source run: the model gets a run of its own.
    alone = lm.create(client.store, exp, "solo")
    assert alone.source_run_id is None and client.get_run(alone.run_id).info.run_name == "solo"
    with pytest.raises(ResourceDoesNotExist):
        lm.get(client.store, "m-nope")
    with pytest.raises(ResourceDoesNotExist):
        lm.get(client.store, f"m-{run_id}-00000000")
    with pytest.raises(InvalidParameterValue):
        lm.update(client.store, model.model_id, status="DONE")
    with pytest.raises(InvalidParameterValue, match="folder"):
        lm.create(client.store, exp, "a/b", source_run_id=run_id)
    with pytest.raises(InvalidParameterValue, match="belongs"):
        lm.create(client.store, "0", "m", source_run_id=run_id)


def _imported(
    run_id: str, exp: str, more: int, fingerprint: str, stage: str = "active"
) -> imports.ImportedRun:
    # Sources only ever add points (a later import sees the earlier series as a prefix).
    series = [(s, 1000 + s, s / 2) for s in range(20)] + [(20, 5000, math.nan)]
    series += [(21 + i, 6000 + i, float(i)) for i in range(more)]
    return imports.ImportedRun(
        run_id=run_id,
        experiment_id=exp,
        run_name="imported",
        user_id="carol",
        status="FINISHED",
        start_time=10,
        end_time=20,
        lifecycle_stage=stage,
        params={"p": "1"},
        tags={"mlflow.runName": "imported", "k": "v"},
        metric_keys=["m"],
        history=lambda key: series,
        fingerprint=fingerprint,
        source="test",
    )


def test_sync_run_is_idempotent_and_completes_a_partial_run(client: Client, work_repo: Path) -> None:
    store = client.store
    exp = imports.ensure_experiment(store, "imp", {"team": "x"})
    assert imports.ensure_experiment(store, "imp", {"team": "x"}) == exp
    run = _imported("d" * 32, exp, 0, "f1", stage="deleted")
    assert imports.needs_sync(store, run)
    # An interrupted import left the run with its first points only.
    ingest.create_run(store, ingest.RunSpec(exp, run_id=run.run_id))
    store.writer.log_metric_columns(
        run.run_id, ["m"] * 5, [s / 2 for s in range(5)], list(range(5)), [1000 + s for s in range(5)]
    )
    assert imports.sync_run(store, run) == 16
    client.flush()
    got = client.get_run(run.run_id)
    assert (got.info.status, got.info.start_time, got.info.end_time) == ("FINISHED", 10, 20)
    assert (got.info.user_id, got.info.lifecycle_stage, got.data.params) == ("carol", "deleted", {"p": "1"})
    history = client.get_metric_history(run.run_id, "m")
    assert [(m.step, m.timestamp) for m in history] == [(s, 1000 + s) for s in range(20)] + [(20, 5000)]
    assert math.isnan(history[-1].value)
    assert not imports.needs_sync(store, run)
    tip = git(work_repo, "rev-parse", "refs/gitrun/records")
    assert not imports.needs_sync(store, run)
    assert git(work_repo, "rev-parse", "refs/gitrun/records") == tip
    # The source changed: the run is brought up to date, nothing doubled.
    changed = _imported(run.run_id, exp, 4, "f2")
    assert imports.needs_sync(store, changed)
    assert imports.sync_run(store, changed) == 4
    client.flush()
    steps = [m.step for m in client.get_metric_history(run.run_id, "m")]
    assert steps == list(range(25))
    assert client.get_run(run.run_id).info.lifecycle_stage == "active"
