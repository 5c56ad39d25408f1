"""The fluent API's run-stack semantics (reference §3)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import gitrun
from gitrun import MlflowClient
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist

pytestmark = pytest.mark.usefixtures("in_repo")


def test_second_top_level_run_is_refused_with_bottom_run_id() -> None:
    with gitrun.start_run() as outer:
        with gitrun.start_run(nested=True):
            with pytest.raises(Exception, match=f"Run with UUID {outer.info.run_id} is already active"):
                gitrun.start_run()


def test_exception_marks_failed_and_propagates() -> None:
    with pytest.raises(ZeroDivisionError):
        with gitrun.start_run() as run:
            gitrun.log_metric("x", 1)
            1 / 0
    stored = gitrun.get_run(run.info.run_id)
    assert stored.info.status == "FAILED"
    assert stored.info.end_time is not None
    assert stored.data.metrics == {"x": 1.0}
    assert gitrun.active_run() is None


def test_keyboard_interrupt_marks_killed() -> None:
    with pytest.raises(KeyboardInterrupt):
        with gitrun.start_run() as run:
            raise KeyboardInterrupt
    assert gitrun.get_run(run.info.run_id).info.status == "KILLED"


def test_implicit_run_stays_active() -> None:
    gitrun.log_param("p", 1)
    active = gitrun.active_run()
    assert active is not None
    gitrun.log_metric("m", 2.0)
    gitrun.end_run()
    stored = gitrun.get_run(active.info.run_id)
    assert stored.data.params == {"p": "1"} and stored.data.metrics == {"m": 2.0}
    assert stored.info.status == "FINISHED"


def test_resume_by_id_keeps_end_time_and_renames() -> None:
    with gitrun.start_run(run_name="first") as run:
        gitrun.log_metric("loss", 1.0, step=0)
    ended = gitrun.get_run(run.info.run_id).info.end_time
    with gitrun.start_run(run_id=run.info.run_id, run_name="second") as resumed:
        assert resumed.info.status == "RUNNING"
        assert resumed.info.end_time == ended
        gitrun.log_metric("loss", 0.5, step=1)
    stored = gitrun.get_run(run.info.run_id)
    assert stored.info.run_name == "second" and stored.data.tags["mlflow.runName"] == "second"
    history = MlflowClient().get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5)]


def test_resume_from_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    with gitrun.start_run() as run:
        pass
    monkeypatch.setenv("GITRUN_RUN_ID", run.info.run_id)
    with gitrun.start_run() as again:
        assert again.info.run_id == run.info.run_id
    assert "GITRUN_RUN_ID" not in os.environ


def test_parent_run_id_and_description() -> None:
    with gitrun.start_run() as parent:
        pass
    with gitrun.start_run(parent_run_id=parent.info.run_id, description="notes") as child:
        pass
    tags = gitrun.get_run(child.info.run_id).data.tags
    assert tags["mlflow.parentRunId"] == parent.info.run_id
    assert tags["mlflow.note.content"] == "notes"
    with pytest.raises(InvalidParameterValue, match="Description is already set"):
        gitrun.start_run(description="a", tags={"mlflow.note.content": "b"})
    with pytest.raises(ResourceDoesNotExist):
        gitrun.start_run(parent_run_id="0" * 32)


def test_nested_with_empty_stack_is_top_level() -> None:
    with gitrun.start_run(nested=True) as run:
        pass
    assert "mlflow.parentRunId" not in gitrun.get_run(run.info.run_id).data.tags


def test_run_name_overrides_tag_and_generated_names() -> None:
    with gitrun.start_run(run_name="given", tags={"mlflow.runName": "tag"}) as run:
        pass
    assert gitrun.get_run(run.info.run_id).info.run_name == "given"
    with gitrun.start_run() as unnamed:
        name = unnamed.info.run_name
    assert len(name) <= 20 and name.count("-") == 2


def test_last_active_run() -> None:
    assert gitrun.last_active_run() is None
    with gitrun.start_run() as run:
        gitrun.log_param("a", "b")
        assert gitrun.last_active_run().info.run_id == run.info.run_id  # type: ignore[union-attr]
    last = gitrun.last_active_run()
    assert last is not None and last.data.params == {"a": "b"} and last.info.status == "FINISHED"


def test_set_experiment_rules() -> None:
    with pytest.raises(InvalidParameterValue, match="exactly one"):
        gitrun.set_experiment()
    experiment = gitrun.set_experiment("exp-a")
    assert gitrun.set_experiment(experiment_id=experiment.experiment_id).name == "exp-a"
    with gitrun.start_run() as run:
        pass
    assert gitrun.get_run(run.info.run_id).info.experiment_id == experiment.experiment_id
    gitrun.delete_experiment(experiment.experiment_id)
    with pytest.raises(InvalidParameterValue, match="deleted experiment"):
        gitrun.set_experiment("exp-a")
    with pytest.raises(ResourceDoesNotExist):
        gitrun.set_experiment(experiment_id="12345")
    default = gitrun.get_experiment("0")
    assert default.name == "Default"


def test_create_experiment_unique_names() -> None:
    client = MlflowClient()
    exp_id = client.create_experiment("unique", tags={"team": "a"})
    assert isinstance(exp_id, str) and exp_id.isdigit()
    with pytest.raises(gitrun.MlflowException) as info:
        client.create_experiment("unique")
    assert info.value.error_code == "RESOURCE_ALREADY_EXISTS"
    assert client.get_experiment(exp_id).tags == {"team": "a"}
    client.rename_experiment(exp_id, "renamed")
    assert client.get_experiment_by_name("renamed").experiment_id == exp_id  # type: ignore[union-attr]
    assert client.get_experiment_by_name("unique") is None


def test_nan_and_infinities_kept_exactly() -> None:
    with gitrun.start_run() as run:
        gitrun.log_metric("nan", float("nan"))
        gitrun.log_metric("inf", float("inf"), step=1)
        gitrun.log_metric("ninf", float("-inf"))
        gitrun.log_metric("tiny", 5e-324)
        gitrun.log_metric("numeric_string", "3.5")
        gitrun.log_metric("bool", True)
    metrics = gitrun.get_run(run.info.run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == math.inf and metrics["ninf"] == -math.inf
    assert metrics["tiny"] == 5e-324 and metrics["numeric_string"] == 3.5 and metrics["bool"] == 1.0


def test_latest_value_is_greatest_step_timestamp_value() -> None:
    client = MlflowClient()
    with gitrun.start_run() as run:
        gitrun.log_metric("m", 5.0, step=3, timestamp=100)
        gitrun.log_metric("m", 1.0, step=7, timestamp=50)
        gitrun.log_metric("m", 9.0, step=2, timestamp=999)
    assert client.get_run(run.info.run_id).data.metrics["m"] == 1.0
    assert [m.value for m in client.get_metric_history(run.info.run_id, "m")] == [5.0, 1.0, 9.0]


def test_param_reuse_and_conflict() -> None:
    with gitrun.start_run() as run:
        gitrun.log_param("p", 1)
        gitrun.log_param("p", "1")  # same string: silent no-op
        with pytest.raises(InvalidParameterValue, match="Changing param values is not allowed"):
            gitrun.log_param("p", 2)
        gitrun.log_metric("after", 1.0)
    stored = gitrun.get_run(run.info.run_id)
    assert stored.data.params == {"p": "1"} and stored.data.metrics == {"after": 1.0}


def test_delete_tag_and_runs() -> None:
    client = MlflowClient()
    with gitrun.start_run() as run:
        gitrun.set_tag("t", "v")
        gitrun.delete_tag("t")
        with pytest.raises(ResourceDoesNotExist, match="No tag with name: t"):
            gitrun.delete_tag("t")
    run_id = run.info.run_id
    assert "t" not in client.get_run(run_id).data.tags
    client.delete_run(run_id)
    stored = client.get_run(run_id)
    assert stored.info.lifecycle_stage == "deleted" and stored.info.status == "FINISHED"
    with pytest.raises(InvalidParameterValue, match="must be in the 'active' state"):
        client.log_metric(run_id, "x", 1.0)
    client.restore_run(run_id)
    client.log_metric(run_id, "x", 1.0)
    assert client.get_run(run_id).data.metrics == {"x": 1.0}


def test_client_runs_do_not_touch_the_stack() -> None:
    client = MlflowClient()
    run = client.create_run("0", run_name="c", tags={"k": "v"})
    assert gitrun.active_run() is None
    assert run.info.status == "RUNNING" and run.data.tags["mlflow.runName"] == "c"
    client.log_batch(
        run.info.run_id,
        metrics=[gitrun.entities.Metric("a", 1.0, 10, 0)],
        params=[gitrun.entities.Param("p", "x")],
        tags=[gitrun.entities.RunTag("t", "y")],
    )
    client.set_terminated(run.info.run_id, "KILLED", end_time=1234)
    stored = client.get_run(run.info.run_id)
    assert stored.info.status == "KILLED" and stored.info.end_time == 1234
    assert stored.data.params == {"p": "x"} and stored.data.tags["t"] == "y"
    with pytest.raises(InvalidParameterValue, match="different values"):
        client.create_run("0", run_name="a", tags={"mlflow.runName": "b"})
    with pytest.raises(InvalidParameterValue, match="Duplicate parameter keys"):
        client.log_batch(
            run.info.run_id, params=[gitrun.entities.Param("d", "1"), gitrun.entities.Param("d", "1")]
        )


def test_end_run_with_bad_status_pops_the_run() -> None:
    run = gitrun.start_run()
    with pytest.raises(Exception, match="Could not get run status"):
        gitrun.end_run("DONE")
    assert gitrun.active_run() is None
    assert gitrun.get_run(run.info.run_id).info.status == "RUNNING"


def _run_script(repo: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = repo / "script.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run(
        [sys.executable, str(script)], cwd=repo, capture_output=True, text=True, check=False
    )


def test_dangling_run_ended_at_exit(in_repo: Path) -> None:
    out = _run_script(
        in_repo,
        """
        import gitrun
        run = gitrun.start_run()
        gitrun.log_metric("m", 1.0)
        print(run.info.run_id)
    """,
    )
    assert out.returncode == 0, out.stderr
    stored = gitrun.get_run(out.stdout.strip())
    assert stored.info.status == "FINISHED" and stored.data.metrics == {"m": 1.0}


def test_crashed_script_ends_its_run_failed(in_repo: Path) -> None:
    out = _run_script(
        in_repo,
        """
        import gitrun
        run = gitrun.start_run()
        print(run.info.run_id, flush=True)
        raise SystemError("boom")
    """,
    )
    assert out.returncode == 1 and "boom" in out.stderr
    assert gitrun.get_run(out.stdout.strip()).info.status == "FAILED"


def test_tracking_uri_rules(tmp_path: Path, in_repo: Path) -> None:
    assert gitrun.get_tracking_uri() == f"file://{in_repo}"
    assert not gitrun.is_tracking_uri_set()
    gitrun.set_tracking_uri(tmp_path / "store")
    assert os.environ["GITRUN_TRACKING_URI"] == f"file://{tmp_path}/store"
    with gitrun.start_run() as run:
        pass
    assert (tmp_path / "store" / "HEAD").exists()
    assert gitrun.get_run(run.info.run_id).info.status == "FINISHED"
    gitrun.set_tracking_uri(None)
    assert "GITRUN_TRACKING_URI" not in os.environ
    with pytest.raises(InvalidParameterValue, match="no tracking server"):
        gitrun.set_tracking_uri("http://localhost:5000")
    (tmp_path / "mlruns").mkdir()
    (tmp_path / "mlruns" / "0").mkdir()
    gitrun.set_tracking_uri(str(tmp_path / "mlruns"))
    with pytest.raises(InvalidParameterValue, match="not empty and is not a git repository"):
        gitrun.start_run()


def test_outside_any_repository_uses_a_standalone_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "plain"
    outside.mkdir()
    monkeypatch.chdir(outside)
    with gitrun.start_run() as run:
        gitrun.log_metric("m", 1.0)
    assert (outside / ".gitrun" / "HEAD").exists()
    assert gitrun.get_run(run.info.run_id).data.metrics == {"m": 1.0}
    assert "code" not in gitrun.get_run(run.info.run_id).record


def test_deleting_an_experiment_deletes_its_runs_and_restoring_restores_them() -> None:
    client = MlflowClient()
    experiment = gitrun.set_experiment("to-delete")
    with gitrun.start_run() as kept:
        pass
    with gitrun.start_run() as deleted_before:
        pass
    client.delete_run(deleted_before.info.run_id)
    client.delete_experiment(experiment.experiment_id)
    assert client.get_experiment(experiment.experiment_id).lifecycle_stage == "deleted"
    assert client.get_run(kept.info.run_id).info.lifecycle_stage == "deleted"
    assert gitrun.search_runs([experiment.experiment_id], output_format="list") == []
    client.restore_experiment(experiment.experiment_id)
    assert client.get_run(kept.info.run_id).info.lifecycle_stage == "active"
    # A run the user had deleted on its own stays deleted.
    assert client.get_run(deleted_before.info.run_id).info.lifecycle_stage == "deleted"


def test_client_created_runs_outlive_their_process(in_repo: Path) -> None:
    out = _run_script(
        in_repo,
        """
        import gitrun
        print(gitrun.MlflowClient().create_run("0").info.run_id)
    """,
    )
    assert out.returncode == 0, out.stderr
    assert gitrun.get_run(out.stdout.strip()).info.status == "RUNNING"  # as in MLflow
