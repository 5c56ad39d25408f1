"""Autologging for plain PyTorch training loops: what can be seen from outside the loop.

A plain loop's losses and accuracies live in the user's local variables: no
library can log them without being told (``gitrun.log_metric(..., step=epoch)``).
What *can* be seen, and is logged when ``gitrun.pytorch.autolog()`` is on and a
run is active:

* when an optimizer is created (``torch.optim.Optimizer.__init__`` is patched):
  params ``optimizer_name`` and its defaults (``lr``, ``betas``, ``weight_decay``, ...),
  for the first optimizer of each run;
* when that run ends successfully: the model as ``model``.  The model is the
  ``nn.Module`` found, at the moment the optimizer is created, among the local
  variables of the code creating it (and the attributes of its ``self``) whose
  parameters the optimizer updates: ``optimizer = Adam(model.parameters())``
  finds ``model``.  If none is found, nothing is logged; call
  ``gitrun.pytorch.log_model(model, "model")`` yourself.

Outside any run nothing is logged: a managed run could not know when the loop ends.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable
from types import FrameType, ModuleType
from typing import Any

from gitrun.integrations.autolog import patching
from gitrun.integrations.autolog.session import inside, safely

FLAVOR = "pytorch"
_lock = threading.Lock()
_FRAMEWORKS = ("transformers", "accelerate", "lightning", "pytorch_lightning", "keras")
_runs: dict[str, Any] = {}
"""run id -> weak reference to the model to log when the run ends (or None)."""


def install(torch: ModuleType) -> None:
    """Patch the optimizer base class and hook the end of runs."""
    from gitrun.tracking import fluent

    patching.patch(FLAVOR, torch.optim.Optimizer, "__init__", _wrap)
    fluent.add_end_run_hook(_on_end_run)


def optimizer_params(optimizer: Any) -> dict[str, str]:
    """``optimizer_name`` and the optimizer's defaults, as params."""
    from gitrun.integrations.autolog.values import as_param

    params = {"optimizer_name": type(optimizer).__name__}
    params.update({str(k): as_param(v) for k, v in getattr(optimizer, "defaults", {}).items()})
    return params


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        config = patching.active(FLAVOR)
        if config is not None and not inside(FLAVOR):  # Lightning's fit logs its own
            safely(config, _remember, self, sys._getframe(1))

    return __init__


def _remember(optimizer: Any, frame: FrameType | None) -> None:
    from gitrun.tracking import fluent

    active = fluent.active_run()
    config = patching.active(FLAVOR)
    if active is None or config is None or config.exclusive:  # exclusive: user runs only here
        return
    frame = _user_frame(frame)
    if frame is not None and str(frame.f_globals.get("__name__", "")).startswith(_FRAMEWORKS):
        return  # a training framework made it: its own integration logs (without conflicting params)
    run_id = active.info.run_id
    with _lock:
        if run_id in _runs:
            return
        _runs[run_id] = None
    fluent.log_params(optimizer_params(optimizer), run_id=run_id)
    model = _find_model(optimizer, frame)
    if model is not None:
        with _lock:
            _runs[run_id] = weakref.ref(model)


def _user_frame(frame: FrameType | None) -> FrameType | None:
    """The first frame outside torch and gitrun: the code that created the optimizer."""
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith(("torch", "gitrun")):
        frame = frame.f_back
    return frame


def _find_model(optimizer: Any, frame: FrameType | None) -> Any:
    """The largest module in the frame's locals whose parameters the optimizer updates."""
    import torch

    if frame is None:
        return None
    owned = {id(p) for group in optimizer.param_groups for p in group["params"]}
    candidates = list(frame.f_locals.values())
    owner = frame.f_locals.get("self")
    if owner is not None and hasattr(owner, "__dict__"):
        candidates.extend(vars(owner).values())
    best, best_size = None, 0
    for value in candidates:
        if not isinstance(value, torch.nn.Module):
            continue
        ids = [id(p) for p in value.parameters()]
        if ids and len(ids) > best_size and all(i in owned for i in ids):
            best, best_size = value, len(ids)
    return best


def _on_end_run(run_id: str, status: str) -> None:
    with _lock:
        ref = _runs.pop(run_id, None)
    config = patching.active(FLAVOR)
    model = ref() if ref is not None else None
    if config is None or model is None or not config.log_models or status != "FINISHED":
        return
    from gitrun.integrations.pytorch.flavor import log_model

    safely(config, log_model, model, "model", run_id=run_id)
