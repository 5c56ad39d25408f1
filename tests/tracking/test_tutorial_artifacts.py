"""The tutorial's artifact snippets (../shared/seed), with ``gitrun`` in place of ``mlflow``:
a real scikit-learn model, matplotlib plots saved and logged, a joblib model file, and a
checkpoint folder; then everything is listed and downloaded back byte for byte."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import gitrun
from gitrun import MlflowClient

pytestmark = pytest.mark.usefixtures("in_repo")


def test_tutorial_artifact_snippets(in_repo: Path, tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    import joblib
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import ConfusionMatrixDisplay, auc, confusion_matrix, roc_curve
    from sklearn.model_selection import train_test_split

    X, y = load_breast_cancer(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=42)
    with gitrun.start_run() as run:
        model = RandomForestClassifier(n_estimators=20, random_state=42).fit(X_train, y_train)
        y_pred = model.predict(X_test)
        y_pred_proba = model.predict_proba(X_test)

        joblib.dump(model, "model.pkl")
        gitrun.log_artifact("model.pkl")

        cm = confusion_matrix(y_test, y_pred)
        disp = ConfusionMatrixDisplay(confusion_matrix=cm)
        disp.plot()
        plt.savefig("confusion_matrix.png")
        gitrun.log_artifact("confusion_matrix.png")
        plt.close()

        fpr, tpr, _ = roc_curve(y_test, y_pred_proba[:, 1])
        roc_auc = auc(fpr, tpr)
        plt.figure()
        plt.plot(fpr, tpr, label=f"ROC curve (AUC = {roc_auc:.2f})")
        plt.plot([0, 1], [0, 1], "k--")
        plt.xlabel("False Positive Rate")
        plt.ylabel("True Positive Rate")
        plt.title("ROC Curve")
        plt.legend()
        plt.savefig("roc_curve.png")
        gitrun.log_artifact("roc_curve.png")
        plt.close()

        train_losses, val_losses = [1.0, 0.6, 0.4], [1.1, 0.7, 0.5]
        train_accs, val_accs = [0.6, 0.8, 0.9], [0.55, 0.75, 0.85]
        plt.figure(figsize=(12, 4))
        plt.subplot(1, 2, 1)
        plt.plot(train_losses, label="Train Loss")
        plt.plot(val_losses, label="Val Loss")
        plt.xlabel("Epoch")
        plt.ylabel("Loss")
        plt.legend()
        plt.title("Training History - Loss")
        plt.subplot(1, 2, 2)
        plt.plot(train_accs, label="Train Acc")
        plt.plot(val_accs, label="Val Acc")
        plt.xlabel("Epoch")
        plt.ylabel("Accuracy")
        plt.legend()
        plt.title("Training History - Accuracy")
        plt.tight_layout()
        plt.savefig("training_curves.png")
        gitrun.log_artifact("training_curves.png")
        plt.close()

        checkpoint_dir = "checkpoints"
        os.makedirs(checkpoint_dir, exist_ok=True)
        for epoch in range(3):  # torch.save in the tutorial; joblib here (no torch needed)
            joblib.dump(model.estimators_[: epoch + 1], f"{checkpoint_dir}/model_epoch_{epoch}.pt")
        gitrun.log_artifacts(checkpoint_dir, artifact_path="checkpoints")

    client = MlflowClient()
    listed = client.list_artifacts(run.info.run_id)
    assert [(f.path, f.is_dir) for f in listed] == [
        ("checkpoints", True),
        ("confusion_matrix.png", False),
        ("model.pkl", False),
        ("roc_curve.png", False),
        ("training_curves.png", False),
    ]
    assert all(f.file_size == os.path.getsize(in_repo / f.path) for f in listed if not f.is_dir)
    assert [f.path for f in client.list_artifacts(run.info.run_id, "checkpoints")] == [
        f"checkpoints/model_epoch_{n}.pt" for n in range(3)
    ]

    out = Path(client.download_artifacts(run.info.run_id, "", str(tmp_path / "downloaded")))
    for name in ("model.pkl", "confusion_matrix.png", "roc_curve.png", "training_curves.png"):
        assert (out / name).read_bytes() == (in_repo / name).read_bytes()
    for n in range(3):
        name = f"checkpoints/model_epoch_{n}.pt"
        assert (out / name).read_bytes() == (in_repo / name).read_bytes()
    loaded = joblib.load(out / "model.pkl")
    assert (loaded.predict(X_test) == y_pred).all()
    assert (out / "confusion_matrix.png").read_bytes().startswith(b"\x89PNG")
