"""The app factory: route groups share options, context and safety; the CLI command."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gitrun.cli.main import cli
from gitrun.server.app import RouteGroup, create_app
from gitrun.server.context import ServerContext
from gitrun.server.options import ServerOptions
from gitrun.server.security import host_name
from gitrun.server.ui import ui_group


def extra_group() -> RouteGroup:
    """A stand-in for another API (the MLflow REST server) mounted beside the UI."""

    def routes(ctx: ServerContext) -> list[BaseRoute]:
        async def ping(request: Request) -> Response:
            tip = await ctx.call(lambda: ctx.client.store.records.tip())
            return JSONResponse({"writable": ctx.options.writable, "tip": str(tip), "token": ctx.csrf_token})

        async def boom(request: Request) -> Response:
            raise RuntimeError("secret internals")

        return [Route("/ping", ping), Route("/boom", boom)]

    return RouteGroup("extra", "/api/2.0/extra", routes)


@pytest.fixture
def served(in_repo: Path) -> Iterator[str]:
    import uvicorn

    import gitrun

    gitrun.log_metric("m", 1.0)
    gitrun.end_run()
    app = create_app(ServerOptions(tracking_uri=str(in_repo)), [extra_group(), ui_group()])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_groups_share_context_and_safety(served: str) -> None:
    status, headers, body = fetch(f"{served}/api/2.0/extra/ping")
    data = json.loads(body)
    assert status == 200 and data["writable"] is False and len(data["tip"]) == 40
    assert "script-src 'self'" in headers["content-security-policy"]
    _, _, config = fetch(f"{served}/api/ui/config")
    assert json.loads(config)["csrf_token"] == data["token"]  # one context for every group
    assert fetch(f"{served}/")[0] == 200  # the root group still serves the page


def test_an_unexpected_error_shows_no_internals(served: str) -> None:
    status, _, body = fetch(f"{served}/api/2.0/extra/boom")
    assert status == 500 and json.loads(body) == {
        "error_code": "INTERNAL_ERROR",
        "message": "internal server error",
    }


def test_loopback_detection_and_host_names() -> None:
    assert ServerOptions().loopback and ServerOptions(host="localhost").loopback
    assert ServerOptions(host="::1").loopback and not ServerOptions(host="0.0.0.0").loopback
    assert not ServerOptions(host="example.org").loopback
    assert host_name("[::1]:5050") == "[::1]" and host_name("localhost:80") == "localhost"
    assert host_name("127.0.0.1") == "127.0.0.1"


def test_ui_refuses_a_path_without_a_store(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["ui", "--repo", str(tmp_path / "nowhere"), "--port", "0"])
    assert result.exit_code != 0
    assert "no git repository or gitrun store" in str(result.exception or result.output)
    assert not (tmp_path / "nowhere").exists()  # nothing created


def test_ui_help() -> None:
    result = CliRunner().invoke(cli, ["ui", "--help"])
    assert result.exit_code == 0 and "--writable" in result.output and "127.0.0.1" in result.output
