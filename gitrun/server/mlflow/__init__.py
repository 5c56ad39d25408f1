"""An MLflow-compatible REST API over a gitrun repository (``gitrun server``).

Route groups mounted in the shared app (:func:`gitrun.server.app.create_app`) beside
the web UI: the tracking API under ``/api/2.0/mlflow`` (and ``/ajax-api/2.0/mlflow``,
where MLflow's own UI calls it), the artifact proxy under
``/api/2.0/mlflow-artifacts``, and ``/health``, ``/version``,
``/api/3.0/mlflow/server-info``.  Every handler goes through the public tracking API,
so runs logged here are ordinary gitrun runs.
"""

from __future__ import annotations

import functools

from gitrun.server.app import RouteGroup
from gitrun.server.mlflow.api import MlflowSettings


def mlflow_groups(settings: MlflowSettings | None = None) -> list[RouteGroup]:
    """The route groups of the MLflow REST API with ``settings`` (defaults otherwise)."""
    from gitrun.server.mlflow import routes

    chosen = settings or MlflowSettings()
    tracking = functools.partial(routes.tracking_routes, settings=chosen)
    return [
        RouteGroup("mlflow", "/api/2.0/mlflow", tracking),
        RouteGroup("mlflow-ajax", "/ajax-api/2.0/mlflow", tracking),
        RouteGroup(
            "mlflow-artifacts",
            "/api/2.0/mlflow-artifacts",
            functools.partial(routes.artifact_routes, settings=chosen),
        ),
        RouteGroup("mlflow-misc", "", functools.partial(routes.misc_routes, settings=chosen)),
    ]
