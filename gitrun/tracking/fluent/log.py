"""The fluent logging calls: params, metrics, tags, inputs, artifacts, and search.

Each logs to the run on top of this thread's stack (starting one, as MLflow does,
when none is active) or to ``run_id`` where the call takes one.
"""

from __future__ import annotations

from typing import Any

from gitrun.tracking import entities as ent
from gitrun.tracking.fluent.context import _client, _resolve_experiment_id
from gitrun.tracking.fluent.runs import active_run, current_run_id, metric_logger


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    """Log a parameter (stored as ``str(value)``); returns the value."""
    return _client().log_param(current_run_id(), key, value)


def log_params(params: dict[str, Any], synchronous: bool | None = None, run_id: str | None = None) -> None:
    _client().log_params(run_id or current_run_id(), params)


def log_metric(
    key: str,
    value: Any,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    """Log one point of a metric series (step defaults to 0, timestamp to now in ms).

    This is the hot path: a few microseconds, no git work (see docs/architecture.md).
    ``model_id``: the point is also attached to that logged model.  ``dataset`` is
    accepted for MLflow compatibility and not recorded.
    """
    if run_id is None and model_id is None:
        metric_logger()(key, value, step, timestamp)
    else:
        _client().log_metric(run_id or current_run_id(), key, value, timestamp, step, model_id=model_id)


def log_metrics(
    metrics: dict[str, Any],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    """Log several metrics at one step and timestamp (also onto the logged model ``model_id``)."""
    _client().log_metrics(run_id or current_run_id(), metrics, step, timestamp, model_id)


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    _client().set_tag(current_run_id(), key, value)


def set_tags(tags: dict[str, Any], synchronous: bool | None = None) -> None:
    _client().set_tags(current_run_id(), tags)


def delete_tag(key: str) -> None:
    _client().delete_tag(current_run_id(), key)


def flush() -> None:
    """Commit everything buffered in this process now (normally on a schedule)."""
    _client().flush()


def log_input(
    dataset: Any,
    context: str | None = None,
    tags: dict[str, Any] | None = None,
    model: Any = None,
    run_id: str | None = None,
) -> None:
    """Record an input of the active run.

    A dataset (``gitrun.data.from_pandas(df)``, ...) is recorded with its
    ``context`` ("training", "eval", ...) and ``tags``; a path declares a file or
    folder the run reads (hashed, stored, restored by ``gitrun reproduce``).
    """
    _client().log_input(run_id or current_run_id(), dataset, context, tags)


def log_artifact(local_path: Any, artifact_path: str | None = None, run_id: str | None = None) -> None:
    """Log a file or directory into the active run (started if none is active)."""
    _client().log_artifact(run_id or current_run_id(), local_path, artifact_path)


def log_artifacts(local_dir: Any, artifact_path: str | None = None, run_id: str | None = None) -> None:
    """Log the contents of a directory under ``artifact_path`` (the run's root for None)."""
    _client().log_artifacts(run_id or current_run_id(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    _client().log_text(run_id or current_run_id(), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    _client().log_dict(run_id or current_run_id(), dictionary, artifact_file)


def log_stream(stream: Any, artifact_file: str, run_id: str | None = None) -> None:
    _client().log_stream(run_id or current_run_id(), stream, artifact_file)


def log_figure(
    figure: Any, artifact_file: str, *, save_kwargs: dict[str, Any] | None = None, run_id: str | None = None
) -> None:
    _client().log_figure(run_id or current_run_id(), figure, artifact_file, save_kwargs=save_kwargs)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
) -> None:
    _client().log_image(run_id or current_run_id(), image, artifact_file, key, step, timestamp)


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Log a dict or DataFrame as the JSON table ``artifact_file`` (rows appended if it exists)."""
    _client().log_table(run_id or current_run_id(), data, artifact_file)


def load_table(
    artifact_file: str, run_ids: list[str] | None = None, extra_columns: list[str] | None = None
) -> Any:
    """The table ``artifact_file`` of ``run_ids`` (default: the active experiment's runs that
    logged it) as one DataFrame; ``extra_columns=["run_id"]`` tells the rows apart."""
    from gitrun.tracking import logged_tables as tables

    return tables.load_table(_client(), [_resolve_experiment_id()], artifact_file, run_ids, extra_columns)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """``runs:/<run_id>[/<artifact_path>]`` of the active run (started, with a warning, if none)."""
    from gitrun.tracking.artifacts.api import artifact_uri

    if active_run() is None:
        import warnings

        warnings.warn("get_artifact_uri: no active run, starting one", stacklevel=2)
    return artifact_uri(current_run_id(), artifact_path)


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
        _client(),
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
        _client(),
        view_type=view_type,
        filter_string=filter_string,
        order_by=order_by,
        max_results=max_results,
    )
