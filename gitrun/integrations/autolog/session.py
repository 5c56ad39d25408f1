"""The rules every autologging integration follows.

* The run: inside a user's run (nested ones too) autolog logs into the innermost
  active run and leaves it open; with none active it starts a *managed* run,
  tagged ``mlflow.autologging=<flavor>``, and ends it when training returns
  (FINISHED), raises (FAILED) or is interrupted (KILLED).  ``exclusive=True`` skips
  runs the user started.
* Safety: a failure while *logging* never reaches the user's training: it is
  caught, reported once per integration as a warning, and training goes on.
  Exceptions raised by the training itself propagate unchanged.
* Only the outermost call logs: a pipeline's ``fit`` calls its steps' ``fit``,
  a search fits many clones; those inner calls just train.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")

_warned: set[str] = set()
_depth = threading.local()
_busy: set[str] = set()
_busy_lock = threading.Lock()


@dataclass(frozen=True)
class AutologConfig:
    """Options shared by every integration's ``autolog()``."""

    flavor: str
    disable: bool = False
    log_models: bool = True
    exclusive: bool = False
    silent: bool = False
    extra_tags: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    """Integration-specific options (``max_tuning_runs``, ``log_input_examples``, ...)."""


def report(config: AutologConfig, error: BaseException) -> None:
    """Warn about a logging failure, once per integration and process."""
    if config.silent or config.flavor in _warned:
        return
    _warned.add(config.flavor)
    warnings.warn(
        f"gitrun: {config.flavor} autologging failed and was skipped ({type(error).__name__}: {error}); "
        "training continues. Later failures of this integration are not reported.",
        UserWarning,
        stacklevel=3,
    )


def safely(config: AutologConfig, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """``fn(*args, **kwargs)``, or None (and a warning) if it raised."""
    try:
        return fn(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - logging must never break training
        report(config, error)
        return None


@contextmanager
def outermost(flavor: str, process_wide: bool = False) -> Iterator[bool]:
    """True for the outermost patched call of ``flavor`` in this thread, False inside it.

    ``process_wide``: also False while an outermost call runs in another thread.
    scikit-learn needs it: joblib's threading backend fits clones of an estimator
    in worker threads, which must not each log a run of their own.
    """
    depth: dict[str, int] = _depth.__dict__.setdefault("counts", {})
    level = depth.get(flavor, 0)
    outer = level == 0
    if outer and process_wide:
        with _busy_lock:
            outer = flavor not in _busy
            if outer:
                _busy.add(flavor)
    depth[flavor] = level + 1
    try:
        yield outer
    finally:
        depth[flavor] = level
        if outer and process_wide:
            with _busy_lock:
                _busy.discard(flavor)


def inside(flavor: str) -> bool:
    """Whether this thread is inside a patched call of ``flavor``."""
    counts: dict[str, int] = _depth.__dict__.get("counts", {})
    return counts.get(flavor, 0) > 0


@contextmanager
def autolog_run(config: AutologConfig) -> Iterator[str | None]:
    """The run to log into (None: do not log); a managed run is ended on the way out."""
    from gitrun.tracking import entities as ent
    from gitrun.tracking import fluent

    active = fluent.active_run()
    if active is not None:
        yield None if config.exclusive else active.info.run_id
        return
    tags = {"mlflow.autologging": config.flavor, **config.extra_tags}
    run = safely(config, fluent.start_run, tags=tags)
    if run is None:
        yield None
        return
    run_id = run.info.run_id
    status = ent.RunStatus.FINISHED
    try:
        yield run_id
    except KeyboardInterrupt:
        status = ent.RunStatus.KILLED
        raise
    except BaseException:
        status = ent.RunStatus.FAILED
        raise
    finally:
        safely(config, end_managed_run, run_id, status)


def end_managed_run(run_id: str, status: str) -> None:
    """End a run autologging started, wherever it is on this thread's stack."""
    from gitrun.tracking import fluent

    # The training code may have ended our run or started others meanwhile.
    fluent.end_run_by_id(run_id, status)
