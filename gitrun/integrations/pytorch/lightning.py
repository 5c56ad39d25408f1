"""PyTorch Lightning autologging: ``Trainer.fit`` gets a logging callback.

Both ``lightning.pytorch`` and the older ``pytorch_lightning`` package are patched,
each when it is imported.  Per ``fit`` (MLflow's choices, §13.2 of the reference):

* params: ``epochs`` (``max_epochs``), ``optimizer_name`` and the first optimizer's
  defaults (``lr``, ``betas``, ``eps``, ``weight_decay``, ...), the module's
  ``hparams`` (from ``save_hyperparameters()``), EarlyStopping's settings;
* metrics: every scalar of ``trainer.callback_metrics`` (what ``self.log`` produced,
  validation included) at the end of each training epoch, step = epoch (0-based),
  never during the sanity check; ``stopped_epoch`` when EarlyStopping stopped;
* the trained LightningModule as the model ``model`` (see :mod:`.flavor`).

Checkpoints are not logged (``ModelCheckpoint`` files can be logged with
``gitrun.log_artifacts``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from gitrun.integrations.autolog import patching
from gitrun.integrations.autolog.gate import logging_call
from gitrun.integrations.autolog.session import AutologConfig, safely

FLAVOR = "pytorch"
_callbacks: dict[str, type] = {}


def install(module: ModuleType) -> None:
    """Patch ``module.Trainer.fit`` (``module`` is lightning.pytorch or pytorch_lightning)."""
    patching.patch(FLAVOR, module.Trainer, "fit", lambda original: _wrap(module, original))


def _wrap(package: ModuleType, original: Callable[..., Any]) -> Callable[..., Any]:
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        with logging_call(FLAVOR) as call:
            if call is None:
                return original(self, *args, **kwargs)
            config, run_id = call
            callback = _callback_class(package)(config, run_id)
            self.callbacks.append(callback)
            try:
                result = original(self, *args, **kwargs)
            finally:
                if callback in self.callbacks:
                    self.callbacks.remove(callback)
            safely(config, _after_fit, config, run_id, self)
            return result

    return fit


def _callback_class(package: ModuleType) -> type:
    """A ``Callback`` subclass of this Lightning package (the two packages have distinct bases)."""
    cls = _callbacks.get(package.__name__)
    if cls is None:
        cls = type("GitrunLightningCallback", (package.Callback,), dict(_CallbackBody.__dict__))
        _callbacks[package.__name__] = cls
    return cls


class _CallbackBody:
    """The methods of the Lightning callback (copied onto a subclass of the package's Callback)."""

    def __init__(self, config: AutologConfig, run_id: str) -> None:
        self.config = config
        self.run_id = run_id

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        safely(self.config, _log_params, self.run_id, trainer, pl_module)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if trainer.sanity_checking:
            return
        every = int(self.config.options.get("log_every_n_epoch") or 1)
        if trainer.current_epoch % every == 0:
            safely(self.config, _log_epoch, self.run_id, trainer)


def _log_params(run_id: str, trainer: Any, module: Any) -> None:
    from gitrun.integrations.autolog.values import as_param
    from gitrun.integrations.pytorch.loops import optimizer_params
    from gitrun.tracking import fluent

    params: dict[str, str] = {"epochs": as_param(trainer.max_epochs)}
    if trainer.optimizers:
        params.update(optimizer_params(trainer.optimizers[0]))
    for key, value in dict(getattr(module, "hparams", {}) or {}).items():
        params.setdefault(str(key), as_param(value))
    for callback in trainer.callbacks:
        if type(callback).__name__ == "EarlyStopping":
            for key in ("monitor", "mode", "patience", "min_delta"):
                params[key] = as_param(getattr(callback, key, None))
    fluent.log_params(params, run_id=run_id)


def _log_epoch(run_id: str, trainer: Any) -> None:
    from gitrun.integrations.autolog.values import scalar_metrics
    from gitrun.tracking import fluent

    metrics = scalar_metrics(trainer.callback_metrics)
    if metrics:
        fluent.log_metrics(metrics, step=int(trainer.current_epoch), run_id=run_id)


def _after_fit(config: AutologConfig, run_id: str, trainer: Any) -> None:
    from gitrun.integrations.pytorch.flavor import log_model
    from gitrun.tracking import fluent

    for callback in trainer.callbacks:
        stopped = getattr(callback, "stopped_epoch", 0)
        if type(callback).__name__ == "EarlyStopping" and stopped:
            fluent.log_metrics({"stopped_epoch": float(stopped)}, run_id=run_id)
    if config.log_models and trainer.lightning_module is not None:
        log_model(trainer.lightning_module, "model", run_id=run_id)
