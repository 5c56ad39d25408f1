"""The fluent calls of logged models and of the model registry (MLflow 3's module-level API)."""

from __future__ import annotations

from typing import Any

from gitrun.tracking import entities as ent
from gitrun.tracking.fluent.context import _client, _resolve_experiment_id


def get_logged_model(model_id: str) -> ent.LoggedModel:
    return _client().get_logged_model(model_id)


def last_logged_model() -> ent.LoggedModel | None:
    """The model this process logged last (None if none)."""
    return _client().last_logged_model()


def search_logged_models(
    experiment_ids: list[str] | None = None,
    filter_string: str | None = None,
    datasets: Any = None,
    max_results: int | None = None,
    order_by: list[Any] | None = None,
    output_format: str = "pandas",
) -> Any:
    """Logged models of the experiments (the active one by default), as a DataFrame or a list."""
    ids = experiment_ids if experiment_ids is not None else [_resolve_experiment_id()]
    found = list(_client().search_logged_models(ids, filter_string, datasets, max_results, order_by))
    if output_format == "list":
        return found
    if output_format != "pandas":
        from gitrun.errors import InvalidParameterValue

        raise InvalidParameterValue(f"output_format must be 'pandas' or 'list', got {output_format!r}")
    import pandas as pd

    rows = [
        {
            "model_id": m.model_id,
            "name": m.name,
            "experiment_id": m.experiment_id,
            "source_run_id": m.source_run_id,
            "status": m.status,
            "creation_timestamp": m.creation_timestamp,
            "artifact_location": m.artifact_location,
            "params": dict(m.params),
            "tags": dict(m.tags),
            "metrics": [dict(key=x.key, value=x.value, step=x.step) for x in m.metrics],
        }
        for m in found
    ]
    return pd.DataFrame(rows)


def set_logged_model_tags(model_id: str, tags: dict[str, Any]) -> None:
    _client().set_logged_model_tags(model_id, tags)


def delete_logged_model_tag(model_id: str, key: str) -> None:
    _client().delete_logged_model_tag(model_id, key)


def register_model(
    model_uri: str, name: str, await_registration_for: int = 300, *, tags: dict[str, Any] | None = None
) -> Any:
    """Register ``runs:/<run_id>/<name>`` (or ``models:/<model_id>``) as a new version of ``name``.

    The registered model is created if needed.  The version records the model's
    content digest; the change is a commit on ``refs/gitrun/registry`` made with
    your git identity (see docs/registry.md).
    """
    return _client().register_model(model_uri, name, tags)
