"""``GitrunCallback``: a Hugging Face ``TrainerCallback`` that logs into gitrun.

``Trainer(..., callbacks=[gitrun.transformers.GitrunCallback()])`` (added for you
by ``gitrun.autolog()``) logs, from the main process only:

* at the start of training: ``TrainingArguments`` merged over the model's config
  (arguments win, as in HF's MLflowCallback), each value ``str()``-ed;
* every ``logs`` dict (``loss``, ``grad_norm``, ``learning_rate``, ``eval_loss``,
  ``train_runtime``, ...): its numbers as metrics at step = ``state.global_step``,
  keys sanitised as HF does;
* at the end, with ``log_model=True``: the model (and tokenizer) as ``model``.

Run: the active run (nested ones too); with none active, a managed run tagged
``mlflow.autologging=transformers`` from train begin to train end.  Logs after
training (``trainer.evaluate()``) go to the same run.  This module imports transformers.
"""

from __future__ import annotations

import re
from typing import Any

from transformers import TrainerCallback

from gitrun.integrations.autolog.session import AutologConfig, safely
from gitrun.integrations.autolog.values import as_param, scalar_metrics

_UNSAFE = re.compile(r"[^0-9A-Za-z_\-.\ :/]")


class GitrunCallback(TrainerCallback):
    """Log a Hugging Face ``Trainer`` run into gitrun (see the module docs)."""

    def __init__(self, log_model: bool = False, *, config: AutologConfig | None = None) -> None:
        self._config = config or AutologConfig("transformers")
        self._log_model = log_model
        self._run_id: str | None = None
        self._managed = False

    def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if state.is_world_process_zero:
            safely(self._config, self._begin, args, model)

    def _begin(self, args: Any, model: Any) -> None:
        from gitrun.tracking import fluent

        active = fluent.active_run()
        if active is None:
            tags = {"mlflow.autologging": "transformers", **self._config.extra_tags}
            run_name = (
                args.run_name if getattr(args, "run_name", None) not in (None, args.output_dir) else None
            )
            active = fluent.start_run(run_name=run_name, tags=tags)
            self._managed = True
        self._run_id = active.info.run_id
        combined: dict[str, Any] = {}
        config = getattr(model, "config", None)
        if config is not None and hasattr(config, "to_dict"):
            combined.update(config.to_dict())
        combined.update(args.to_dict())
        fluent.log_params({k: as_param(v) for k, v in combined.items()}, run_id=self._run_id)

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        if state.is_world_process_zero and logs:
            safely(self._config, self._log, logs, state.global_step)

    def _log(self, logs: dict[str, Any], step: int) -> None:
        from gitrun.tracking import fluent

        metrics = {_UNSAFE.sub("_", k): v for k, v in scalar_metrics(logs).items()}
        if not metrics:
            return
        active = fluent.active_run()
        run_id = self._run_id if self._managed or active is None else active.info.run_id
        if run_id is None:  # logs outside training with no run: a run of their own
            with fluent.start_run(tags={"mlflow.autologging": "transformers"}) as run:
                fluent.log_metrics(metrics, step=step, run_id=run.info.run_id)
            return
        fluent.log_metrics(metrics, step=step, run_id=run_id)

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if not state.is_world_process_zero:
            return
        if self._log_model and model is not None and self._run_id is not None:
            tokenizer = kwargs.get("processing_class") or kwargs.get("tokenizer")
            safely(self._config, self._save, model, tokenizer)
        self.end_managed_run("FINISHED")

    def _save(self, model: Any, tokenizer: Any) -> None:
        from gitrun.integrations.transformers.flavor import log_model

        log_model(model, "model", tokenizer=tokenizer, run_id=self._run_id)

    def end_managed_run(self, status: str) -> None:
        """End the run this callback started, if any (autolog calls it when training raised)."""
        from gitrun.integrations.autolog.session import end_managed_run

        if self._managed and self._run_id is not None:
            self._managed = False
            safely(self._config, end_managed_run, self._run_id, status)
