# ruff: noqa: E501  (the table of requests reads best one per line)
"""Bad requests get the status and error code a real `mlflow server` (SQLite) answers.

Both servers run on 127.0.0.1 and get the same requests; where MLflow answers a
client mistake with a 500 (an HTML page: the client would retry for minutes),
gitrun deliberately answers 400 with a JSON error (listed in ``DELIBERATE``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.mlflow.harness import (
    Server,
    mlflow_python,
    request,
    start_gitrun_server,
    start_mlflow_server,
)

A = "/api/2.0/mlflow"
ART = "/api/2.0/mlflow-artifacts/artifacts"

# (name, method, path, body) — "{run}" and "{exp}" are filled in per server.
CASES: list[tuple[str, str, str, Any]] = [
    ("experiment missing", "GET", A + "/experiments/get?experiment_id=999", None),
    ("experiment id not an integer", "GET", A + "/experiments/get?experiment_id=abc", None),
    ("experiment id absent", "GET", A + "/experiments/get", None),
    ("experiment name missing", "GET", A + "/experiments/get-by-name?experiment_name=nope", None),
    ("experiment name taken", "POST", A + "/experiments/create", {"name": "probe"}),
    ("experiment without name", "POST", A + "/experiments/create", {}),
    ("experiment name not a string", "POST", A + "/experiments/create", {"name": 5}),
    ("experiment name empty", "POST", A + "/experiments/create", {"name": ""}),
    ("run missing", "GET", A + "/runs/get?run_id=nope", None),
    ("run id absent", "GET", A + "/runs/get", None),
    ("metric value not a number", "POST", A + "/runs/log-metric", {"run_id": "{run}", "key": "m", "value": "abc", "timestamp": 1}),
    ("metric without timestamp", "POST", A + "/runs/log-metric", {"run_id": "{run}", "key": "m", "value": 1.0}),
    ("metric timestamp not a number", "POST", A + "/runs/log-metric", {"run_id": "{run}", "key": "m", "value": 1.0, "timestamp": "x"}),
    ("metric key invalid", "POST", A + "/runs/log-metric", {"run_id": "{run}", "key": "bad#key", "value": 1.0, "timestamp": 1}),
    ("metric of a missing run", "POST", A + "/runs/log-metric", {"run_id": "nope", "key": "m", "value": 1.0, "timestamp": 1}),
    ("metric step not a number", "POST", A + "/runs/log-metric", {"run_id": "{run}", "key": "m", "value": 1.0, "timestamp": 1, "step": "x"}),
    ("metric value a list", "POST", A + "/runs/log-metric", {"run_id": "{run}", "key": "m", "value": [1], "timestamp": 1}),
    ("param logged", "POST", A + "/runs/log-parameter", {"run_id": "{run}", "key": "p", "value": "1"}),
    ("param changed", "POST", A + "/runs/log-parameter", {"run_id": "{run}", "key": "p", "value": "2"}),
    ("param value not a string", "POST", A + "/runs/log-parameter", {"run_id": "{run}", "key": "p2", "value": 5}),
    ("batch duplicate params", "POST", A + "/runs/log-batch", {"run_id": "{run}", "params": [{"key": "a", "value": "1"}, {"key": "a", "value": "2"}]}),
    ("batch too many metrics", "POST", A + "/runs/log-batch", {"run_id": "{run}", "metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}] * 1001}),
    ("batch metric without timestamp", "POST", A + "/runs/log-batch", {"run_id": "{run}", "metrics": [{"key": "m", "value": 1.0}]}),
    ("batch metrics not a list", "POST", A + "/runs/log-batch", {"run_id": "{run}", "metrics": "x"}),
    ("tag key invalid", "POST", A + "/runs/set-tag", {"run_id": "{run}", "key": "bad#key", "value": "v"}),
    ("delete missing tag", "POST", A + "/runs/delete-tag", {"run_id": "{run}", "key": "nothere"}),
    ("search bad filter", "POST", A + "/runs/search", {"experiment_ids": ["{exp}"], "filter": "metrics.x >"}),
    ("search too many results", "POST", A + "/runs/search", {"experiment_ids": ["{exp}"], "max_results": 50001}),
    ("search bad order_by", "POST", A + "/runs/search", {"experiment_ids": ["{exp}"], "order_by": ["bogus.x"]}),
    ("search bad page token", "POST", A + "/runs/search", {"experiment_ids": ["{exp}"], "page_token": "garbage"}),
    ("search ids not a list", "POST", A + "/runs/search", {"experiment_ids": "{exp}"}),
    ("search unknown experiment", "POST", A + "/runs/search", {"experiment_ids": ["999"]}),
    ("history of an unknown key", "GET", A + "/metrics/get-history?run_id={run}&metric_key=zz", None),
    ("history of a missing run", "GET", A + "/metrics/get-history?run_id=nope&metric_key=zz", None),
    ("history without key", "GET", A + "/metrics/get-history?run_id={run}", None),
    ("history max_results 0", "GET", A + "/metrics/get-history?run_id={run}&metric_key=m&max_results=0", None),
    ("unknown endpoint", "GET", A + "/no/such/endpoint", None),
    ("update a missing run", "POST", A + "/runs/update", {"run_id": "nope", "status": "FINISHED"}),
    ("run in a missing experiment", "POST", A + "/runs/create", {"experiment_id": "999"}),
    ("wrong method", "GET", A + "/runs/create", None),
    ("delete a missing experiment", "POST", A + "/experiments/delete", {"experiment_id": "999"}),
    ("experiment tag key invalid", "POST", A + "/experiments/set-experiment-tag", {"experiment_id": "{exp}", "key": "bad#k", "value": "v"}),
    ("artifact missing", "GET", ART + "/nope/x.txt", None),
    ("artifact path escapes", "GET", ART + "/a/../b.txt", None),
    ("artifact listing of nothing", "GET", ART + "?path=nope", None),
    ("logged model missing", "GET", A + "/logged-models/m-nope", None),
    ("legacy listing of a missing run", "GET", A + "/artifacts/list?run_id=nope", None),
    ("delete a missing run", "POST", A + "/runs/delete", {"run_id": "nope"}),
]  # fmt: skip

RAW_BODIES: list[tuple[str, bytes, str]] = [
    ("malformed JSON", b"{not json", "application/json"),
    ("empty body", b"", "application/json"),
    ("a JSON array", b"[1,2]", "application/json"),
    ("not JSON content", b'{"run_id": "x", "key": "m", "value": 1, "timestamp": 1}', "text/plain"),
]

# MLflow 3.17 answers these client mistakes with an HTML 500 page (which its client
# retries); gitrun answers a JSON 400.
DELIBERATE = {
    "metric value a list": (400, "INVALID_PARAMETER_VALUE"),
    "a JSON array": (400, "INVALID_PARAMETER_VALUE"),
}


def _code(status: int, body: bytes) -> str | None:
    try:
        found = json.loads(body)
    except ValueError:
        return None
    return found.get("error_code") if isinstance(found, dict) else None


def _fill(value: Any, run: str, exp: str) -> Any:
    if isinstance(value, str):
        return value.replace("{run}", run).replace("{exp}", exp)
    if isinstance(value, list):
        return [_fill(v, run, exp) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, run, exp) for k, v in value.items()}
    return value


def answers(server: Server) -> dict[str, tuple[int, str | None]]:
    """Every case sent to ``server``: name -> (status, error_code)."""
    status, body = request(server.url + A + "/experiments/create", "POST", {"name": "probe"})
    assert status == 200, body
    exp = json.loads(body)["experiment_id"]
    status, body = request(server.url + A + "/runs/create", "POST", {"experiment_id": exp})
    run = json.loads(body)["run"]["info"]["run_id"]
    out = {}
    for name, method, path, payload in CASES:
        status, body = request(server.url + _fill(path, run, exp), method, _fill(payload, run, exp))
        out[name] = (status, _code(status, body))
        if method == "GET" and status == 404 and name == "unknown endpoint":
            # MLflow answers an HTML 404; its client derives ENDPOINT_NOT_FOUND from the status.
            out[name] = (404, _code(status, body) or "ENDPOINT_NOT_FOUND")
    for name, raw, ctype in RAW_BODIES:
        status, body = request(server.url + A + "/runs/log-metric", "POST", raw=raw, content_type=ctype)
        out[name] = (status, _code(status, body))
    request(server.url + A + "/runs/delete", "POST", {"run_id": run})
    for name, path, payload in (
        ("log to a deleted run", "/runs/log-metric", {"run_id": run, "key": "m", "value": 1, "timestamp": 1}),
        ("update a deleted run", "/runs/update", {"run_id": run, "status": "FINISHED"}),
    ):
        status, body = request(server.url + A + path, "POST", payload)
        out[name] = (status, _code(status, body))
    return out


@pytest.fixture(scope="module")
def mlflow_answers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[int, str | None]]]:
    mlflow_python()
    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow-server"))
    try:
        yield answers(server)
    finally:
        server.stop()


def test_errors_match_a_real_mlflow_server(
    mlflow_answers: dict[str, tuple[int, str | None]], work_repo: Path, tmp_path: Path
) -> None:
    server = start_gitrun_server(work_repo, tmp_path / "server.log")
    try:
        ours = answers(server)
    finally:
        server.stop()
    assert set(ours) == set(mlflow_answers)
    expected = {name: DELIBERATE.get(name, theirs) for name, theirs in mlflow_answers.items()}
    # Where MLflow's answer is not JSON (an HTML 405), its client only sees the status.
    differing = {
        name: (ours[name], want)
        for name, want in expected.items()
        if (ours[name] if want[1] is not None else ours[name][0])
        != (want if want[1] is not None else want[0])
    }
    assert not differing, "status/error code differ from MLflow's (ours, theirs):\n" + "\n".join(
        f"  {name}: {pair}" for name, pair in sorted(differing.items())
    )
    # Every client mistake is a 4xx: the MLflow client would retry a 5xx for minutes.
    assert all(400 <= status < 500 for name, (status, _) in ours.items() if status != 200)
    # The real server did answer 500 where gitrun deliberately does not.
    assert all(mlflow_answers[name][0] == 500 for name in DELIBERATE)
