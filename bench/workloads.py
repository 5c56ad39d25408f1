"""The tracking workloads, one code path for both libraries: ``import <lib> as mlflow``.

Run by ``bench_tracking.py`` as a child process, with the project's interpreter for
gitrun and ``bench/.venv-mlflow``'s for MLflow; prints one JSON line of figures.
Only the standard library and the library under test are imported here.

    python workloads.py {gitrun,mlflow} WORKLOAD --store URI [--n N] [--repeats R] ...

``--store ''`` with gitrun records into the git repository around the working
directory (gitrun's zero-config default); MLflow takes ``file:...`` or ``sqlite:///...``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from collections.abc import Callable
from typing import Any

mlflow: Any = None
LIB = ""


def flush() -> None:
    """Everything logged is stored: gitrun commits its buffers; MLflow writes synchronously."""
    if LIB == "gitrun":
        mlflow.flush()


def log_metric(args: argparse.Namespace) -> dict[str, Any]:
    samples = []
    with mlflow.start_run():
        for i in range(args.warmup):
            mlflow.log_metric("warmup", i * 0.5, step=i)
        step = 0
        for _ in range(args.repeats):
            start = time.perf_counter()
            for i in range(step, step + args.n):
                mlflow.log_metric("loss", i * 0.5, step=i)
            samples.append((time.perf_counter() - start) / args.n * 1e6)
            step += args.n
        start = time.perf_counter()
    flush()
    return {"us_per_call": samples, "end_and_flush_s": time.perf_counter() - start, "calls": args.n}


def nested(args: argparse.Namespace) -> dict[str, Any]:
    samples = []
    with mlflow.start_run():
        for _ in range(args.warmup):
            with mlflow.start_run(nested=True):
                pass
        flush()
        for _ in range(args.repeats):
            start = time.perf_counter()
            for _ in range(args.n):
                with mlflow.start_run(nested=True):
                    pass
            flush()
            samples.append((time.perf_counter() - start) / args.n * 1e3)
    return {"ms_per_run": samples, "runs": args.n}


def _write_series(run_id: str, n: int, batch: int) -> float:
    """Log ``n`` points of "loss" with log_batch; seconds spent inside log_batch."""
    from_entities = importlib.import_module(f"{LIB}.entities")
    client = mlflow.MlflowClient()
    metric = from_entities.Metric
    base = 1_700_000_000_000
    spent = 0.0
    for first in range(0, n, batch):
        points = [metric("loss", i * 0.5, base + i, i) for i in range(first, min(first + batch, n))]
        start = time.perf_counter()
        client.log_batch(run_id, metrics=points)
        spent += time.perf_counter() - start
    return spent


def write_series(args: argparse.Namespace) -> dict[str, Any]:
    with mlflow.start_run() as run:
        spent = _write_series(run.info.run_id, args.n, args.batch)
        start = time.perf_counter()
    flush()
    spent += time.perf_counter() - start
    return {"us_per_point": spent / args.n * 1e6, "points": args.n, "run_id": run.info.run_id}


def read_history(args: argparse.Namespace) -> dict[str, Any]:
    client = mlflow.MlflowClient()
    client.get_experiment("0")  # open the store before timing
    start = time.perf_counter()
    history = client.get_metric_history(args.run_id, "loss")
    spent = time.perf_counter() - start
    if len(history) != args.n:
        raise SystemExit(f"history has {len(history)} points, expected {args.n}")
    return {"ms": spent * 1e3, "points": len(history)}


def start_runs(args: argparse.Namespace) -> dict[str, Any]:
    """The first run of a process (store opened cold), then ``n`` more."""
    start = time.perf_counter()
    with mlflow.start_run():
        pass
    flush()
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(args.n):
        with mlflow.start_run():
            pass
    flush()
    return {
        "first_ms": first * 1e3,
        "ms_per_run": (time.perf_counter() - start) / args.n * 1e3,
        "runs": args.n,
    }


WORKLOADS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "log_metric": log_metric,
    "nested": nested,
    "write_series": write_series,
    "read_history": read_history,
    "start_runs": start_runs,
}


def main() -> None:
    global mlflow, LIB
    parser = argparse.ArgumentParser()
    parser.add_argument("lib", choices=("gitrun", "mlflow"))
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--store", default="")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--run-id", default="")
    args = parser.parse_args()
    LIB = args.lib
    mlflow = importlib.import_module(args.lib)
    if args.store:
        mlflow.set_tracking_uri(args.store)
    print(json.dumps(WORKLOADS[args.workload](args)))


if __name__ == "__main__":
    main()
