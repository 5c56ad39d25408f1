"""Where fluent calls record: the tracking URI and the active experiment.

State kept here and only here: one :class:`~gitrun.tracking.client.Client` per
tracking URI, and the experiment made active by :func:`set_experiment`.  The tracking
URI itself lives in :mod:`gitrun.tracking.uri`, below the client.
"""

from __future__ import annotations

import os
from typing import Any

from gitrun.errors import InvalidParameterValue, ResourceAlreadyExists
from gitrun.tracking import entities as ent
from gitrun.tracking import run_env
from gitrun.tracking import validation as v
from gitrun.tracking.client import Client
from gitrun.tracking.uri import reset as reset_tracking_uri
from gitrun.tracking.uri import tracking_uri_or_none

EXPERIMENT_NAME_ENVS = ("GITRUN_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME")
EXPERIMENT_ID_ENVS = ("GITRUN_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID")

_experiment_id: str | None = None
_client_cache: dict[str | None, Client] = {}


def _env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


# -- tracking URI (kept in gitrun.tracking.uri, below the client) -------------------------------


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
    run_env.export_experiment_id(experiment.experiment_id)  # for child processes, as MLflow
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


def resolve_experiment_id() -> str:
    """The experiment a new run goes to: the one :func:`set_experiment` made active, else
    ``GITRUN_EXPERIMENT_NAME``/``_ID`` (or MLflow's), else the default experiment "0"."""
    return _resolve_experiment_id()


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


def restore_experiment(experiment_id: str) -> None:
    """Undo ``delete_experiment``: the experiment and the runs its deletion deleted."""
    _client().restore_experiment(experiment_id)


def set_experiment_tag(key: str, value: Any) -> None:
    _client().set_experiment_tag(_resolve_experiment_id(), key, value)


def set_experiment_tags(tags: dict[str, Any]) -> None:
    for key, value in tags.items():
        set_experiment_tag(key, value)


def delete_experiment_tag(key: str) -> None:
    _client().delete_experiment_tag(_resolve_experiment_id(), key)


def _context_tags() -> dict[str, str]:
    from gitrun.core.records.text import readable
    from gitrun.tracking.capture import source

    src = source.source()
    # Tags are plain text: captured bytes that are not UTF-8 show as \xHH here (run.yaml
    # keeps them exactly).
    tags = {
        "mlflow.user": readable(source.user()),
        "mlflow.source.name": readable(src["name"]),
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


def active_experiment_id() -> str | None:
    """The experiment set by :func:`set_experiment` in this process, if any."""
    return _experiment_id


def reset() -> None:
    """Forget the tracking URI, the active experiment and the clients (tests)."""
    global _experiment_id
    _experiment_id = None
    _client_cache.clear()
    reset_tracking_uri()
