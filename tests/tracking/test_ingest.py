"""The tracking-layer functions behind the MLflow server and import-mlflow:
runs made elsewhere (ingest), dataset inputs, logged models, latest points, and the
idempotent, resumable run import."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gitrun.core.records import layout
from gitrun.core.records.run_store import MetricColumns
from gitrun.errors import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from gitrun.tracking import datasets, imports, ingest
from gitrun.tracking import entities as ent
from gitrun.tracking import logged_models as lm
from gitrun.tracking.client import Client
from gitrun.tracking.latest import latest_points
from gitrun.tracking.validation import metric_columns, plain_metric_columns
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
    with pytest.raises(InvalidParameterValue, match="Unicode"):  # one rule with Client.create_run
        ingest.create_run(client.store, ingest.RunSpec("0", run_name="donn\udce9es"))
    with pytest.raises(InvalidParameterValue, match="Unicode"):
        client.create_run("0", run_name="donn\udce9es")
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
    cols = plain_metric_columns(["a", "a", "b"], [1, 2.5, 3], [0, 1, 0], [10, 11, 12])
    assert cols == (["a", "a", "b"], [1.0, 2.5, 3.0], [0, 1, 0], [10, 11, 12])
    assert isinstance(cols[1][0], float)
    assert plain_metric_columns(["a"], ["NaN"], [0], [1]) is None  # strings: per-point path
    assert plain_metric_columns(["a"], [1.0], [0], [-1]) is None  # negative timestamp
    assert plain_metric_columns(["a"], [1.0], [2**63], [1]) is None
    assert plain_metric_columns([5], [1.0], [0], [1]) is None
    with pytest.raises(InvalidParameterValue):
        plain_metric_columns(["bad#key"], [1.0], [0], [1])
    run_id = ingest.create_run(client.store, ingest.RunSpec("0"))
    assert cols is not None
    ingest.log_metric_columns(client.store, run_id, cols)
    assert [(m.step, m.value) for m in client.get_metric_history(run_id, "a")] == [(0, 1.0), (1, 2.5)]
    latest = latest_points(client.store, run_id)
    assert (latest["a"].step, latest["a"].timestamp, latest["a"].value) == (1, 11, 2.5)
    with pytest.raises(ResourceDoesNotExist):
        latest_points(client.store, "c" * 32)


def test_the_rest_batch_column_check_is_the_one_validation() -> None:
    """What ``log-batch``'s column check accepts, ``log_batch``'s columns accept with the
    same values (bounds included); a key it refuses, they refuse with the same message."""
    edges = [
        (["a", "b"], [1, 2.5], [0, -5], [0, 2**63 - 1]),
        (["a", "a"], [-0.0, float("inf")], [-(2**63), 2**63 - 1], [0, 0]),
    ]
    for columns in edges:
        plain = plain_metric_columns(*columns)
        assert plain is not None
        assert tuple(map(list, metric_columns(*columns))) == plain
    for outside in ([-(2**63) - 1], [2**63]):
        assert plain_metric_columns(["a"], [1.0], outside, [1]) is None
        with pytest.raises(InvalidParameterValue):
            metric_columns(["a"], [1.0], outside, [1])
    for key in ("bad#key", "../up", ""):
        with pytest.raises(InvalidParameterValue) as plain_error:
            plain_metric_columns([key], [1.0], [0], [1])
        with pytest.raises(InvalidParameterValue) as batch_error:
            metric_columns([key], [1.0], [0], [1])
        assert str(plain_error.value) == str(batch_error.value)


def test_dataset_inputs_from_mlflow_messages(client: Client) -> None:
    run_id = ingest.create_run(client.store, ingest.RunSpec("0"))
    item = ent.DatasetInput(
        ent.Dataset("train", "abc123", "code", '{"x": 1}', schema="{}", profile=None),
        [ent.InputTag("mlflow.data.context", "training"), ent.InputTag("team", "a")],
    )
    # The same dataset again (another context, here) adds nothing: the first input stays.
    again = ent.DatasetInput(item.dataset, [ent.InputTag("mlflow.data.context", "eval")])
    datasets.log_inputs(client.store, run_id, [item, again])
    datasets.log_inputs(client.store, run_id, [again])
    client.flush()
    assert datasets.run_datasets(client.store, run_id) == [item]
    assert client.get_run(run_id).inputs.dataset_inputs == [item]
    # One record format whichever way a dataset arrives: key <digest>/<name>, the
    # context beside the tags (the index reads it for dataset.context filters).
    recorded = client.store.records.load_yaml(
        client.store.records.entry(f"{layout.run_dir(run_id)}/{layout.DATASETS_FILE}").oid, "datasets.yaml"
    )
    assert list(recorded) == ["abc123/train"]
    assert recorded["abc123/train"]["context"] == "training"
    assert recorded["abc123/train"]["tags"] == {"mlflow.data.context": "training", "team": "a"}
    found = client.search_runs(["0"], "dataset.context = 'training' and dataset.name = 'train'")
    assert [r.info.run_id for r in found] == [run_id]
    with pytest.raises(InvalidParameterValue, match="name and a digest"):
        datasets.log_inputs(client.store, run_id, [ent.DatasetInput(ent.Dataset("", "d", "", ""))])
    with pytest.raises(InvalidParameterValue, match="at most"):
        datasets.log_inputs(
            client.store, run_id, [ent.DatasetInput(ent.Dataset("n", "d", "", "x" * 1_000_001))]
        )


def test_logged_model_created_uploaded_and_finalized(client: Client, tmp_path: Path) -> None:
    """MLflow 3's REST flow: create (PENDING, id minted) -> upload files -> finalize READY."""
    from gitrun.tracking.artifacts.records import read_entries

    exp = client.create_experiment("models")
    run_id = ingest.create_run(client.store, ingest.RunSpec(exp))
    model = client.create_logged_model(
        exp, "model", source_run_id=run_id, params={"alpha": "1"}, tags={"t": "v"}
    )
    assert model.model_id.startswith("m-") and len(model.model_id) == 34
    assert (model.status, model.digest, model.source_run_id) == ("PENDING", "", run_id)
    assert model.artifact_location == f"runs:/{run_id}/model"
    (tmp_path / "MLmodel").write_text(
        "flavors:\n  python_function: {}\n  sklearn: {}\nmodel_size_bytes: 42\n"
    )
    (tmp_path / "model.pkl").write_bytes(b"weights")
    for name in ("MLmodel", "model.pkl"):  # uploaded one by one, as the artifact proxy does
        client.log_artifact(run_id, tmp_path / name, "model")
    client.log_model_params(model.model_id, {"beta": "2"})
    client.delete_logged_model_tag(model.model_id, "t")
    with pytest.raises(ResourceDoesNotExist, match="No tag"):
        client.delete_logged_model_tag(model.model_id, "t")
    ready = client.finalize_logged_model(model.model_id, "READY")
    assert (ready.model_id, ready.status, ready.flavors) == (
        model.model_id,
        "READY",
        ("python_function", "sklearn"),
    )
    assert ready.params == {"alpha": "1", "beta": "2"} and ready.tags == {}
    sealed = read_entries(client.store, run_id)["model"]  # the folder became one entry
    assert ready.digest == str(sealed.digest) != ""
    assert [f.path for f in client.list_artifacts(run_id, "model")] == ["model/MLmodel", "model/model.pkl"]
    client.flush()
    assert client.get_logged_model(model.model_id) == ready
    assert client.get_run(run_id).outputs.model_outputs[0].model_id == model.model_id
    assert [m.model_id for m in client.search_logged_models([exp], "name = 'model'")] == [model.model_id]
    assert list(client.search_logged_models([exp], "name = 'other'")) == []
    # FAILED changes the status only.
    failed = client.create_logged_model(exp, "broken", source_run_id=run_id)
    assert client.finalize_logged_model(failed.model_id, "FAILED").status == "FAILED"
    with pytest.raises(InvalidParameterValue, match="READY or FAILED"):
        client.finalize_logged_model(failed.model_id, "DONE")


