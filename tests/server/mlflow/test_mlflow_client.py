"""The real MLflow client against `gitrun server`: the tutorial flow, then gitrun's own
API reads back exactly what was logged (runs logged through the server are ordinary
gitrun runs)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gitrun.tracking.client import Client
from tests.server.mlflow.harness import Server, run_client


def test_tutorial_flow_through_the_mlflow_client(served_repo: tuple[Path, Server], tmp_path: Path) -> None:
    repo, server = served_repo
    work = tmp_path / "client"
    work.mkdir()
    out = run_client("tutorial.py", str(work), tracking_uri=server.url)
    server.stop()  # SIGTERM: uvicorn shuts down, the server commits what is pending ...
    assert not list((repo / ".git" / "gitrun" / "journal").glob("*.jnl"))  # ... and leaves no journal

    # What the client read back through the server.
    assert out["predictions_equal"] and out["pyfunc_equal"]
    assert out["downloaded_b"] is True
    assert out["text"] == "some text"
    assert out["weird"] == ["nan", "inf"]
    assert out["artifacts_root"] == ["config.json", "hello.txt", "notes", "sub", "t"]
    assert out["artifacts_t"] == [["t/a.txt", False, 1], ["t/inner", True, None]]
    assert [h[0] for h in out["history"]] == list(range(20))
    assert [h[2] for h in out["history"]] == [1.0 / (s + 1) for s in range(20)]
    assert set(out["ordered"][:3]) <= set(out["children"]) | set(out["ordered"])
    paged = out["paged"]
    assert out["pages"] == 2 and len(paged) == 3 and len(set(paged)) == 3
    assert out["first"] in paged and out["children"][2] not in paged
    assert out["autolog_params"]["max_iter"] == "200"
    assert "training_accuracy_score" in out["autolog_metrics"]
    assert out["autolog_datasets"], "sklearn autolog logs its training dataset as an input"

    # The same runs through gitrun's own API, from another process's point of view.
    client = Client(str(repo))
    exp = client.get_experiment_by_name("tutorial")
    assert exp is not None and exp.experiment_id == out["experiment_id"]
    first = client.get_run(out["first"])
    seen = out["first_run"]
    assert first.data.params == seen["params"] == {"lr": "0.01", "layers": "3", "optimizer": "adam"}
    assert first.data.tags == seen["tags"]
    assert first.data.tags["team"] == "vision" and "b" not in first.data.tags
    assert math.isinf(first.data.metrics["weird"]) and seen["metrics"]["weird"] == "inf"
    assert {k: v for k, v in first.data.metrics.items() if k != "weird"} == {
        k: v for k, v in seen["metrics"].items() if k != "weird"
    }
    assert first.info.status == seen["status"] == "FINISHED"
    assert (first.info.start_time, first.info.end_time) == (seen["start_time"], seen["end_time"])
    assert first.info.run_name == "first" and first.info.user_id == seen["user"]
    history = client.get_metric_history(out["first"], "loss")
    assert [[m.step, m.timestamp, m.value] for m in history] == out["history"]
    weird = client.get_metric_history(out["first"], "weird")
    assert math.isnan(weird[0].value) and weird[1].value == math.inf
    # Artifacts, byte for byte, through gitrun's store (content-addressed, verified).
    files = {f.path for f in client.list_artifacts(out["first"])}
    assert files == {"config.json", "hello.txt", "notes", "sub", "t"}
    local = Path(client.download_artifacts(out["first"], "t", str(tmp_path / "dl")))
    assert (local / "inner" / "b.bin").read_bytes() == bytes(range(256)) * 40
    assert (local / "a.txt").read_text() == "a"
    assert Path(
        client.download_artifacts(out["first"], "sub/dir/hello.txt", str(tmp_path / "d2"))
    ).read_text() == ("hello artifacts\n")
    # Nested runs keep their parent.
    for child in out["children"]:
        assert client.get_parent_run(child).info.run_id == out["parent"]  # type: ignore[union-attr]
    # The model is the run's artifact folder "model", as gitrun's own log_model makes it.
    model_files = {f.path for f in client.list_artifacts(out["model_run"], "model")}
    assert {"model/MLmodel", "model/model.skops", "model/requirements.txt"} <= model_files
    # Ordinary gitrun runs: gitrun's search finds them.
    found = client.search_runs([exp.experiment_id], "params.lr = '0.01'")
    assert {r.info.run_id for r in found} >= {out["first"], out["children"][1]}


def test_transformers_trainer_reports_to_the_server(served_repo: tuple[Path, Server], tmp_path: Path) -> None:
    """report_to="mlflow" through gitrun server (on demand: needs torch + transformers in the MLflow venv)."""
    import subprocess

    from tests.server.mlflow.harness import mlflow_python

    probe = subprocess.run(
        [mlflow_python(), "-c", "import torch, transformers, accelerate"], capture_output=True
    )
    if probe.returncode != 0:
        pytest.skip(
            "on demand: bench/.venv-mlflow/bin/pip install torch==2.13.0 transformers accelerate "
            "(not installed by .ci/run: it adds minutes of install time)"
        )
    repo, server = served_repo
    out = run_client("hf_trainer.py", str(tmp_path), tracking_uri=server.url, HF_HUB_OFFLINE="1")
    server.stop()
    run = Client(str(repo)).get_run(out["run"])
    assert len(run.data.params) == out["params"] > 20  # the Trainer's arguments and the model config
    assert {"loss", "train_loss"} <= set(run.data.metrics)
    assert run.data.metrics == pytest.approx(out["metrics"])
    steps = [m.step for m in Client(str(repo)).get_metric_history(out["run"], "loss")]
    assert steps == [2, 4, 6]
