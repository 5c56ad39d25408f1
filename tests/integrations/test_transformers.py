"""Hugging Face Transformers: GitrunCallback, autolog, the flavor, the opt-in mlflow alias.

A tiny BERT built from a BertConfig (no download) trains for a few steps on random tokens.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

import gitrun
from gitrun import MlflowClient
from tests.integrations.conftest import runs_of

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")

pytestmark = pytest.mark.usefixtures("in_repo")


class RandomTokens(torch.utils.data.Dataset):  # type: ignore[misc]
    def __init__(self, n: int = 32, seed: int = 0) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(0, 100, (n, 16), generator=generator)
        self.labels = torch.randint(0, 2, (n,), generator=generator)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {
            "input_ids": self.ids[i],
            "attention_mask": torch.ones(16, dtype=torch.long),
            "labels": self.labels[i],
        }


def tiny_bert() -> Any:
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    return transformers.BertForSequenceClassification(config)


def training_args(tmp_path: Path, **overrides: Any) -> Any:
    options: dict[str, Any] = {
        "output_dir": str(tmp_path / "results"),
        "report_to": "none",
        "logging_steps": 2,
        "max_steps": 4,
        "per_device_train_batch_size": 8,
        "use_cpu": True,
        "save_strategy": "no",
        "disable_tqdm": True,
    }
    options.update(overrides)
    return transformers.TrainingArguments(**options)


def test_tutorial_trainer_with_the_callback(tmp_path: Path) -> None:
    model = tiny_bert()
    trainer = transformers.Trainer(
        model=model,
        args=training_args(tmp_path, eval_strategy="steps", eval_steps=2),
        train_dataset=RandomTokens(),
        eval_dataset=RandomTokens(16, seed=1),
        callbacks=[gitrun.transformers.GitrunCallback(log_model=True)],
    )
    with gitrun.start_run() as run:
        trainer.train()
    logged = gitrun.get_run(run.info.run_id)
    assert logged.data.params["learning_rate"] == "5e-05"
    assert logged.data.params["logging_steps"] == "2"
    assert logged.data.params["hidden_size"] == "32"  # from the model's config
    assert {"loss", "grad_norm", "learning_rate", "eval_loss", "train_runtime"} <= set(logged.data.metrics)
    assert [m.step for m in MlflowClient().get_metric_history(run.info.run_id, "loss")] == [2, 4]
    assert [m.step for m in MlflowClient().get_metric_history(run.info.run_id, "eval_loss")] == [2, 4]
    loaded = gitrun.transformers.load_model(f"runs:/{run.info.run_id}/model")
    assert type(loaded) is type(model)
    x = torch.randint(0, 100, (3, 16))
    model.eval()
    assert torch.equal(loaded(input_ids=x).logits, model(input_ids=x).logits)
    predicted = gitrun.pyfunc.load_model(f"runs:/{run.info.run_id}/model").predict({"input_ids": x.numpy()})
    assert predicted.shape == (3, 2)
    assert len(runs_of()) == 1


def test_autolog_adds_the_callback_and_manages_a_run(tmp_path: Path) -> None:
    gitrun.autolog()
    trainer = transformers.Trainer(
        model=tiny_bert(), args=training_args(tmp_path), train_dataset=RandomTokens()
    )
    callbacks = [c for c in trainer.callback_handler.callbacks if type(c).__name__ == "GitrunCallback"]
    assert len(callbacks) == 1
    trainer.train()
    run = gitrun.last_active_run()
    assert run is not None and gitrun.active_run() is None
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.autologging"] == "transformers"
    assert "optimizer_name" not in run.data.params  # the torch integration left HF's optimizer alone
    assert "train_loss" in run.data.metrics
    assert [a.path for a in MlflowClient().list_artifacts(run.info.run_id)] == ["model"]
    trainer.evaluate(RandomTokens(8, seed=2))  # after training: into the same run
    assert "eval_loss" in gitrun.get_run(run.info.run_id).data.metrics
    assert len(runs_of()) == 1


def test_a_failing_training_ends_its_managed_run_failed(tmp_path: Path) -> None:
    gitrun.transformers.autolog(log_models=False)

    class Broken(RandomTokens):
        def __getitem__(self, i: int) -> dict[str, Any]:
            if i >= 8:
                raise RuntimeError("bad example")
            return super().__getitem__(i)

    trainer = transformers.Trainer(model=tiny_bert(), args=training_args(tmp_path), train_dataset=Broken())
    with pytest.raises(RuntimeError, match="bad example"):
        trainer.train()
    assert gitrun.active_run() is None
    run = gitrun.last_active_run()
    assert run is not None and run.info.status == "FAILED"


@pytest.mark.skipif(
    importlib.util.find_spec("mlflow") is not None, reason="a real MLflow is installed: the alias is refused"
)
def test_report_to_mlflow_through_the_opt_in_alias(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_MLFLOW_LOG_ARTIFACTS", "1")
    gitrun.transformers.register_mlflow_alias()
    args = training_args(tmp_path, report_to="mlflow", save_strategy="steps", save_steps=4)
    trainer = transformers.Trainer(model=tiny_bert(), args=args, train_dataset=RandomTokens())
    with gitrun.start_run() as run:
        trainer.train()
    logged = gitrun.get_run(run.info.run_id)
    assert logged.data.params["max_steps"] == "4"
    assert "loss" in logged.data.metrics
    # HF's on_save logs each checkpoint with pyfunc.log_model(..., python_model=PythonModel())
    model = gitrun.pyfunc.load_model(f"runs:/{run.info.run_id}/checkpoint-4")
    checkpoint = Path(model._impl._context.artifacts["model_path"])
    assert (checkpoint / "config.json").is_file() and (checkpoint / "model.safetensors").is_file()
    gitrun.transformers.unregister_mlflow_alias()
    assert importlib.util.find_spec("mlflow") is None
