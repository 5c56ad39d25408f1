"""Real servers for the MLflow-compatibility tests: `gitrun server` and `mlflow server`
as child processes on 127.0.0.1, and MLflow-client scripts run in the MLflow venv.

MLflow never enters the project's venv: it lives in ``bench/.venv-mlflow`` (created by
``.ci/run``, or by ``python bench/common.py``'s ``mlflow_python()``).  Tests that need it
skip, with the reason, when it is missing.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
MLFLOW_PYTHON = ROOT / "bench" / ".venv-mlflow" / "bin" / "python"
CLIENTS = Path(__file__).resolve().parent / "clients"
_URL = re.compile(r"at (http://\S+?)/?\s")


def mlflow_python() -> str:
    """The MLflow venv's interpreter, or skip the test."""
    if not MLFLOW_PYTHON.exists():
        pytest.skip(f"MLflow client tests need the MLflow venv {MLFLOW_PYTHON} (created by .ci/run)")
    return str(MLFLOW_PYTHON)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "VIRTUAL_ENV"))}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@dataclass
class Server:
    """A running server process and its URL."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path
    args: list[str] = field(default_factory=list)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_gitrun_server(repo: Path, log: Path, *extra: str, env: dict[str, str] | None = None) -> Server:
    """``gitrun server --repo REPO --port <free>`` in a child process, once it answers."""
    port = free_port()
    argv = [sys.executable, "-m", "gitrun.cli", "server", "--repo", str(repo), "--port", str(port), *extra]
    with open(log, "ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env or child_env())
    server = Server(process, f"http://127.0.0.1:{port}", log, argv)
    wait_until_up(server, 60)
    return server


def start_mlflow_server(workdir: Path) -> Server:
    """A real ``mlflow server`` (SQLite backend, artifacts served) on 127.0.0.1."""
    python = mlflow_python()
    port = free_port()
    log = workdir / "mlflow-server.log"
    argv = [
        python, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{workdir}/mlflow.db",
        "--artifacts-destination", str(workdir / "mlartifacts"),
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    with open(log, "ab") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=workdir, env=child_env())
    server = Server(process, f"http://127.0.0.1:{port}", log, argv)
    wait_until_up(server, 180)
    return server


def wait_until_up(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"server exited ({server.process.returncode}):\n{server.output()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + "/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    server.kill()
    raise AssertionError(f"server did not answer within {timeout} s:\n{server.output()[-3000:]}")


def request(
    url: str,
    method: str = "GET",
    body: Any = None,
    *,
    raw: bytes | None = None,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """One HTTP request; (status, body) whatever the status."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None and content_type:
        req.add_header("Content-Type", content_type)
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def run_client(
    script: str, *args: str, tracking_uri: str, timeout: float = 900, **env: str
) -> dict[str, Any]:
    """Run ``clients/<script>`` with the MLflow venv's Python; the JSON it prints after ``RESULT``."""
    python = mlflow_python()
    proc = subprocess.run(
        [python, str(CLIENTS / script), *args],
        env=child_env(MLFLOW_TRACKING_URI=tracking_uri, MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT="true", **env),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    out = proc.stdout.decode(errors="replace")
    if proc.returncode != 0:
        raise AssertionError(
            f"{script} failed ({proc.returncode}):\n{out[-2000:]}\n{proc.stderr.decode()[-4000:]}"
        )
    lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
    assert lines, f"{script} printed no RESULT line:\n{out[-2000:]}"
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    return result
