"""The fluent run stack: start, resume and end runs (MLflow's semantics).

State kept here and only here: a per-thread stack of active runs (every thread's
stack is known, so that runs left active are ended at interpreter exit), the last
run each thread ended, and whether the script is dying of an uncaught exception.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from gitrun.errors import GitrunError, InvalidParameterValue
from gitrun.tracking import entities as ent
from gitrun.tracking import run_env
from gitrun.tracking import validation as v
from gitrun.tracking.client import Client
from gitrun.tracking.fluent import context
from gitrun.tracking.fluent.context import (
    _client,
    _context_tags,
    _resolve_experiment_id,
    active_experiment_id,
)

_local = threading.local()
_all_stacks: list[list[ActiveRun]] = []
_stacks_lock = threading.Lock()
_crashed: str | None = None
"""The status dangling runs end with when the script died of an uncaught exception:
KILLED for Ctrl-C (KeyboardInterrupt), FAILED for anything else."""
_end_run_hooks: list[Any] = []
"""Callables ``hook(run_id, status)`` run as ``end_run`` ends a run, before it is
terminated (integrations that log at the end of a run: ``gitrun.pytorch.autolog``).
A hook must not raise."""


def _stack() -> list[ActiveRun]:
    stack: list[ActiveRun] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = []
        _local.stack = stack
        with _stacks_lock:
            _all_stacks.append(stack)
    return stack


class ActiveRun:
    """A run on the active stack; a context manager that ends it.

    ``.info`` and ``.data`` are a snapshot taken when the run started (as in MLflow);
    use :func:`get_run` for current values.
    """

    def __init__(self, run: ent.Run, client: Client | None = None) -> None:
        self._run = run
        self._client = client
        # Kept at hand for log_metric's fast path (see logging_target).
        self._run_id = run.info.run_id
        self._log_metric = (client or _client()).metric_logger(self._run_id)

    @property
    def info(self) -> ent.RunInfo:
        return self._run.info

    @property
    def data(self) -> ent.RunData:
        return self._run.data

    @property
    def inputs(self) -> ent.RunInputs:
        return self._run.inputs

    @property
    def outputs(self) -> ent.RunOutputs:
        return self._run.outputs

    def to_dictionary(self) -> dict[str, Any]:
        return self._run.to_dictionary()

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if any(r.info.run_id == self.info.run_id for r in _stack()):
            if exc_type is None:
                status = ent.RunStatus.FINISHED
            elif issubclass(exc_type, KeyboardInterrupt):
                status = ent.RunStatus.KILLED  # gitrun: Ctrl-C is KILLED (MLflow says FAILED)
            else:
                status = ent.RunStatus.FAILED
            end_run(status)

    def __repr__(self) -> str:
        return f"<ActiveRun: run_id={self.info.run_id!r}, run_name={self.info.run_name!r}>"


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a new run, or resume one, and push it on this thread's active stack."""
    if experiment_id is not None:
        experiment_id = v.experiment_id(experiment_id)
    stack = _stack()
    if stack and not nested:
        raise Exception(  # noqa: TRY002 - MLflow raises a plain Exception here
            f"Run with UUID {stack[0].info.run_id} is already active. To start a new run, first end "
            "the current run with gitrun.end_run(). To start a nested run, call start_run with nested=True"
        )
    client = _client()
    user_tags = {k: val for k, val in (tags or {}).items()}
    if description is not None:
        if "mlflow.note.content" in user_tags:
            raise InvalidParameterValue(
                "Description is already set via the tag mlflow.note.content in tags. Remove the key "
                "mlflow.note.content from the tags or omit the description."
            )
        user_tags["mlflow.note.content"] = description
    resume_id = run_id
    movable = False
    if resume_id is None:
        resume_id, movable = run_env.take_run_id()
    if resume_id is not None:
        active = _resume(client, v.run_id(resume_id), run_name, user_tags, movable=movable)
    else:
        active = _create(client, experiment_id, run_name, parent_run_id, user_tags, stack)
    stack.append(active)
    _install_excepthook()
    from gitrun.tracking import system_metrics

    if system_metrics.wanted(log_system_metrics):
        _start_system_metrics(active.info.run_id, client)
    return active


def _start_system_metrics(run_id: str, client: Client) -> None:
    from gitrun.tracking import system_metrics

    def log(target: str, values: dict[str, float], step: int) -> None:
        now = int(time.time() * 1000)
        client.log_batch(target, metrics=[ent.Metric(k, val, now, step) for k, val in values.items()])

    add_end_run_hook(system_metrics.stop)
    system_metrics.start(run_id, log)


def _resume(
    client: Client, run_id: str, run_name: str | None, tags: dict[str, Any], *, movable: bool = False
) -> ActiveRun:
    run = client.get_run(run_id)
    experiment_id = active_experiment_id()
    if experiment_id is not None and run.info.experiment_id != experiment_id:
        if movable and run.info.lifecycle_stage != ent.LifecycleStage.DELETED:
            # `gitrun run` created this run before the script could say where it belongs.
            run = client.move_run(run_id, experiment_id)
        else:
            raise GitrunError(
                f"Cannot start run with ID {run_id} because active run ID does not match environment run "
                f"ID. The run is in experiment {run.info.experiment_id}, the active experiment is "
                f"{experiment_id}. With `gitrun run`, drop -e (the run then follows the script's "
                "set_experiment) or pass the same experiment to both."
            )
    if run.info.lifecycle_stage == ent.LifecycleStage.DELETED:
        raise GitrunError(f"Cannot start run with ID {run_id} because it is in the deleted state.")
    client.resume_run(run_id)
    clean = dict(tags)
    if run_name is not None:
        clean["mlflow.runName"] = run_name
    if clean:
        client.set_tags(run_id, clean)
    return ActiveRun(client.get_run(run_id), client)


