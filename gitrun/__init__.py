"""gitrun: experiment tracking and reproducibility for machine learning, stored in git.

The API follows MLflow's tracking API, so ``import gitrun as mlflow`` runs MLflow code.
Heavy integrations (``gitrun.sklearn``, ``gitrun.pytorch``, ...) are imported on first
use only, to keep ``import gitrun`` fast.
"""

from __future__ import annotations

from gitrun._version import __version__
from gitrun.errors import GitrunError
from gitrun.tracking.client import Client, MlflowClient
from gitrun.tracking.entities import RunStatus, ViewType
from gitrun.tracking.fluent import (
    ActiveRun,
    active_run,
    create_experiment,
    delete_experiment,
    delete_experiment_tag,
    delete_run,
    delete_tag,
    end_run,
    flush,
    get_artifact_uri,
    get_experiment,
    get_experiment_by_name,
    get_parent_run,
    get_run,
    get_tracking_uri,
    is_tracking_uri_set,
    last_active_run,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_image,
    log_input,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_stream,
    log_text,
    restore_run,
    search_experiments,
    search_runs,
    set_experiment,
    set_experiment_tag,
    set_experiment_tags,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)

MlflowException = GitrunError

__all__ = [
    "ActiveRun",
    "Client",
    "GitrunError",
    "MlflowClient",
    "MlflowException",
    "RunStatus",
    "ViewType",
    "__version__",
    "active_run",
    "autolog",
    "create_experiment",
    "delete_experiment",
    "delete_experiment_tag",
    "delete_run",
    "delete_tag",
    "end_run",
    "flush",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_parent_run",
    "get_run",
    "get_tracking_uri",
    "is_tracking_uri_set",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_image",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_stream",
    "log_text",
    "metric_histories",
    "restore_run",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]

# Submodules that `import mlflow` code reaches as attributes (mlflow.entities.Metric,
# mlflow.sklearn.log_model, ...) are imported on first access, keeping import fast.
_LAZY_SUBMODULES = frozenset(
    {
        "entities",
        "exceptions",
        "tracking",
        "artifacts",
        "models",
        "pyfunc",
        "sklearn",
        "pytorch",
        "keras",
        "tensorflow",
        "transformers",
    }
)


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = False,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    extra_tags: dict[str, str] | None = None,
) -> None:
    """Autologging for every installed ML library (scikit-learn, PyTorch, Keras, Transformers).

    Libraries are patched only once the script imports them; see
    ``gitrun.integrations.autolog.universal`` and docs/user-guide.md.
    """
    from gitrun.integrations.autolog.universal import autolog as enable

    enable(
        log_input_examples=log_input_examples,
        log_model_signatures=log_model_signatures,
        log_models=log_models,
        log_datasets=log_datasets,
        disable=disable,
        exclusive=exclusive,
        disable_for_unsupported_versions=disable_for_unsupported_versions,
        silent=silent,
        extra_tags=extra_tags,
    )


def metric_histories(run_ids: object, keys: object = None) -> object:
    """The metric series of several runs as one pandas DataFrame in long format
    (``run_id, run_name, key, step, timestamp, value``); see
    :func:`gitrun.tracking.histories.metric_histories`."""
    from gitrun.tracking.fluent.context import _client
    from gitrun.tracking.histories import metric_histories as frame

    return frame(run_ids, keys, client=_client())  # type: ignore[arg-type]


def __getattr__(name: str) -> object:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"gitrun.{name}")
    raise AttributeError(f"module 'gitrun' has no attribute {name!r}")
