"""The fluent API: module-level functions over an active-run stack (MLflow's semantics).

State kept here and only here: the tracking URI set by :func:`set_tracking_uri`, the
active experiment, and a per-thread stack of active runs.  Everything else is a
call on :class:`~gitrun.tracking.client.Client`.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from gitrun.core import location as loc
from gitrun.errors import GitrunError, InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from gitrun.tracking import entities as ent
from gitrun.tracking import validation as v
from gitrun.tracking.client import Client
from gitrun.tracking.validation import _INT64, _valid_keys

TRACKING_URI_ENV = "GITRUN_TRACKING_URI"
RUN_ID_ENVS = ("GITRUN_RUN_ID", "MLFLOW_RUN_ID")
EXPERIMENT_NAME_ENVS = ("GITRUN_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME")
EXPERIMENT_ID_ENVS = ("GITRUN_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID")

_tracking_uri: str | None = None
_experiment_id: str | None = None
_local = threading.local()
_all_stacks: list[list[ActiveRun]] = []
_stacks_lock = threading.Lock()
_client_cache: dict[str | None, Client] = {}
_crashed = False
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


def _env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


# -- tracking URI ---------------------------------------------------------------------------------


def set_tracking_uri(uri: str | Path | None) -> None:
    """Where runs are recorded: a repository, or a folder for a standalone store.

    Also exported as ``GITRUN_TRACKING_URI`` so that subprocesses record there too.
    ``None`` returns to the default (the enclosing git repository).
    """
    global _tracking_uri
    if uri is None:
        _tracking_uri = None
        os.environ.pop(TRACKING_URI_ENV, None)
        return
    if isinstance(uri, Path):
        uri = "file://" + str(uri.absolute())
    loc.path_from_uri(uri)  # reject unsupported schemes now, not at the first log call
    _tracking_uri = uri
    os.environ[TRACKING_URI_ENV] = uri


def tracking_uri_or_none() -> str | None:
    return _tracking_uri if _tracking_uri is not None else os.environ.get(TRACKING_URI_ENV)


def get_tracking_uri() -> str:
    """The tracking URI in effect, as an absolute ``file://`` URI."""
    return loc.resolve(tracking_uri_or_none()).uri


def is_tracking_uri_set() -> bool:
    return tracking_uri_or_none() is not None


def _client() -> Client:
    uri = tracking_uri_or_none()
    client = _client_cache.get(uri)
    if client is None:
        client = Client(uri)
        _client_cache[uri] = client
    return client


# -- experiments ----------------------------------------------------------------------------------


def set_experiment(experiment_name: str | None = None, experiment_id: str | None = None) -> ent.Experiment:
    """Make an experiment active for new runs, creating it by name if needed."""
    global _experiment_id
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidParameterValue("Must specify exactly one of: `experiment_id` or `experiment_name`.")
    client = _client()
    if experiment_id is not None:
        experiment = client.get_experiment(v.experiment_id(experiment_id))
    else:
        experiment = _get_or_create_experiment(client, v.experiment_name(experiment_name))
    if experiment.lifecycle_stage != ent.LifecycleStage.ACTIVE:
        raise InvalidParameterValue(
            f"Cannot set a deleted experiment '{experiment.name}' as the active experiment. You can restore "
            "the experiment, or permanently delete the experiment to create a new one."
        )
    _experiment_id = experiment.experiment_id
    os.environ["GITRUN_EXPERIMENT_ID"] = experiment.experiment_id
    return experiment


def _get_or_create_experiment(client: Client, name: str) -> ent.Experiment:
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        try:
            client.create_experiment(name)
        except ResourceAlreadyExists:
            pass  # another process created it a moment ago
        experiment = client.get_experiment_by_name(name)
    assert experiment is not None
    return experiment


def _resolve_experiment_id() -> str:
    if _experiment_id is not None:
        return _experiment_id
    client = _client()
    name = _env(EXPERIMENT_NAME_ENVS)
    env_id = _env(EXPERIMENT_ID_ENVS)
    if name:
        experiment = _get_or_create_experiment(client, name)
        if env_id and env_id != experiment.experiment_id:
            raise InvalidParameterValue(
                f"The experiment name '{name}' and id '{env_id}' from the environment do not match."
            )
        return experiment.experiment_id
    if env_id:
        return client.get_experiment(env_id).experiment_id
    return "0"