def _create(
    client: Client,
    experiment_id: str | None,
    run_name: str | None,
    parent_run_id: str | None,
    tags: dict[str, Any],
    stack: list[ActiveRun],
) -> ActiveRun:
    exp_id = experiment_id if experiment_id is not None else _resolve_experiment_id()
    clean = v.run_tags(_context_tags())
    clean.update(v.run_tags(tags))
    parent = None
    if parent_run_id is not None:
        parent_run_id = v.run_id(parent_run_id)
        if stack and stack[-1].info.run_id != parent_run_id:
            raise GitrunError(
                f"Current run with UUID {stack[-1].info.run_id} does not match the specified parent_run_id "
                f"{parent_run_id}. To start a new nested run under the parent run with UUID "
                f"{parent_run_id}, first end the current run with gitrun.end_run()."
            )
        client.check_parent_run(parent_run_id)
        parent = parent_run_id
    elif stack:
        parent = stack[-1].info.run_id
    if parent is not None:
        clean["mlflow.parentRunId"] = parent
    if run_name is not None:
        clean["mlflow.runName"] = v.tag_value("mlflow.runName", run_name)
    run = client.start_owned_run(exp_id, clean, parent_run_id=parent)
    return ActiveRun(run, client)


def end_run(status: str = ent.RunStatus.FINISHED) -> None:
    """End the top run of this thread's stack (no-op when there is none)."""
    stack = _stack()
    if not stack:
        return
    active = stack.pop()
    _local.last_run_id = active.info.run_id
    run_env.clear_run_id()
    ent.RunStatus.from_string(status)
    for hook in list(_end_run_hooks):
        hook(active.info.run_id, status)
    (active._client or _client()).set_terminated(active.info.run_id, status)


def end_run_by_id(run_id: str, status: str = ent.RunStatus.FINISHED) -> None:
    """End ``run_id`` wherever it is on this thread's stack (the top run: as :func:`end_run`).

    For integrations that started a run and must end it even when the code they
    wrapped ended it first or started others on top of it.
    """
    stack = _stack()
    if stack and stack[-1].info.run_id == run_id:
        end_run(status)
        return
    stack[:] = [r for r in stack if r.info.run_id != run_id]
    ent.RunStatus.from_string(status)
    for hook in list(_end_run_hooks):
        hook(run_id, status)
    _client().set_terminated(run_id, status)


def add_end_run_hook(hook: Any) -> None:
    """Call ``hook(run_id, status)`` whenever a fluent run ends, before it is terminated
    (integrations that log at the end of a run).  Added once; a hook must not raise."""
    if hook not in _end_run_hooks:
        _end_run_hooks.append(hook)


def remove_end_run_hook(hook: Any) -> None:
    if hook in _end_run_hooks:
        _end_run_hooks.remove(hook)


def metric_logger() -> Callable[[str, Any, int | None, int | None], None]:
    """``log(key, value, step, timestamp)`` into this thread's active run, started (as
    every ``gitrun.log_*`` does) when none is active: ``log_metric``'s hot path."""
    stack: list[ActiveRun] | None = getattr(_local, "stack", None)
    return (stack[-1] if stack else start_run())._log_metric


def current_run_id() -> str:
    """The active run's id, starting a run (as every ``gitrun.log_*`` does) when none is active."""
    return _run_id()


def active_run() -> ActiveRun | None:
    stack = _stack()
    return stack[-1] if stack else None


def last_active_run() -> ent.Run | None:
    current = active_run()
    if current is not None:
        return current._run
    last = getattr(_local, "last_run_id", None)
    return get_run(last) if last else None


def get_run(run_id: str) -> ent.Run:
    return _client().get_run(run_id)


def get_parent_run(run_id: str) -> ent.Run | None:
    return _client().get_parent_run(run_id)


def delete_run(run_id: str) -> None:
    _client().delete_run(run_id)


def restore_run(run_id: str) -> None:
    _client().restore_run(run_id)


def _run_id() -> str:
    stack = _stack()
    if not stack:
        return start_run().info.run_id
    return stack[-1].info.run_id


def _install_excepthook() -> None:
    if getattr(_install_excepthook, "done", False):
        return
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        global _crashed
        # Ctrl-C interrupted the run, it did not break it: KILLED, as `with start_run()` does.
        _crashed = ent.RunStatus.KILLED if issubclass(kind, KeyboardInterrupt) else ent.RunStatus.FAILED
        previous(kind, value, tb)

    sys.excepthook = hook
    _install_excepthook.done = True  # type: ignore[attr-defined]


def _end_runs_at_exit() -> None:
    # gitrun ends every dangling run, in every thread: FAILED if the script crashed,
    # KILLED if it was interrupted (Ctrl-C).
    status = _crashed or ent.RunStatus.FINISHED
    with _stacks_lock:
        stacks = list(_all_stacks)
    for stack in stacks:
        while stack:
            active = stack.pop()
            try:
                (active._client or _client()).set_terminated(active.info.run_id, status)
            except Exception as exc:  # noqa: BLE001 - keep ending the others
                print(f"gitrun: could not end run {active.info.run_id}: {exc}", file=sys.stderr)


atexit.register(_end_runs_at_exit)


def reset() -> None:
    """Forget all fluent state of this process (tests; never needed in scripts)."""
    global _crashed
    _crashed = None
    with _stacks_lock:
        for stack in _all_stacks:
            stack.clear()
    _local.__dict__.clear()
    context.reset()
