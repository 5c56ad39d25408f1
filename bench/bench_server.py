# ruff: noqa: E501  (SQL and result rows read best on one line)
"""gitrun server vs mlflow server (SQLite), through the MLflow client; import speed.

    python bench/bench_server.py                 # full sizes (~15 min)
    python bench/bench_server.py --quick         # smaller client workloads (~8 min)

Both servers run on 127.0.0.1 in the same invocation: ``gitrun server`` over a fresh
git repository, ``mlflow server --backend-store-uri sqlite:///...`` (serving
artifacts, one worker), each fed by ``server_workloads.py`` in ``bench/.venv-mlflow``:

  log_metric   µs per ``MlflowClient.log_metric`` (one HTTP request per call)
  log_batch    points/s through ``MlflowClient.log_batch`` (1000 metrics per call)
  search       ms per ``search_runs`` (filter on a metric and a param, order by a
               metric, 100 results) over N runs logged through the same server
  import       runs/s of ``gitrun import-mlflow sqlite:///...`` of a 10k-run MLflow
               store (10 params, 5 tags, 10 metrics x 10 points per run; the store
               is written with SQL inserts into a database MLflow created, so its
               schema is MLflow's own), whole process, into a fresh repository

Every figure is a median; results go to ``bench/results/server.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import common
from common import Row, median

WORKLOADS = os.path.join(common.BENCH_DIR, "server_workloads.py")
ROOT = os.path.dirname(common.BENCH_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


def start(kind: str, tmp: str, mlflow_python: str) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    env = common.bench_env(PYTHONPATH=ROOT)
    if kind == "gitrun":
        repo = common.fresh_repo(tmp, {"README": "bench\n"}, "served")
        argv = [sys.executable, "-m", "gitrun.cli", "server", "--repo", repo, "--port", str(port), "--no-ui"]
    else:
        where = tempfile.mkdtemp(prefix="mlflow-server-", dir=tmp)
        argv = [
            mlflow_python, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{where}/mlflow.db",
            "--artifacts-destination", f"{where}/mlartifacts", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "1",
        ]  # fmt: skip
    log = open(os.path.join(tmp, f"{kind}-server.log"), "ab")  # closed with the process
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp)
    url = f"http://127.0.0.1:{port}"
    wait_up(url, proc)
    return url, proc


def workload(mlflow_python: str, url: str, name: str, n: int, repeats: int) -> list[float]:
    env = common.bench_env(MLFLOW_TRACKING_URI=url, MLFLOW_HTTP_REQUEST_MAX_RETRIES="0")
    out = subprocess.run(
        [mlflow_python, WORKLOADS, name, "--n", str(n), "--repeats", str(repeats)],
        env=env, capture_output=True, check=True, timeout=3600,
    ).stdout.decode()  # fmt: skip
    return json.loads([x for x in out.splitlines() if x.startswith("{")][-1])["samples"]  # type: ignore[no-any-return]


def mlflow_store(tmp: str, mlflow_python: str, runs: int) -> str:
    """An MLflow SQLite store of ``runs`` runs: tables made by MLflow, rows inserted in bulk."""
    path = os.path.join(tmp, f"mlflow-{runs}.db")
    uri = f"sqlite:///{path}"
    subprocess.run(
        [mlflow_python, "-c", f"import mlflow; mlflow.MlflowClient({uri!r}).search_experiments()"],
        check=True, capture_output=True, env=common.bench_env(),
    )  # fmt: skip
    rng = random.Random(7)
    now = 1_700_000_000_000
    db = sqlite3.connect(path)
    db.execute("INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time) "
               "VALUES ('bench', '', 'active', ?, ?)", (now, now))  # fmt: skip
    exp = db.execute("SELECT experiment_id FROM experiments WHERE name = 'bench'").fetchone()[0]
    for r in range(runs):
        run = uuid.uuid4().hex
        db.execute(
            "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, status, "
            "start_time, end_time, source_version, lifecycle_stage, artifact_uri, experiment_id) "
            "VALUES (?, ?, 'LOCAL', '', '', 'bench', 'FINISHED', ?, ?, '', 'active', '', ?)",
            (run, f"run-{r}", now + r, now + r + 1000, exp),
        )
        db.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
                       [(f"p{i}", str(rng.random()), run) for i in range(10)])  # fmt: skip
        db.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
                       [(f"t{i}", f"v{i}", run) for i in range(4)] + [("mlflow.runName", f"run-{r}", run)])  # fmt: skip
        points = [(f"m{k}", rng.random(), now + s, run, s, 0) for k in range(10) for s in range(10)]
        db.executemany("INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)",
                       points)  # fmt: skip
        db.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) VALUES (?, ?, ?, ?, ?, ?)",
            [(f"m{k}", points[k * 10 + 9][1], now + 9, 9, 0, run) for k in range(10)],
        )
    db.commit()
    db.close()
    return uri


def import_speed(tmp: str, uri: str, runs: int, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        repo = common.fresh_repo(tmp, {"README": "import\n"}, "import")
        env = common.bench_env(PYTHONPATH=ROOT)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gitrun.cli", "import-mlflow", uri, "--no-progress"],
                       cwd=repo, env=env, check=True, capture_output=True)  # fmt: skip
        samples.append(runs / (time.perf_counter() - start))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (the import stays at 10k runs)")
    parser.add_argument("--import-runs", type=int, default=10_000)
    parser.add_argument("--only-import", action="store_true", help="only the import figure")
    args = parser.parse_args()
    q = args.quick
    sizes = {"log_metric": 300 if q else 2000, "log_batch": 20 if q else 100, "search": 500 if q else 2000}
    repeats, import_runs = (3 if q else 5), args.import_runs
    python = common.mlflow_python()
    version = common.mlflow_version(python)
    load_before = common.machine_load()
    samples: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        for kind in () if args.only_import else ("gitrun", "mlflow"):
            url, proc = start(kind, tmp, python)
            try:
                for name, n in sizes.items():
                    samples.setdefault(name, {})[kind] = workload(python, url, name, n, repeats)
                    print(f"  {kind} {name}: median {median(samples[name][kind]):.4g}", file=sys.stderr)
            finally:
                proc.terminate()
                proc.wait(timeout=120)
        uri = mlflow_store(tmp, python, import_runs)
        imported = import_speed(tmp, uri, import_runs, 3)
    if args.only_import:
        row = Row(
            f"import {import_runs} runs (sqlite)", "runs/s", median(imported), samples={"gitrun": imported}
        )
        common.print_table([row], "gitrun import-mlflow")
        common.write_json("server-import.json", {"load_before": load_before, "rows": [row.as_dict()]})
        return
    lm, lb, se = samples["log_metric"], samples["log_batch"], samples["search"]
    rows = [
        Row("log_metric", "µs/call", median(lm["gitrun"]), mlflow_sqlite=median(lm["mlflow"]),
            samples=lm, note=f"{sizes['log_metric']} calls x {repeats}"),
        # Throughput: the Row's ratio is a cost ratio, so report seconds per 1M points.
        Row("log_batch", "s per 1M points", 1e6 / median(lb["gitrun"]), mlflow_sqlite=1e6 / median(lb["mlflow"]),
            target=5, samples=lb, note=f"gitrun {median(lb['gitrun']):,.0f} points/s, MLflow "
            f"{median(lb['mlflow']):,.0f} points/s; {sizes['log_batch']} batches of 1000 x {repeats}"),
        Row("search_runs", "ms/call", median(se["gitrun"]), mlflow_sqlite=median(se["mlflow"]), target=10,
            samples=se, note=f"{sizes['search']} runs, 100 results, {repeats} warm calls"),
        Row(f"import {import_runs} runs (sqlite)", "runs/s", median(imported), samples={"gitrun": imported},
            note="whole gitrun import-mlflow process, 3 fresh repositories"),
    ]  # fmt: skip
    common.print_table(rows, f"gitrun server vs mlflow server {version} (SQLite), through the MLflow client")
    path = common.write_json(
        "server.json",
        {"mlflow": version, "load_before": load_before, "load_after": common.machine_load(),
         "rows": [r.as_dict() for r in rows]},
    )  # fmt: skip
    print(f"\n{load_before}\nresults: {path}")


if __name__ == "__main__":
    main()