def create_experiment(
    name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
) -> str:
    return _client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> ent.Experiment:
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> ent.Experiment | None:
    return _client().get_experiment_by_name(name)


def delete_experiment(experiment_id: str) -> None:
    _client().delete_experiment(experiment_id)


def set_experiment_tag(key: str, value: Any) -> None:
    _client().set_experiment_tag(_resolve_experiment_id(), key, value)


def set_experiment_tags(tags: dict[str, Any]) -> None:
    for key, value in tags.items():
        set_experiment_tag(key, value)


def delete_experiment_tag(key: str) -> None:
    _client().delete_experiment_tag(_resolve_experiment_id(), key)


# -- runs -----------------------------------------------------------------------------------------


class ActiveRun:
    """A run on the active stack; a context manager that ends it.

    ``.info`` and ``.data`` are a snapshot taken when the run started (as in MLflow);
    use :func:`get_run` for current values.
    """

    def __init__(self, run: ent.Run, client: Client | None = None) -> None:
        self._run = run
        self._client = client
        # Kept at hand for log_metric's fast path.
        self._run_id = run.info.run_id
        self._writer = (client or _client()).store.writer

    @property
    def info(self) -> ent.RunInfo:
        return self._run.info

    @property
    def data(self) -> ent.RunData:
        return self._run.data

    @property
    def inputs(self) -> ent.RunInputs:
        return self._run.inputs

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
    if resume_id is None:
        for name in RUN_ID_ENVS:
            if os.environ.get(name):
                resume_id = os.environ.pop(name)
                break
    if resume_id is not None:
        active = _resume(client, v.run_id(resume_id), run_name, user_tags)
    else:
        active = _create(client, experiment_id, run_name, parent_run_id, user_tags, stack)
    stack.append(active)
    _install_excepthook()
    return active


def _resume(client: Client, run_id: str, run_name: str | None, tags: dict[str, Any]) -> ActiveRun:
    run = client.get_run(run_id)
    if _experiment_id is not None and run.info.experiment_id != _experiment_id:
        raise GitrunError(
            f"Cannot start run with ID {run_id} because active run ID does not match environment run "
            f"ID. The run is in experiment {run.info.experiment_id}, the active experiment is "
            f"{_experiment_id}."
        )
    if run.info.lifecycle_stage == ent.LifecycleStage.DELETED:
        raise GitrunError(f"Cannot start run with ID {run_id} because it is in the deleted state.")
    writer = client.store.writer
    writer.open_run(run_id, owned=True)
    writer.update_info(run_id, {"status": ent.RunStatus.RUNNING})
    clean = Client._clean_tags(tags)
    if run_name is not None:
        clean["mlflow.runName"] = run_name
    if clean:
        client._set_tags(run_id, clean)
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
    clean = Client._clean_tags(_context_tags())
    clean.update(Client._clean_tags(tags))
    parent = None
    if parent_run_id is not None:
        parent_run_id = v.run_id(parent_run_id)
        if stack and stack[-1].info.run_id != parent_run_id:
            raise GitrunError(
                f"Current run with UUID {stack[-1].info.run_id} does not match the specified parent_run_id "
                f"{parent_run_id}. To start a new nested run under the parent run with UUID "
                f"{parent_run_id}, first end the current run with gitrun.end_run()."
            )
        parent_run = client.get_run(parent_run_id) if not client.store.writer.is_live(parent_run_id) else None
        if parent_run is not None and parent_run.info.lifecycle_stage == ent.LifecycleStage.DELETED:
            raise InvalidParameterValue(f"Cannot start a nested run under the deleted run {parent_run_id}.")
        if parent_run is None and not client.store.run_exists(parent_run_id):
            raise ResourceDoesNotExist(f"Run '{parent_run_id}' not found")
        parent = parent_run_id
    elif stack:
        parent = stack[-1].info.run_id
    if parent is not None:
        clean["mlflow.parentRunId"] = parent
    if run_name is not None:
        clean["mlflow.runName"] = v.tag_value("mlflow.runName", run_name)
    store = client.store
    new_id = store.create_run(
        exp_id,
        run_name=clean.get("mlflow.runName"),
        tags=clean,
        parent_run_id=parent,
        inherit_code_from=parent,
    )
    info = store.writer._runs[new_id].info
    tags_now = store.writer._runs[new_id].tags
    run = ent.Run(
        ent.RunInfo(
            new_id,
            info["run_name"],
            exp_id,
            info["user_id"],
            ent.RunStatus.RUNNING,
            info["start_time"],
            None,
            info["artifact_uri"],
            ent.LifecycleStage.ACTIVE,
        ),
        ent.RunData(tags=dict(tags_now)),
        record=info,
    )
    return ActiveRun(run, client)


