"""restore_experiment, log_table/load_table, system metrics, ActiveRun attributes."""

from __future__ import annotations

import json
import time

import pytest

import gitrun
from gitrun import MlflowClient
from gitrun.errors import InvalidParameterValue

pytestmark = pytest.mark.usefixtures("in_repo")


def test_module_level_restore_experiment() -> None:
    experiment_id = gitrun.create_experiment("to-restore")
    with gitrun.start_run(experiment_id=experiment_id) as run:
        pass
    gitrun.delete_experiment(experiment_id)
    assert gitrun.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    gitrun.restore_experiment(experiment_id)
    assert gitrun.get_experiment(experiment_id).lifecycle_stage == "active"
    assert gitrun.get_run(run.info.run_id).info.lifecycle_stage == "active"


def test_log_table_appends_and_load_table_reads_across_runs() -> None:
    pd = pytest.importorskip("pandas")
    ids = []
    for n in (1, 2):
        with gitrun.start_run() as run:
            gitrun.log_table({"q": [f"q{n}"], "score": [n / 10]}, "eval/table.json")
            gitrun.log_table(pd.DataFrame({"q": [f"r{n}"], "score": [n]}), "eval/table.json")
            ids.append(run.info.run_id)
    stored = json.loads(gitrun.artifacts.load_text(f"runs:/{ids[0]}/eval/table.json"))
    assert stored == {"columns": ["q", "score"], "data": [["q1", 0.1], ["r1", 1.0]]}
    tags = json.loads(gitrun.get_run(ids[0]).data.tags["mlflow.loggedArtifacts"])
    assert tags == [{"path": "eval/table.json", "type": "table"}]
    table = gitrun.load_table("eval/table.json", extra_columns=["run_id"])
    assert sorted(table["q"]) == ["q1", "q2", "r1", "r2"]
    assert set(table["run_id"]) == set(ids)
    one = gitrun.load_table("eval/table.json", run_ids=[ids[1]])
    assert list(one["q"]) == ["q2", "r2"]
    with pytest.raises(InvalidParameterValue, match=r"must end with \.json"):
        gitrun.log_table({"a": [1]}, "table.csv")


def test_system_metrics_are_sampled_and_stop_with_the_run() -> None:
    gitrun.set_system_metrics_sampling_interval(0.05)
    try:
        with gitrun.start_run(log_system_metrics=True) as run:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                gitrun.flush()
                if "system/disk_usage_percentage" in MlflowClient().get_run(run.info.run_id).data.metrics:
                    break
                time.sleep(0.1)
    finally:
        gitrun.set_system_metrics_sampling_interval(None)
    metrics = gitrun.get_run(run.info.run_id).data.metrics
    expected = {
        "system/cpu_utilization_percentage",
        "system/system_memory_usage_megabytes",
        "system/system_memory_usage_percentage",
        "system/disk_usage_percentage",
        "system/disk_usage_megabytes",
        "system/disk_available_megabytes",
        "system/network_receive_megabytes",
        "system/network_transmit_megabytes",
    }
    assert expected <= set(metrics)
    assert 0 <= metrics["system/system_memory_usage_percentage"] <= 100
    history = MlflowClient().get_metric_history(run.info.run_id, "system/disk_usage_percentage")
    assert [m.step for m in history] == list(range(len(history)))
    count = len(history)
    time.sleep(0.3)  # the run ended: no more samples
    assert len(MlflowClient().get_metric_history(run.info.run_id, "system/disk_usage_percentage")) == count
    from gitrun.tracking import system_metrics

    assert run.info.run_id not in system_metrics._monitors


def test_system_metrics_without_psutil_read_proc(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from gitrun.tracking.system_metrics import Sampler

    real_import = builtins.__import__

    def no_psutil(name: str, *args: object, **kwargs: object) -> object:
        if name == "psutil":
            raise ImportError("no psutil here")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_psutil)
    sampler = Sampler()
    assert sampler._psutil is None
    time.sleep(0.05)
    sample = sampler.sample()
    assert 0 < sample["system_memory_usage_percentage"] < 100
    assert 0 <= sample["cpu_utilization_percentage"] <= 100
    assert sample["network_receive_megabytes"] >= 0


def test_active_run_attributes_mlflow_code_reads() -> None:
    with gitrun.start_run(run_name="attrs") as run:
        assert run.info.run_name == "attrs"
        assert run.outputs.model_outputs == []
        assert run.inputs.dataset_inputs == []
        assert run.to_dictionary()["info"]["run_id"] == run.info.run_id
        assert run.data.tags["mlflow.runName"] == "attrs"