def test_logged_model_without_a_run_and_refusals(client: Client) -> None:
    exp = client.create_experiment("models")
    run_id = ingest.create_run(client.store, ingest.RunSpec(exp))
    # No source run: the model gets a run of its own, named after it.
    alone = client.create_logged_model(exp, "solo")
    holder_run, name = lm.locate(client.store, alone.model_id)
    assert alone.source_run_id is None and name == "solo"
    holder = client.get_run(holder_run)
    assert (holder.info.run_name, holder.info.status) == ("solo", "FINISHED")
    assert holder.data.tags[lm.HOLDER_TAG] == "true"
    with pytest.raises(ResourceDoesNotExist):
        client.get_logged_model("m-" + "0" * 32)
    with pytest.raises(ResourceDoesNotExist):
        client.create_logged_model("999", "m")
    with pytest.raises(InvalidParameterValue, match="folder"):
        client.create_logged_model(exp, "a/b", source_run_id=run_id)
    with pytest.raises(InvalidParameterValue, match="belongs"):
        client.create_logged_model("0", "m", source_run_id=run_id)


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
    store.runs.log_batch(
        run.run_id,
        metrics=MetricColumns(
            ["m"] * 5, [s / 2 for s in range(5)], list(range(5)), [1000 + s for s in range(5)]
        ),
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
