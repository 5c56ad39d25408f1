"""The route table of the MLflow REST API (documented in ``docs/server.md``)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from gitrun._version import __version__
from gitrun.server.context import ServerContext
from gitrun.server.mlflow import artifacts, experiments, metrics, models, runs
from gitrun.server.mlflow.api import Api, Handler, MlflowSettings, endpoint
from gitrun.server.mlflow.protocol import ENDPOINT_NOT_FOUND, ApiError, JsonMessage, error_response

GET, POST, PATCH, PUT, DELETE = ["GET"], ["POST"], ["PATCH"], ["PUT"], ["DELETE"]

TRACKING: list[tuple[str, list[str], Handler]] = [
    ("/experiments/create", POST, experiments.create),
    ("/experiments/get", GET, experiments.get),
    ("/experiments/get-by-name", GET, experiments.get_by_name),
    ("/experiments/search", [*GET, *POST], experiments.search),
    ("/experiments/delete", POST, experiments.delete),
    ("/experiments/restore", POST, experiments.restore),
    ("/experiments/update", POST, experiments.update),
    ("/experiments/set-experiment-tag", POST, experiments.set_tag),
    ("/experiments/delete-experiment-tag", POST, experiments.delete_tag),
    ("/runs/create", POST, runs.create),
    ("/runs/get", GET, runs.get),
    ("/runs/update", POST, runs.update),
    ("/runs/delete", POST, runs.delete),
    ("/runs/restore", POST, runs.restore),
    ("/runs/search", [*GET, *POST], runs.search),
    ("/runs/log-metric", POST, runs.log_metric),
    ("/runs/log-parameter", POST, runs.log_param),
    ("/runs/log-batch", POST, runs.log_batch),
    ("/runs/set-tag", POST, runs.set_tag),
    ("/runs/delete-tag", POST, runs.delete_tag),
    ("/runs/log-inputs", POST, runs.log_inputs),
    ("/runs/outputs", POST, runs.log_outputs),
    ("/metrics/get-history", GET, metrics.get_history),
    ("/metrics/get-history-bulk", GET, metrics.get_history_bulk),
    ("/metrics/get-history-bulk-interval", GET, metrics.get_history_bulk_interval),
    ("/artifacts/list", GET, artifacts.legacy_list),
    ("/logged-models/search", POST, models.search),
    ("/logged-models", POST, models.create),
    ("/logged-models/{model_id}", GET, models.get),
    ("/logged-models/{model_id}", PATCH, models.finalize),
    ("/logged-models/{model_id}/params", POST, models.log_params),
    ("/logged-models/{model_id}/tags", PATCH, models.set_tags),
    ("/logged-models/{model_id}/tags/{key:path}", DELETE, models.delete_tag),
]

ARTIFACTS: list[tuple[str, list[str], Handler]] = [
    ("/artifacts", GET, artifacts.list_artifacts),
    ("/artifacts/{path:path}", GET, artifacts.download),
    ("/artifacts/{path:path}", PUT, artifacts.upload),
    ("/artifacts/{path:path}", DELETE, artifacts.delete),
]


def _unknown(table: list[tuple[str, list[str], Handler]]) -> Callable[[Request], Response]:
    """Unknown paths get 404 ``ENDPOINT_NOT_FOUND``; a known path with another method 405."""
    probes = [Route(path, lambda r: Response(), methods=methods) for path, methods, _ in table]

    async def answer(request: Request) -> Response:
        scope = {**request.scope, "path": "/" + request.path_params["rest"]}
        if any(p.matches(scope)[0].name != "NONE" for p in probes):
            return error_response(
                ApiError(f"Method {request.method} is not allowed here.", "BAD_REQUEST", 405)
            )
        return error_response(
            ApiError(
                f"No endpoint {request.method} {request.url.path} in this server.", ENDPOINT_NOT_FOUND, 404
            )
        )

    return answer  # type: ignore[return-value,unused-ignore]


def table_routes(api: Api, table: list[tuple[str, list[str], Handler]]) -> list[BaseRoute]:
    routes: list[BaseRoute] = [Route(p, endpoint(api, h), methods=m) for p, m, h in table]
    routes.append(Route("/{rest:path}", _unknown(table), methods=["GET", "POST", "PATCH", "PUT", "DELETE"]))
    return routes


async def _artifacts_disabled(request: Request) -> Response:
    return error_response(
        ApiError(
            "The artifact proxy is disabled: start the server with --serve-artifacts.",
            "TEMPORARILY_UNAVAILABLE",
            503,
        )
    )


def tracking_routes(ctx: ServerContext, settings: MlflowSettings) -> list[BaseRoute]:
    return table_routes(Api(ctx, settings), TRACKING)


def artifact_routes(ctx: ServerContext, settings: MlflowSettings) -> list[BaseRoute]:
    if not settings.serve_artifacts:
        return [Route("/{rest:path}", _artifacts_disabled, methods=["GET", "PUT", "POST", "DELETE"])]
    return table_routes(Api(ctx, settings), ARTIFACTS)


async def server_info(request: Request) -> Response:
    # The artifact client reads these (anything but 200 means "all false").
    return JsonMessage(
        {
            "store_type": "GitrunStore",
            "workspaces_enabled": False,
            "multipart_uploads_enabled": False,
            "multipart_downloads_enabled": False,
            "artifact_serving_enabled": True,
            "artifacts_presigned_only": False,
        }
    )


def misc_routes(ctx: ServerContext, settings: MlflowSettings) -> list[BaseRoute]:
    async def health(request: Request) -> Response:
        return PlainTextResponse("OK")

    async def version(request: Request) -> Response:
        return PlainTextResponse(f"gitrun {__version__}")

    return [
        Route("/health", health, methods=["GET"]),
        Route("/version", version, methods=["GET"]),
        Route("/api/3.0/mlflow/server-info", server_info, methods=["GET"]),
    ]
