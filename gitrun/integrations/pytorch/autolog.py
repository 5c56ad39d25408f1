"""``gitrun.pytorch.autolog()``: Lightning's ``Trainer.fit`` in full, plain loops in part.

See :mod:`.lightning` and :mod:`.loops` for what each logs.  Nothing is imported
here: each patch waits for its library to be imported by the user's code.
"""

from __future__ import annotations

import importlib.util

from gitrun.integrations.autolog import patching
from gitrun.integrations.autolog.imports import when_imported
from gitrun.integrations.autolog.session import AutologConfig
from gitrun.integrations.models.loading import warn_ignored

FLAVOR = "pytorch"
_LIGHTNING = (("lightning", "lightning.pytorch"), ("pytorch_lightning", "pytorch_lightning"))


def autolog(
    log_every_n_epoch: int = 1,
    log_every_n_step: int | None = None,
    log_models: bool = True,
    log_datasets: bool = False,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: dict[str, str] | None = None,
    checkpoint: bool = False,
) -> None:
    """Turn PyTorch autologging on (or off with ``disable=True``).

    Lightning: params, per-epoch metrics and the model of every ``Trainer.fit``.
    Plain loops, inside a run: optimizer name and hyperparameters, and the model
    when the run ends (metrics of a plain loop must be logged by the loop itself).
    ``log_every_n_step``, ``log_datasets`` and ``checkpoint`` are not implemented.
    """
    warn_ignored("registered_model_name", registered_model_name)
    config = AutologConfig(
        FLAVOR,
        disable=disable,
        log_models=log_models,
        exclusive=exclusive,
        silent=silent,
        extra_tags=dict(extra_tags or {}),
        options={"log_every_n_epoch": log_every_n_epoch},
    )
    if not patching.configure(config):
        return
    from gitrun.integrations.pytorch import lightning, loops

    when_imported("torch", loops.install)
    for top, module in _LIGHTNING:
        if importlib.util.find_spec(top) is not None:
            when_imported(module, lightning.install)
