"""Transformers autologging: every ``Trainer`` gets a :class:`GitrunCallback`.

``Trainer.__init__`` is patched (when ``transformers.trainer`` is imported, never
before) to add the callback unless one is there already, or unless HF's own
MLflowCallback already reports to gitrun through the opt-in ``mlflow`` alias
(:mod:`.alias`).  ``Trainer.train`` is patched so that a run the callback started
is ended FAILED (KILLED on Ctrl-C) when training raises: HF calls no callback then.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from gitrun.integrations.autolog import patching
from gitrun.integrations.autolog.imports import when_imported
from gitrun.integrations.autolog.session import AutologConfig, safely

FLAVOR = "transformers"


def autolog(
    log_models: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    silent: bool = False,
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Turn Transformers autologging on (or off with ``disable=True``).

    ``log_models``: log the trained model (``save_pretrained`` format) at the end of
    each ``trainer.train()``.  ``exclusive`` is accepted and has no effect here.
    """
    config = AutologConfig(
        FLAVOR,
        disable=disable,
        log_models=log_models,
        exclusive=exclusive,
        silent=silent,
        extra_tags=dict(extra_tags or {}),
    )
    if not patching.configure(config):
        return
    when_imported("transformers.trainer", _install)


def _install(module: ModuleType) -> None:
    patching.patch(FLAVOR, module.Trainer, "__init__", _wrap_init)
    patching.patch(FLAVOR, module.Trainer, "train", _wrap_train)


def _wrap_init(original: Callable[..., Any]) -> Callable[..., Any]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        config = patching.active(FLAVOR)
        if config is not None:
            safely(config, _add_callback, self, config)

    return __init__


def _add_callback(trainer: Any, config: AutologConfig) -> None:
    from gitrun.integrations.transformers import alias
    from gitrun.integrations.transformers.callback import GitrunCallback

    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, GitrunCallback):
            return
        if type(callback).__name__ == "MLflowCallback" and alias.is_registered():
            return  # HF's own callback already reports to gitrun
    trainer.add_callback(GitrunCallback(log_model=config.log_models, config=config))


def _wrap_train(original: Callable[..., Any]) -> Callable[..., Any]:
    def train(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        except BaseException as error:
            from gitrun.integrations.transformers.callback import GitrunCallback

            status = "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"
            for callback in self.callback_handler.callbacks:
                if isinstance(callback, GitrunCallback):
                    callback.end_managed_run(status)
            raise

    return train
