"""Authentication (basic and bearer, as the MLflow client sends them), read-only
servers and users, body limits, and the server's own error shapes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitrun.cli.main import cli
from gitrun.server.mlflow.auth import Users, hash_password, hash_token
from gitrun.tracking.client import Client
from tests.server.mlflow.harness import request, run_client, start_gitrun_server

A = "/api/2.0/mlflow"


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def auth_file(tmp_path: Path) -> Path:
    path = tmp_path / "outside-the-repo" / "users.yaml"
    path.parent.mkdir()
    path.write_text(
        "users:\n"
        f"  alice: {{password: '{hash_password('s3cret', iterations=1000)}'}}\n"
        f"  viewer: {{password: '{hash_password('look', iterations=1000)}', read_only: true}}\n"
        "tokens:\n"
        f"  ci: {{token: '{hash_token('tok-123')}', user: ci-bot}}\n"
    )
    return path


def test_users_file_keeps_only_hashes(tmp_path: Path) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text("users:\n  bob: {password: hunter2}\n")
    with pytest.raises(Exception, match="must be a hash"):
        Users.load(str(plain))
    token = tmp_path / "token.yaml"
    token.write_text("tokens:\n  ci: {token: abc}\n")
    with pytest.raises(Exception, match="store its hash"):
        Users.load(str(token))


def test_hash_password_command_prints_a_usable_hash() -> None:
    result = CliRunner().invoke(cli, ["server", "--hash-password"], input="pw-1\n", catch_exceptions=False)
    assert result.exit_code == 0
    stored = result.output.strip()
    assert stored.startswith("pbkdf2_sha256$") and "pw-1" not in stored
    users = Users({"u": {"password": stored}}, {})
    assert users.basic("u", "pw-1") is not None
    assert users.basic("u", "pw-2") is None


def test_authentication(work_repo: Path, tmp_path: Path, auth_file: Path) -> None:
    server = start_gitrun_server(work_repo, tmp_path / "server.log", "--auth-file", str(auth_file))
    url = server.url + A + "/experiments/get?experiment_id=0"
    try:
        assert request(server.url + "/health")[0] == 200  # probes need no credentials
        status, body = request(url)
        assert status == 401 and json.loads(body)["error_code"] == "UNAUTHENTICATED"
        assert request(url, headers=basic("alice", "wrong"))[0] == 401
        assert request(url, headers=basic("mallory", "s3cret"))[0] == 401
        assert request(url, headers={"Authorization": "Bearer nope"})[0] == 401
        assert request(url, headers=basic("alice", "s3cret"))[0] == 200
        assert request(url, headers={"Authorization": "Bearer tok-123"})[0] == 200
        assert (
            request(server.url + "/api/ui/config", headers=basic("alice", "s3cret"))[0] == 200
        )  # the UI too
        assert request(server.url + "/api/ui/config")[0] == 401
        # A read-only user reads but cannot write.
        assert request(url, headers=basic("viewer", "look"))[0] == 200
        status, body = request(
            server.url + A + "/experiments/create", "POST", {"name": "x"}, headers=basic("viewer", "look")
        )
        assert status == 403 and json.loads(body)["error_code"] == "PERMISSION_DENIED"
        # The run's user is the authenticated one, whatever the client claims.
        status, body = request(
            server.url + A + "/runs/create",
            "POST",
            {"experiment_id": "0", "user_id": "someone-else", "tags": [{"key": "mlflow.user", "value": "x"}]},
            headers=basic("alice", "s3cret"),
        )
        assert status == 200
        made = json.loads(body)["run"]
        assert made["info"]["user_id"] == "alice"
        assert {"key": "mlflow.user", "value": "alice"} in made["data"]["tags"]
        # The real MLflow client, with its own environment variables.
        out = run_client(
            "auth.py",
            tracking_uri=server.url,
            MLFLOW_TRACKING_USERNAME="alice",
            MLFLOW_TRACKING_PASSWORD="s3cret",
        )
        assert out["user"] == "alice"
        out2 = run_client("auth.py", tracking_uri=server.url, MLFLOW_TRACKING_TOKEN="tok-123")
        assert out2["user"] == "ci-bot"
    finally:
        server.stop()
    client = Client(str(work_repo))
    assert client.get_run(out["run"]).info.user_id == "alice"
    assert client.get_run(out2["run"]).info.user_id == "ci-bot"


def test_read_only_server_refuses_every_change(work_repo: Path, tmp_path: Path) -> None:
    server = start_gitrun_server(work_repo, tmp_path / "server.log", "--read-only")
    try:
        assert request(server.url + A + "/experiments/get?experiment_id=0")[0] == 200
        for path, body in (
            ("/experiments/create", {"name": "x"}),
            ("/runs/create", {"experiment_id": "0"}),
            ("/runs/log-metric", {"run_id": "abc", "key": "m", "value": 1, "timestamp": 1}),
        ):
            status, answer = request(server.url + A + path, "POST", body)
            assert status == 403 and json.loads(answer)["error_code"] == "PERMISSION_DENIED", path
        status, _ = request(
            server.url + "/api/2.0/mlflow-artifacts/artifacts/0/abc/artifacts/x.txt", "PUT", raw=b"x"
        )
        assert status == 403
    finally:
        server.stop()
    assert Client(str(work_repo)).get_experiment_by_name("x") is None


def test_body_limit_and_bad_bodies(work_repo: Path, tmp_path: Path) -> None:
    server = start_gitrun_server(work_repo, tmp_path / "server.log", "--max-body-mb", "0.01")
    try:
        status, body = request(server.url + A + "/experiments/create", "POST", {"name": "x" * 20_000})
        assert status == 413 and json.loads(body)["error_code"] == "BAD_REQUEST"
        # A body without Content-Length (chunked) is cut off at the limit as well.
        status, body = request(server.url + A + "/experiments/create", "POST", {"name": "fits"})
        assert status == 200
        status, body = request(server.url + A + "/runs/log-metric", "POST", raw=b"{oops")
        assert status == 400 and "Malformed JSON" in json.loads(body)["message"]
        status, body = request(server.url + A + "/runs/search", "POST", {"experiment_ids": [1]})
        assert status == 400 and json.loads(body)["error_code"] == "INVALID_PARAMETER_VALUE"
        status, body = request(
            server.url + "/api/2.0/mlflow-artifacts/artifacts/0/x/artifacts/..%2Fescape", "PUT", raw=b"x"
        )
        assert status in (400, 404)
    finally:
        server.stop()
    assert Client(str(work_repo)).get_experiment_by_name("x" * 20_000) is None
