"""Running ``gitrun server``: the MLflow REST API and the web UI in one app, with uvicorn.

With ``--workers N`` (N > 1) uvicorn starts N processes; each builds the app from the
configuration in ``GITRUN_SERVER_CONFIG``.  Each process has its own record writer and
journal (commits are compare-and-swap, so nothing is lost), but a read served by one
process sees another's writes only once they are committed: the writers then commit
every ``GITRUN_FLUSH_INTERVAL`` seconds (0.5 unless set).
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading

import anyio
import anyio.to_thread
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gitrun.server.app import create_app
from gitrun.server.mlflow import mlflow_groups
from gitrun.server.mlflow.api import MlflowSettings
from gitrun.server.mlflow.auth import AuthMiddleware, Users
from gitrun.server.options import ServerOptions
from gitrun.server.serve import url_of

CONFIG_ENV = "GITRUN_SERVER_CONFIG"
MULTI_WORKER_FLUSH_INTERVAL = "0.5"


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    """Everything a server process needs to build its app (JSON-serialisable)."""

    options: ServerOptions
    settings: MlflowSettings
    auth_file: str | None = None
    with_ui: bool = True

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServerConfig:
        data = json.loads(text)
        return cls(
            ServerOptions(**data["options"]),
            MlflowSettings(**data["settings"]),
            data.get("auth_file"),
            bool(data.get("with_ui", True)),
        )


class CommitOnShutdown:
    """Commits what the record writer holds when the server shuts down (Ctrl-C, SIGTERM).

    uvicorn re-raises the signal after its graceful shutdown, so the process ends
    without running ``atexit`` handlers: the commit happens here, at ``lifespan.shutdown``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def receive_then_commit() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                from gitrun.tracking.session import close_all

                await anyio.to_thread.run_sync(close_all)
            return message

        await self.app(scope, receive_then_commit, send)


def build_app(config: ServerConfig) -> ASGIApp:
    """The app: MLflow's routes, the UI at ``/``, authentication if an auth file is given."""
    groups = mlflow_groups(config.settings)
    if config.with_ui:
        from gitrun.server.ui import ui_group

        groups.append(ui_group())
    middleware = []
    if config.auth_file:
        middleware.append(Middleware(AuthMiddleware, users=Users.load(config.auth_file)))
    return CommitOnShutdown(create_app(config.options, groups, middleware=middleware))


def app_from_env() -> ASGIApp:
    """The uvicorn factory of worker processes (``--workers N``)."""
    return build_app(ServerConfig.from_json(os.environ[CONFIG_ENV]))


def serve(config: ServerConfig, workers: int = 1) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM); what was logged is committed on the way out."""
    import uvicorn

    options = config.options
    mode = "read-only" if not options.writable else "read-write"
    auth = ", authentication required" if config.auth_file else ""
    if workers > 1:
        os.environ[CONFIG_ENV] = config.to_json()
        os.environ.setdefault("GITRUN_FLUSH_INTERVAL", MULTI_WORKER_FLUSH_INTERVAL)
        Users.load(config.auth_file) if config.auth_file else None  # refuse a bad file at once
        print(f"gitrun server ({mode}{auth}, {workers} workers) at {url_of(options)}", flush=True)
        uvicorn.run(
            "gitrun.server.mlflow.serving:app_from_env",
            factory=True,
            host=options.host,
            port=options.port,
            workers=workers,
            log_level="warning",
            access_log=False,
        )
        return
    app = build_app(config)
    server = uvicorn.Server(
        uvicorn.Config(app, host=options.host, port=options.port, log_level="warning", access_log=False)
    )

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            port = server.servers[0].sockets[0].getsockname()[1] if server.servers else options.port
            url = url_of(options, port)
            print(f"gitrun server ({mode}{auth}) at {url}  MLFLOW_TRACKING_URI={url.rstrip('/')}", flush=True)

    threading.Thread(target=announce, daemon=True).start()
    server.run()
