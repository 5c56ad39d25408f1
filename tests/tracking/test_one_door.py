"""The fluent API reaches the store only through Client's public methods, and the
integrations only through fluent's public surface (issue 12, "one door")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import gitrun
from gitrun import MlflowClient
from gitrun.errors import InvalidParameterValue
from gitrun.tracking import fluent

pytestmark = pytest.mark.usefixtures("in_repo")


def test_log_metric_refuses_an_unknown_keyword_like_mlflow() -> None:
    with gitrun.start_run() as run:
        with pytest.raises(TypeError, match="stepp"):
            gitrun.log_metric("loss", 1.0, stepp=3)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="stepp"):
            gitrun.log_metrics({"loss": 1.0}, stepp=3)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="stepp"):
            MlflowClient().log_metric(run.info.run_id, "loss", 1.0, stepp=3)  # type: ignore[call-arg]
        # MLflow's own optional parameters are accepted.
        gitrun.log_metric("loss", 2.0, step=1, synchronous=True, dataset=None)
        MlflowClient().log_metric(run.info.run_id, "acc", 0.5, dataset_name="d", dataset_digest="x")
    assert gitrun.get_run(run.info.run_id).data.metrics == {"loss": 2.0, "acc": 0.5}


def test_end_run_hook_runs_once_with_the_run_and_its_status() -> None:
    calls: list[tuple[str, str]] = []

    def hook(run_id: str, status: str) -> None:
        # Called before the run is terminated: it may still log into it.
        gitrun.log_metric("at_end", 1.0, run_id=run_id)
        calls.append((run_id, status))

    fluent.add_end_run_hook(hook)
    fluent.add_end_run_hook(hook)  # added once
    try:
        with gitrun.start_run() as run:
            pass
        with gitrun.start_run() as other:
            with gitrun.start_run(nested=True) as child:
                pass
            fluent.end_run_by_id(other.info.run_id, "KILLED")
    finally:
        fluent.remove_end_run_hook(hook)
    with gitrun.start_run():
        pass  # removed: not called any more
    assert calls == [
        (run.info.run_id, "FINISHED"),
        (child.info.run_id, "FINISHED"),
        (other.info.run_id, "KILLED"),
    ]
    assert gitrun.get_run(run.info.run_id).data.metrics == {"at_end": 1.0}
    assert gitrun.get_run(other.info.run_id).info.status == "KILLED"


def test_the_fluent_package_exports_no_private_state() -> None:
    private = {name for name in fluent.__all__ if name.startswith("_")}
    assert private == {"_end_runs_at_exit"}  # gitrun's own test fixture
    for name in ("_client", "_stack", "_end_run_hooks", "_run_id"):
        assert not hasattr(fluent, name)


def test_the_fluent_api_touches_no_store_behind_the_client() -> None:
    """The import contracts see imports, not attributes: ``_client().store`` would pass
    them.  Fluent code names none of the client's internals."""
    root = Path(fluent.__file__).parent
    found = [
        f"{path.name}:{node.lineno} .{node.attr}"
        for path in sorted(root.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute)
        and node.attr in {"store", "runs", "writer", "records", "experiments"}
    ]
    assert found == []


def test_metric_logger_validates_as_log_metric() -> None:
    client = MlflowClient()
    run = client.create_run("0")
    log = client.metric_logger(run.info.run_id)
    log("loss", 3, None, None)  # an int value is stored as a float, step None is 0
    log("loss", 0.5, 7, 1000)
    with pytest.raises(InvalidParameterValue, match="Invalid metric name"):
        log("../up", 1.0, None, None)
    with pytest.raises(InvalidParameterValue, match="invalid step"):
        log("loss", 1.0, "x", None)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="Invalid run ID"):
        client.metric_logger("not a run id!")
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.value, m.step) for m in history] == [(3.0, 0), (0.5, 7)]
    assert history[1].timestamp == 1000


def test_client_uses_the_tracking_uri_set_through_fluent(tmp_path: object) -> None:
    store = f"file://{tmp_path}/elsewhere"
    gitrun.set_tracking_uri(store)
    try:
        client = MlflowClient()
        assert client.tracking_uri == store
        run_id = client.create_run("0").info.run_id
        with gitrun.start_run(run_id=run_id):
            gitrun.log_metric("m", 1.0)
        assert client.get_run(run_id).data.metrics == {"m": 1.0}
    finally:
        gitrun.set_tracking_uri(None)


def test_a_child_process_inherits_the_experiment_and_not_an_ended_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os
    import subprocess
    import sys

    experiment = gitrun.set_experiment("inherited")
    with gitrun.start_run() as parent:
        pass
    # As `gitrun run` does: the run to resume comes through the environment, once.
    monkeypatch.setenv("GITRUN_RUN_ID", parent.info.run_id)
    with gitrun.start_run() as resumed:
        assert "GITRUN_RUN_ID" not in os.environ
    assert resumed.info.run_id == parent.info.run_id
    code = "import gitrun\nwith gitrun.start_run() as r:\n    print(r.info.experiment_id, r.info.run_id)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    experiment_id, child_run = out.stdout.split()
    assert experiment_id == experiment.experiment_id
    assert child_run != parent.info.run_id
