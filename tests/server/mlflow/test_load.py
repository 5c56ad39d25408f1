"""Many MLflow clients at once lose nothing; a SIGKILLed server loses no answered request."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from gitrun.tracking.client import Client
from tests.server.mlflow.harness import (
    CLIENTS,
    Server,
    child_env,
    mlflow_python,
    run_client,
    start_gitrun_server,
)


def acknowledged(ack_files: list[Path]) -> list[list[object]]:
    lines = []
    for path in ack_files:
        if path.exists():
            lines += [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return lines


def check_present(repo: Path, acks: list[list[object]], points: int) -> int:
    """Every acknowledged call is in the repository; returns the number of points checked."""
    client = Client(str(repo))
    checked = 0
    histories: dict[str, dict[int, float]] = {}
    for ack in acks:
        kind, run_id, r = ack[0], str(ack[1]), int(ack[2])  # type: ignore[call-overload]
        if kind == "run":
            assert client.get_run(run_id).info.run_id == run_id
        elif kind == "batch":
            b = int(ack[3])  # type: ignore[call-overload]
            if run_id not in histories:
                histories[run_id] = {m.step: m.value for m in client.get_metric_history(run_id, "m")}
            for step in range(b * points, (b + 1) * points):
                assert histories[run_id].get(step) == step * 0.5 + r, (run_id, step)
                checked += 1
            assert client.get_run(run_id).data.params[f"p{b}"] == str(b)
        elif kind == "single":
            assert [m.value for m in client.get_metric_history(run_id, "single")] == [float(r)]
        elif kind == "end":
            assert client.get_run(run_id).info.status == "FINISHED"
    return checked


def test_eight_clients_at_once_lose_nothing(served_repo: tuple[Path, Server], tmp_path: Path) -> None:
    repo, server = served_repo
    python = mlflow_python()
    runs, batches, points = 4, 5, 200
    procs, acks = [], []
    for i in range(8):
        ack = tmp_path / f"ack-{i}.jsonl"
        acks.append(ack)
        procs.append(
            subprocess.Popen(
                [python, str(CLIENTS / "load.py"), f"c{i}", str(runs), str(batches), str(points), str(ack)],
                env=child_env(MLFLOW_TRACKING_URI=server.url),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        )
    for proc in procs:
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err.decode()[-3000:]
    server.stop()
    lines = acknowledged(acks)
    assert sum(1 for a in lines if a[0] == "end") == 8 * runs
    assert check_present(repo, lines, points) == 8 * runs * batches * points
    # One experiment "load" despite eight clients racing to create it.
    client = Client(str(repo))
    exp = client.get_experiment_by_name("load")
    assert exp is not None
    assert len(client.search_runs([exp.experiment_id], max_results=1000)) == 8 * runs


def test_sigkill_loses_no_acknowledged_request(work_repo: Path, tmp_path: Path) -> None:
    python = mlflow_python()
    server = start_gitrun_server(work_repo, tmp_path / "server.log")
    points = 100
    acks = [tmp_path / f"ack-{i}.jsonl" for i in range(2)]
    procs = [
        subprocess.Popen(
            [python, str(CLIENTS / "load.py"), f"k{i}", "50", "40", str(points), str(ack)],
            env=child_env(MLFLOW_TRACKING_URI=server.url, MLFLOW_HTTP_REQUEST_MAX_RETRIES="0"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i, ack in enumerate(acks)
    ]
    try:
        deadline = time.monotonic() + 300
        # Kill while both clients are mid-run: after some runs ended and more batches landed.
        while time.monotonic() < deadline:
            lines = acknowledged(acks)
            if (
                sum(1 for a in lines if a[0] == "end") >= 2
                and sum(1 for a in lines if a[0] == "batch") >= 150
            ):
                break
            time.sleep(0.05)
        server.kill()
    finally:
        for proc in procs:
            proc.wait(timeout=300)
    lines = acknowledged(acks)
    assert sum(1 for a in lines if a[0] == "batch") >= 150
    assert any(a[0] == "batch" for a in lines[-5:]), "the server died mid-load"
    journals = list((work_repo / ".git" / "gitrun" / "journal").glob("*.jnl"))
    assert journals, "the killed server left its journal"
    # Reopening the repository (here, the next gitrun command) replays the dead server's journal.
    assert check_present(work_repo, lines, points) >= 150 * points
    # A restarted server serves the recovered runs.
    restarted = start_gitrun_server(work_repo, tmp_path / "server2.log")
    try:
        found = run_client("count.py", tracking_uri=restarted.url)
        ended = {str(a[1]) for a in lines if a[0] == "end"}
        assert ended <= set(found["finished"])
    finally:
        restarted.stop()