def _context_tags() -> dict[str, str]:
    from gitrun.tracking.capture import source

    src = source.source()
    tags = {
        "mlflow.user": source.user(),
        "mlflow.source.name": src["name"],
        "mlflow.source.type": src["type"],
    }
    extra = _env(("GITRUN_RUN_CONTEXT", "MLFLOW_RUN_CONTEXT"))
    if extra:
        import json

        try:
            tags.update({str(k): str(val) for k, val in json.loads(extra).items()})
        except (ValueError, AttributeError):
            raise InvalidParameterValue("GITRUN_RUN_CONTEXT must hold a JSON object of tags") from None
    return tags


def end_run(status: str = ent.RunStatus.FINISHED) -> None:
    """End the top run of this thread's stack (no-op when there is none)."""
    stack = _stack()
    if not stack:
        return
    active = stack.pop()
    _local.last_run_id = active.info.run_id
    for name in RUN_ID_ENVS:
        os.environ.pop(name, None)
    ent.RunStatus.from_string(status)
    for hook in list(_end_run_hooks):
        hook(active.info.run_id, status)
    (active._client or _client()).set_terminated(active.info.run_id, status)


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


# -- search ---------------------------------------------------------------------------------------


def search_runs(
    experiment_ids: Any = None,
    filter_string: str = "",
    run_view_type: int = ent.ViewType.ACTIVE_ONLY,
    max_results: int = 100_000,
    order_by: list[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: list[str] | None = None,
) -> Any:
    """Runs matching an MLflow filter, as a pandas DataFrame (or ``output_format="list"``).

    Without ``experiment_ids`` or ``experiment_names`` the active experiment is
    searched (all active ones with ``search_all_experiments=True``).  The DataFrame
    has MLflow's columns: run_id, experiment_id, status, artifact_uri, start_time,
    end_time, then ``metrics.*``, ``params.*`` and ``tags.*``.
    """
    from gitrun.tracking import search

    return search.fluent_search_runs(
        _client().store,
        _resolve_experiment_id,
        experiment_ids=experiment_ids,
        filter_string=filter_string,
        run_view_type=run_view_type,
        max_results=max_results,
        order_by=order_by,
        output_format=output_format,
        search_all_experiments=search_all_experiments,
        experiment_names=experiment_names,
    )


def search_experiments(
    view_type: int = ent.ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[ent.Experiment]:
    """Every experiment matching a filter (up to ``max_results``), newest first."""
    from gitrun.tracking import search

    return search.all_experiments(
        _client().store,
        view_type=view_type,
        filter_string=filter_string,
        order_by=order_by,
        max_results=max_results,
    )


# -- logging --------------------------------------------------------------------------------------


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    """Log a parameter (stored as ``str(value)``); returns the value."""
    return _client().log_param(_run_id(), key, value)


def log_params(params: dict[str, Any], synchronous: bool | None = None, run_id: str | None = None) -> None:
    client = _client()
    target = run_id or _run_id()
    clean = {v.validate_key(k, "param"): v.param_value(k, val) for k, val in params.items()}
    client.store.writer.log_params(target, clean)


def log_metric(
    key: str,
    value: Any,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    **_: Any,
) -> None:
    """Log one point of a metric series (step defaults to 0, timestamp to now in ms).

    This is the hot path: a few microseconds, no git work (see docs/architecture.md).
    """
    stack = getattr(_local, "stack", None)
    if stack and run_id is None:
        active = stack[-1]
        writer, target = active._writer, active._run_id
    else:
        target = run_id or _run_id()
        writer = _client().store.writer
    if key not in _valid_keys:
        v.validate_key(key, "metric")
    if type(value) is not float:
        value = v.metric_value(key, value)
    ts = int(time.time() * 1000) if timestamp is None else v.metric_timestamp(timestamp)
    if step is None:
        step = 0
    elif type(step) is not int or not -_INT64 <= step < _INT64:
        step = v.metric_step(step)
    writer.log_metric(target, key, value, step, ts)


def log_metrics(
    metrics: dict[str, Any],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    **_: Any,
) -> None:
    """Log several metrics at one step and timestamp."""
    target = run_id or _run_id()
    ts = int(time.time() * 1000) if timestamp is None else v.metric_timestamp(timestamp)
    step_ = v.metric_step(step)
    points = [(v.validate_key(k, "metric"), v.metric_value(k, val), step_, ts) for k, val in metrics.items()]
    _client().store.writer.log_metrics(target, points)


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    _client().set_tag(_run_id(), key, value)


def set_tags(tags: dict[str, Any], synchronous: bool | None = None) -> None:
    client = _client()
    clean = Client._clean_tags(tags)
    client._set_tags(_run_id(), clean)


def delete_tag(key: str) -> None:
    _client().delete_tag(_run_id(), key)


def flush() -> None:
    """Commit everything buffered in this process now (normally on a schedule)."""
    _client().flush()


# -- inputs and artifacts (implementation: gitrun.tracking.inputs, gitrun.tracking.artifacts) ----


def log_input(path: Any, run_id: str | None = None) -> None:
    """Declare a file or folder the active run reads (hashed, stored, restored on reproduce)."""
    _client().log_input(run_id or _run_id(), path)


def log_artifact(local_path: Any, artifact_path: str | None = None, run_id: str | None = None) -> None:
    """Log a file or directory into the active run (started if none is active)."""
    _client().log_artifact(run_id or _run_id(), local_path, artifact_path)


def log_artifacts(local_dir: Any, artifact_path: str | None = None, run_id: str | None = None) -> None:
    """Log the contents of a directory under ``artifact_path`` (the run's root for None)."""
    _client().log_artifacts(run_id or _run_id(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    _client().log_text(run_id or _run_id(), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    _client().log_dict(run_id or _run_id(), dictionary, artifact_file)


def log_stream(stream: Any, artifact_file: str, run_id: str | None = None) -> None:
    _client().log_stream(run_id or _run_id(), stream, artifact_file)


def log_figure(
    figure: Any, artifact_file: str, *, save_kwargs: dict[str, Any] | None = None, run_id: str | None = None
) -> None:
    _client().log_figure(run_id or _run_id(), figure, artifact_file, save_kwargs=save_kwargs)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
) -> None:
    _client().log_image(run_id or _run_id(), image, artifact_file, key, step, timestamp)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """``runs:/<run_id>[/<artifact_path>]`` of the active run (started, with a warning, if none)."""
    from gitrun.tracking.artifacts.api import artifact_uri

    if not _stack():
        import warnings

        warnings.warn("get_artifact_uri: no active run, starting one", stacklevel=2)
    return artifact_uri(_run_id(), artifact_path)


# -- interpreter exit -----------------------------------------------------------------------------


def _install_excepthook() -> None:
    if getattr(_install_excepthook, "done", False):
        return
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        global _crashed
        _crashed = True
        previous(kind, value, tb)

    sys.excepthook = hook
    _install_excepthook.done = True  # type: ignore[attr-defined]


def _end_runs_at_exit() -> None:
    # gitrun ends every dangling run, in every thread, FAILED if the script crashed.
    status = ent.RunStatus.FAILED if _crashed else ent.RunStatus.FINISHED
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
    global _tracking_uri, _experiment_id, _crashed
    _tracking_uri = None
    _experiment_id = None
    _crashed = False
    with _stacks_lock:
        for stack in _all_stacks:
            stack.clear()
    _local.__dict__.clear()
    _client_cache.clear()
    os.environ.pop(TRACKING_URI_ENV, None)
