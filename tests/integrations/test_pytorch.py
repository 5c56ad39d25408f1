"""The PyTorch flavor, plain-loop autologging and Lightning autologging, on CPU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import gitrun
from gitrun import MlflowClient
from gitrun.errors import CorruptObject
from tests.integrations.conftest import runs_of

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.usefixtures("in_repo")


class Net(torch.nn.Module):  # type: ignore[misc]
    def __init__(self, inputs: int = 4, classes: int = 3) -> None:
        super().__init__()
        self.hidden = torch.nn.Linear(inputs, 16)
        self.out = torch.nn.Linear(16, classes)

    def forward(self, x: Any) -> Any:
        return self.out(torch.relu(self.hidden(x)))


def create_model() -> Net:
    torch.manual_seed(0)
    return Net()


def train_epoch(model: Net, batches: list[tuple[Any, Any]], optimizer: Any) -> float:
    total = 0.0
    for x, y in batches:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item()
    return total / len(batches)


def batches(n: int = 4) -> list[tuple[Any, Any]]:
    generator = torch.Generator().manual_seed(1)
    return [
        (torch.randn(16, 4, generator=generator), torch.randint(0, 3, (16,), generator=generator))
        for _ in range(n)
    ]


def test_log_and_load_round_trip() -> None:
    model = create_model()
    train_epoch(model, batches(), torch.optim.SGD(model.parameters(), lr=0.1))
    x = torch.randn(8, 4)
    with gitrun.start_run():
        info = gitrun.pytorch.log_model(model, "model", input_example=x[:2].numpy())
        again = gitrun.pytorch.log_model(model, "again", input_example=x[:2].numpy())
    assert again.model_digest == info.model_digest  # torch.save is deterministic: stored once
    loaded = gitrun.pytorch.load_model(info.model_uri)
    assert isinstance(loaded, Net)
    assert torch.equal(loaded(x), model(x))
    assert info.signature is not None and info.signature.outputs is not None
    assert info.signature.outputs.inputs[0].shape == (-1, 3)  # type: ignore[union-attr]
    pyfunc = gitrun.pyfunc.load_model(info.model_uri)
    as_float64 = x.numpy().astype(np.float64)  # pyfunc casts to the weights' dtype
    np.testing.assert_array_equal(pyfunc.predict(as_float64), model(x).detach().numpy())
    assert any(r.startswith("torch==") for r in info.pip_requirements)


def test_saved_model_is_verified(tmp_path: Path) -> None:
    model = create_model()
    target = tmp_path / "net"
    gitrun.pytorch.save_model(model, target)
    assert (target / "data" / "model.pth").is_file()
    x = torch.randn(3, 4)
    assert torch.equal(gitrun.pytorch.load_model(target)(x), model(x))
    with open(target / "data" / "model.pth", "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(CorruptObject):
        gitrun.pytorch.load_model(target)


def test_tutorial_plain_loop_autolog() -> None:
    gitrun.pytorch.autolog()
    num_epochs = 2
    train_loader = batches()
    with gitrun.start_run() as run:
        model = create_model()
        optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
        for epoch in range(num_epochs):
            loss = train_epoch(model, train_loader, optimizer)
            gitrun.log_metric("train_loss", loss, step=epoch)  # a plain loop logs its own metrics
    logged = gitrun.get_run(run.info.run_id)
    assert logged.data.params["optimizer_name"] == "Adam"
    assert logged.data.params["lr"] == "0.001"
    assert logged.data.params["betas"] == "(0.9, 0.999)"
    loaded = gitrun.pytorch.load_model(f"runs:/{run.info.run_id}/model")
    x = torch.randn(5, 4)
    assert torch.equal(loaded(x), model(x))  # the trained weights, logged when the run ended


def test_plain_loop_model_found_on_self_and_not_logged_on_failure() -> None:
    gitrun.pytorch.autolog()

    class Trainer:
        def __init__(self) -> None:
            self.model = create_model()
            self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.5, momentum=0.9)

    with gitrun.start_run() as run:
        trainer = Trainer()
        train_epoch(trainer.model, batches(1), trainer.optimizer)
    assert gitrun.get_run(run.info.run_id).data.params["momentum"] == "0.9"
    assert [a.path for a in MlflowClient().list_artifacts(run.info.run_id)] == ["model"]
    with pytest.raises(RuntimeError), gitrun.start_run() as failed:
        model = create_model()
        torch.optim.Adam(model.parameters())
        raise RuntimeError("training diverged")
    assert MlflowClient().list_artifacts(failed.info.run_id) == []


def test_plain_loop_without_a_run_logs_nothing() -> None:
    gitrun.pytorch.autolog()
    model = create_model()
    train_epoch(model, batches(1), torch.optim.Adam(model.parameters()))
    assert runs_of() == []


# -- Lightning ------------------------------------------------------------------------------------

pl = None
try:
    import lightning.pytorch as pl
except ImportError:  # pragma: no cover - lightning is installed by .ci/run
    pass

needs_lightning = pytest.mark.skipif(pl is None, reason="lightning is not installed")


if pl is not None:

    class LitNet(pl.LightningModule):  # type: ignore[misc]
        def __init__(self, lr: float = 0.05, hidden: int = 16) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 3)
            )

        def forward(self, x: Any) -> Any:
            return self.net(x)

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x, y = batch
            loss = torch.nn.functional.cross_entropy(self(x), y)
            self.log("train_loss", loss, on_epoch=True, on_step=False)
            return loss

        def validation_step(self, batch: Any, batch_idx: int) -> None:
            x, y = batch
            self.log("val_loss", torch.nn.functional.cross_entropy(self(x), y))

        def configure_optimizers(self) -> Any:
            return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


def lightning_fit(epochs: int = 3) -> Any:
    assert pl is not None
    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(64, 4), torch.randint(0, 3, (64,)))
    loader = torch.utils.data.DataLoader(data, batch_size=16)
    model = LitNet()
    trainer = pl.Trainer(
        max_epochs=epochs,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(model, loader, loader)
    return model


@needs_lightning
def test_lightning_autolog_manages_a_run() -> None:
    gitrun.pytorch.autolog()
    model = lightning_fit(epochs=3)
    run = gitrun.last_active_run()
    assert run is not None and gitrun.active_run() is None
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.autologging"] == "pytorch"
    params = run.data.params
    assert params["epochs"] == "3"
    assert params["optimizer_name"] == "Adam"
    assert params["lr"] == "0.05"
    assert params["hidden"] == "16"
    history = MlflowClient().get_metric_history(run.info.run_id, "val_loss")
    assert [m.step for m in history] == [0, 1, 2]
    assert [m.step for m in MlflowClient().get_metric_history(run.info.run_id, "train_loss")] == [0, 1, 2]
    loaded = gitrun.pytorch.load_model(f"runs:/{run.info.run_id}/model")
    x = torch.randn(5, 4)
    model.eval()
    loaded.eval()
    assert torch.equal(loaded(x), model(x))


@needs_lightning
def test_lightning_autolog_inside_a_user_run() -> None:
    gitrun.pytorch.autolog(log_models=False)
    with gitrun.start_run() as run:
        lightning_fit(epochs=1)
        assert gitrun.active_run() is not None
    logged = gitrun.get_run(run.info.run_id)
    assert "val_loss" in logged.data.metrics
    assert "mlflow.autologging" not in logged.data.tags
    assert MlflowClient().list_artifacts(run.info.run_id) == []
    assert len(runs_of()) == 1


def test_torchscript_modules_round_trip() -> None:
    model = create_model()
    scripted = torch.jit.script(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU()))
    x = torch.randn(5, 4)
    with gitrun.start_run():
        info = gitrun.pytorch.log_model(scripted, "scripted")
        traced = gitrun.pytorch.log_model(torch.jit.trace(model, x), "traced")
    assert info.flavors["pytorch"]["serialization_format"] == "torchscript"
    assert info.flavors["pytorch"]["model_file"] == "data/model.pt"
    loaded = gitrun.pytorch.load_model(info.model_uri)
    assert isinstance(loaded, torch.jit.ScriptModule)
    assert torch.equal(loaded(x), scripted(x))
    assert torch.equal(gitrun.pytorch.load_model(traced.model_uri)(x), model(x))
    pyfunc = gitrun.pyfunc.load_model(info.model_uri)
    np.testing.assert_allclose(pyfunc.predict(x.numpy()), scripted(x).detach().numpy())
