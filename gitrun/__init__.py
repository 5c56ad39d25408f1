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
    delete_logged_model_tag,
    delete_run,
    delete_tag,
    end_run,
    flush,
    get_artifact_uri,
    get_experiment,
    get_experiment_by_name,
    get_logged_model,
    get_parent_run,
    get_run,
    get_tracking_uri,
    is_tracking_uri_set,
    last_active_run,
    last_logged_model,
    load_table,
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
    log_table,
    log_text,
    register_model,
    restore_experiment,
    restore_run,
    search_experiments,
    search_logged_models,
    search_runs,
    set_experiment,
    set_experiment_tag,
    set_experiment_tags,
    set_logged_model_tags,
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
    "delete_logged_model_tag",
    "delete_run",
    "delete_tag",
    "disable_system_metrics_logging",
    "enable_system_metrics_logging",
    "end_run",
    "evaluate",
    "flush",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_logged_model",
    "get_parent_run",
    "get_run",
    "get_tracking_uri",
    "is_tracking_uri_set",
    "last_active_run",
    "last_logged_model",
    "load_table",
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
    "log_table",
    "log_text",
    "metric_histories",
    "register_model",
    "restore_experiment",
    "restore_run",
    "search_experiments",
    "search_logged_models",
    "search_runs",
    "set_experiment",
    "set_experiment_tag",
    "set_experiment_tags",
    "set_logged_model_tags",
    "set_system_metrics_node_id",
    "set_system_metrics_samples_before_logging",
    "set_system_metrics_sampling_interval",
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
        "xgboost",
        "lightgbm",
        "statsmodels",
        "pmdarima",
        "catboost",
        "prophet",
        "spacy",
        "data",
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


def enable_system_metrics_logging() -> None:
    """Log CPU, memory, disk, network (and GPU) metrics in every run started from now on."""
    from gitrun.tracking.system_metrics import enable_system_metrics_logging as enable

    enable()


def disable_system_metrics_logging() -> None:
    from gitrun.tracking.system_metrics import disable_system_metrics_logging as disable

    disable()


def set_system_metrics_sampling_interval(interval: float | None) -> None:
    """Seconds between system-metric samples (default 10)."""
    from gitrun.tracking.system_metrics import set_system_metrics_sampling_interval as setter

    setter(interval)


def set_system_metrics_samples_before_logging(samples: int | None) -> None:
    """How many samples are averaged into each logged system-metric point (default 1)."""
    from gitrun.tracking.system_metrics import set_system_metrics_samples_before_logging as setter

    setter(samples)


def set_system_metrics_node_id(node_id: str | None) -> None:
    from gitrun.tracking.system_metrics import set_system_metrics_node_id as setter

    setter(node_id)


def evaluate(model: object = None, data: object = None, **kwargs: object) -> object:
    """Evaluate a classifier or regressor on data and log metrics, plots and tables.

    MLflow's ``mlflow.evaluate``; see ``gitrun.models.evaluate`` and docs/evaluation.md.
    """
    from gitrun.integrations.evaluation.evaluate import evaluate as run

    return run(model, data, **kwargs)  # type: ignore[arg-type]


def metric_histories(run_ids: object, keys: object = None) -> object:
    """The metric series of several runs as one pandas DataFrame in long format
    (``run_id, run_name, key, step, timestamp, value``); see
    :func:`gitrun.tracking.histories.metric_histories`."""
    from gitrun.tracking.client import Client
    from gitrun.tracking.histories import metric_histories as frame

    return frame(run_ids, keys, client=Client())  # type: ignore[arg-type]


def __getattr__(name: str) -> object:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"gitrun.{name}")
    raise AttributeError(f"module 'gitrun' has no attribute {name!r}")
