"""MLflow-client workloads against a tracking server (run in bench/.venv-mlflow).

``python server_workloads.py <workload> [--n N] [--repeats R]`` with MLFLOW_TRACKING_URI
set; prints one JSON line of samples.  The same script measures ``gitrun server``
and ``mlflow server``.

  log_metric   µs per MlflowClient.log_metric call (one request each)
  log_batch    points per second through MlflowClient.log_batch, 1000 metrics a call
  search       ms per MlflowClient.search_runs over --n runs (filter + order, 100 results)
"""

from __future__ import annotations

import argparse
import json
import time

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

FILTER = "metrics.acc > 0.5 and params.model = 'cnn'"
ORDER_BY = ["metrics.acc DESC"]


def experiment(client: MlflowClient, name: str) -> str:
    found = client.get_experiment_by_name(name)
    return found.experiment_id if found is not None else client.create_experiment(name)


def log_metric(client: MlflowClient, n: int, repeats: int) -> list[float]:
    exp = experiment(client, "bench-log-metric")
    samples = []
    for _ in range(repeats):
        run_id = client.create_run(exp).info.run_id
        start = time.perf_counter()
        for i in range(n):
            client.log_metric(run_id, "loss", 1.0 / (i + 1), step=i)
        samples.append((time.perf_counter() - start) / n * 1e6)
        client.set_terminated(run_id)
    return samples


def log_batch(client: MlflowClient, n: int, repeats: int) -> list[float]:
    exp = experiment(client, "bench-log-batch")
    samples = []
    now = int(time.time() * 1000)
    for _ in range(repeats):
        run_id = client.create_run(exp).info.run_id
        batches = [
            [Metric(f"m{b % 10}", float(i), now + i, b * 1000 + i) for i in range(1000)] for b in range(n)
        ]
        start = time.perf_counter()
        for batch in batches:
            client.log_batch(run_id, metrics=batch)
        samples.append(n * 1000 / (time.perf_counter() - start))
        client.set_terminated(run_id)
    return samples


def search(client: MlflowClient, n: int, repeats: int) -> list[float]:
    exp = experiment(client, "bench-search")
    have = len(client.search_runs([exp], max_results=50000))
    now = int(time.time() * 1000)
    for r in range(have, n):
        run_id = client.create_run(exp, start_time=now + r).info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric("acc", (r % 100) / 100, now, 0), Metric("loss", 1 - (r % 100) / 100, now, 0)],
            params=[Param("model", "cnn" if r % 2 else "mlp"), Param("lr", str(r % 7))],
            tags=[RunTag("team", "a" if r % 3 else "b")],
        )
        client.set_terminated(run_id)
    client.search_runs([exp], FILTER, order_by=ORDER_BY, max_results=100)  # warm
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        found = client.search_runs([exp], FILTER, order_by=ORDER_BY, max_results=100)
        samples.append((time.perf_counter() - start) * 1000)
        assert 0 < len(found) <= 100
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workload", choices=["log_metric", "log_batch", "search"])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    client = MlflowClient()
    fn = {"log_metric": log_metric, "log_batch": log_batch, "search": search}[args.workload]
    print(json.dumps({"workload": args.workload, "n": args.n, "samples": fn(client, args.n, args.repeats)}))


if __name__ == "__main__":
    main()
