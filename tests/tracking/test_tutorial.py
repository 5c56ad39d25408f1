"""The tutorial's tracking snippets (../shared/seed), with `mlflow` replaced by `gitrun`."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import gitrun
from gitrun import MlflowClient
from tests.conftest import git

pytestmark = pytest.mark.usefixtures("in_repo")


def test_tracking_architecture(in_repo: Path) -> None:
    gitrun.set_tracking_uri("file:./mlruns")
    gitrun.set_experiment("sentiment-classification")
    # Pattern 1: explicit context manager
    with gitrun.start_run(run_name="baseline-model"):
        gitrun.log_param("learning_rate", 0.001)
        gitrun.log_metric("accuracy", 0.89)
    # Pattern 2: manual start/end
    run = gitrun.start_run(run_name="experiment-1")
    gitrun.log_param("batch_size", 32)
    gitrun.end_run()

    assert (in_repo / "mlruns" / "HEAD").exists()  # a standalone bare store
    assert gitrun.get_tracking_uri() == f"file://{in_repo}/mlruns"
    client = MlflowClient()
    experiment = client.get_experiment_by_name("sentiment-classification")
    assert experiment is not None
    first = gitrun.last_active_run()
    assert first is not None and first.info.run_id == run.info.run_id
    stored = client.get_run(run.info.run_id)
    assert stored.info.status == "FINISHED"
    assert stored.info.run_name == "experiment-1"
    assert stored.data.params == {"batch_size": "32"}
    assert stored.info.experiment_id == experiment.experiment_id
    # The user's repository got no records; the standalone store did.
    assert git(in_repo, "for-each-ref", "refs/gitrun").strip() == ""
    assert "refs/gitrun/records" in git(in_repo / "mlruns", "for-each-ref")


def test_parameters(in_repo: Path) -> None:
    with gitrun.start_run() as run:
        gitrun.log_param("model_type", "random_forest")
        gitrun.log_param("n_estimators", 100)
        gitrun.log_param("max_depth", 10)
        gitrun.log_param("random_state", 42)
        params = {
            "learning_rate": 0.001,
            "batch_size": 32,
            "epochs": 50,
            "optimizer": "adam",
            "dropout_rate": 0.3,
        }
        gitrun.log_params(params)
        config = {
            "model": {"architecture": "resnet50", "pretrained": True},
            "training": {"optimizer": "sgd", "lr": 0.01, "momentum": 0.9},
        }
        gitrun.log_param("model_architecture", config["model"]["architecture"])
        gitrun.log_param("model_pretrained", config["model"]["pretrained"])
        gitrun.log_param("train_optimizer", config["training"]["optimizer"])
        gitrun.log_param("train_lr", config["training"]["lr"])
        gitrun.log_param("search_algorithm", "tpe")
        gitrun.log_param("n_trials", 100)
        gitrun.log_params({"lr_trial": 0.0031, "batch_size_trial": 32, "layers_trial": 4})
    data = gitrun.get_run(run.info.run_id).data
    assert data.params["n_estimators"] == "100"
    assert data.params["model_pretrained"] == "True"
    assert data.params["learning_rate"] == "0.001"
    assert data.params["train_lr"] == "0.01"
    assert data.params["layers_trial"] == "4"
    assert len(data.params) == 18


def test_metrics_with_steps(in_repo: Path) -> None:
    num_epochs = 5
    with gitrun.start_run() as run:
        for epoch in range(num_epochs):
            gitrun.log_metric("train_loss", 1.0 / (epoch + 1), step=epoch)
            gitrun.log_metric("val_loss", 1.5 / (epoch + 1), step=epoch)
            gitrun.log_metric("val_accuracy", 0.5 + epoch / 10, step=epoch)
        global_step = 0
        for epoch in range(num_epochs):
            for _batch in range(250):
                if global_step % 100 == 0:
                    gitrun.log_metric("batch_loss", 1.0 / (global_step + 1), step=global_step)
                global_step += 1
            gitrun.log_metrics(
                {
                    "epoch_val_loss": 0.3 - epoch / 100,
                    "epoch_val_acc": 0.8 + epoch / 100,
                    "epoch_val_f1": 0.7 + epoch / 100,
                },
                step=epoch,
            )
        gitrun.log_metrics(
            {
                "test_accuracy": 0.91,
                "test_precision": 0.9,
                "test_recall": 0.88,
                "test_f1": 0.89,
                "test_auc": 0.95,
            }
        )
        gitrun.log_metrics({"test_mse": 0.1, "test_rmse": math.sqrt(0.1), "test_mae": 0.2, "test_r2": 0.8})
    client = MlflowClient()
    stored = client.get_run(run.info.run_id)
    assert stored.data.metrics["val_accuracy"] == pytest.approx(0.9)
    assert stored.data.metrics["batch_loss"] == pytest.approx(1.0 / 1201)
    assert stored.data.metrics["test_rmse"] == math.sqrt(0.1)
    history = client.get_metric_history(run.info.run_id, "val_loss")
    assert [(m.step, m.value) for m in history] == [(e, 1.5 / (e + 1)) for e in range(num_epochs)]
    assert [m.step for m in client.get_metric_history(run.info.run_id, "batch_loss")] == list(
        range(0, 1250, 100)
    )
    assert all(m.timestamp > 1_600_000_000_000 for m in history)
    assert client.get_metric_history(run.info.run_id, "missing") == []


def test_tags(in_repo: Path) -> None:
    with gitrun.start_run(run_name="bert-base-lr001-batch32") as run:
        gitrun.set_tag("model_family", "bert")
        gitrun.set_tag("experiment_type", "baseline")
        gitrun.set_tag("dataset_version", "v2.1")
        gitrun.set_tag("researcher", "team_a")
    tags = gitrun.get_run(run.info.run_id).data.tags
    assert tags["model_family"] == "bert"
    assert tags["researcher"] == "team_a"
    assert tags["mlflow.runName"] == "bert-base-lr001-batch32"
    assert tags["mlflow.source.git.commit"] == git(in_repo, "rev-parse", "HEAD").strip()
    assert tags["mlflow.user"]
    assert tags["mlflow.source.type"] == "LOCAL"


def test_nested_hyperparameter_search(in_repo: Path) -> None:
    with gitrun.start_run(run_name="hyperparameter-search") as parent_run:
        gitrun.log_param("search_algorithm", "random_search")
        gitrun.log_param("n_trials", 50)
        best_score = 0.0
        trial_ids = []
        for trial in range(50):
            with gitrun.start_run(run_name=f"trial_{trial}", nested=True) as child:
                params = {"lr": 10 ** -(trial % 5), "depth": trial % 7}
                gitrun.log_params(params)
                score = 0.5 + (trial * 37 % 50) / 100
                gitrun.log_metric("val_accuracy", score)
                best_score = max(best_score, score)
                trial_ids.append(child.info.run_id)
        gitrun.log_metric("best_trial_accuracy", best_score)
    client = MlflowClient()
    parent = client.get_run(parent_run.info.run_id)
    assert parent.data.metrics == {"best_trial_accuracy": best_score}
    assert "mlflow.parentRunId" not in parent.data.tags
    for i, run_id in enumerate(trial_ids):
        child_run = client.get_run(run_id)
        assert child_run.data.tags["mlflow.parentRunId"] == parent_run.info.run_id
        assert child_run.info.run_name == f"trial_{i}"
        assert child_run.info.status == "FINISHED"
        assert child_run.data.params["depth"] == str(i % 7)
    assert client.get_parent_run(trial_ids[0]).info.run_id == parent_run.info.run_id  # type: ignore[union-attr]


def test_cross_validation(in_repo: Path) -> None:
    np = pytest.importorskip("numpy")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import KFold

    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    with gitrun.start_run(run_name="5-fold-cv") as parent_run:
        kf = KFold(n_splits=5)
        fold_scores = []
        for fold, (train_idx, val_idx) in enumerate(kf.split(X)):
            with gitrun.start_run(run_name=f"fold_{fold}", nested=True):
                model = LogisticRegression().fit(X[train_idx], y[train_idx])
                score = model.score(X[val_idx], y[val_idx])
                gitrun.log_metric("fold_accuracy", score)
                fold_scores.append(score)
        gitrun.log_metric("mean_cv_accuracy", np.mean(fold_scores))
        gitrun.log_metric("std_cv_accuracy", np.std(fold_scores))
    metrics = gitrun.get_run(parent_run.info.run_id).data.metrics
    assert metrics["mean_cv_accuracy"] == pytest.approx(float(np.mean(fold_scores)))


def test_tutorial_script_in_a_fresh_process(in_repo: Path) -> None:
    script = in_repo / "tutorial.py"
    script.write_text(
        textwrap.dedent("""
        import gitrun as mlflow
        mlflow.set_experiment("sentiment-analysis-v1")
        with mlflow.start_run(run_name="hyperparameter-search") as parent:
            for trial in range(3):
                with mlflow.start_run(run_name=f"trial_{trial}", nested=True):
                    mlflow.log_params({"lr": 0.1 * (trial + 1)})
                    mlflow.log_metric("val_accuracy", 0.8 + trial / 100)
        print(parent.info.run_id)
    """)
    )
    out = subprocess.run(
        [sys.executable, str(script)], cwd=in_repo, capture_output=True, text=True, check=True
    )
    run_id = out.stdout.strip()
    client = MlflowClient()
    assert client.get_run(run_id).info.status == "FINISHED"
    experiment = client.get_experiment_by_name("sentiment-analysis-v1")
    assert experiment is not None
    assert client.get_run(run_id).info.experiment_id == experiment.experiment_id
