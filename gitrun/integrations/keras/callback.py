"""The Keras callback that logs training (used by autolog, or added by hand).

``model.fit(..., callbacks=[gitrun.keras.GitrunCallback()])`` logs into the active
run (one is started if none is active, as ``gitrun.log_metric`` does):

* at the start: the optimizer's name and config as ``optimizer_<key>`` params;
* after each epoch: every value of Keras' ``logs`` (``loss``, ``accuracy``,
  ``val_loss``, ...) with step = epoch (0-based);
* with ``log_every_n_steps=n``: batch-level ``logs`` every n optimizer steps.

This module imports keras; it is imported only when a callback is needed.
"""

from __future__ import annotations

from typing import Any

import keras

from gitrun.integrations.autolog.session import AutologConfig, safely
from gitrun.integrations.autolog.values import as_param, scalar_metrics

_DEFAULT = AutologConfig("keras")


def optimizer_params(optimizer: Any) -> dict[str, str]:
    """``optimizer_name`` and each entry of the optimizer's config as ``optimizer_<key>``."""
    if optimizer is None:
        return {}
    params = {"optimizer_name": type(optimizer).__name__}
    try:
        config = optimizer.get_config()
    except Exception:  # noqa: BLE001 - a custom optimizer without a config
        config = {}
    for key, value in config.items():
        if key != "name":
            params[f"optimizer_{key}"] = as_param(value)
    return params


class GitrunCallback(keras.callbacks.Callback):  # type: ignore[misc]
    """Log a Keras training into a gitrun run (MLflow's ``mlflow.keras.MlflowCallback``).

    Args:
        run: the run to log into (an ``ActiveRun``/``Run``); the active run if None.
        log_every_epoch: log epoch-level metrics (step = epoch).
        log_every_n_steps: also log batch-level metrics every n steps.
    """

    def __init__(
        self,
        run: Any = None,
        log_every_epoch: bool = True,
        log_every_n_steps: int | None = None,
        *,
        run_id: str | None = None,
        config: AutologConfig | None = None,
    ) -> None:
        super().__init__()
        self._run_id = run_id or (run.info.run_id if run is not None else None)
        self._config = config or _DEFAULT
        self._every_epoch = log_every_epoch
        self._every_steps = log_every_n_steps
        self._steps = 0

    def _target(self) -> str:
        from gitrun.tracking import fluent

        if self._run_id is None:
            self._run_id = fluent.current_run_id()
        return self._run_id

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        safely(self._config, self._log_optimizer)

    def _log_optimizer(self) -> None:
        from gitrun.tracking import fluent

        params = optimizer_params(getattr(self.model, "optimizer", None))
        if params:
            fluent.log_params(params, run_id=self._target())

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._every_epoch and logs:
            safely(self._config, self._log, logs, epoch)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        self._steps += 1
        if self._every_steps and logs and self._steps % self._every_steps == 0:
            safely(self._config, self._log, logs, self._steps)

    def _log(self, logs: dict[str, Any], step: int) -> None:
        from gitrun.tracking import fluent

        metrics = scalar_metrics(logs)
        if metrics:
            fluent.log_metrics(metrics, step=step, run_id=self._target())


MlflowCallback = GitrunCallback
