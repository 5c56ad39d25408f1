"""The search workloads, one code path for both libraries: ``import <lib> as mlflow``.

Run by ``bench_search.py`` as a child process (the project's interpreter for gitrun,
``bench/.venv-mlflow``'s for MLflow); prints one JSON line.  Standard library and the
library under test only.

    python search_worker.py {gitrun,mlflow} load  --store URI --runs FILE.jsonl
    python search_worker.py {gitrun,mlflow} warm  --store URI --repeats 5
    python search_worker.py {gitrun,mlflow} once  --store URI
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
from typing import Any

FILTER = "metrics.accuracy > 0.9 and params.optimizer = 'adam' and tags.team = 'vision'"
ORDER_BY = ["metrics.val_accuracy DESC"]


def search(client: Any) -> int:
    return len(client.search_runs(["0"], FILTER, order_by=ORDER_BY, max_results=1000))


def load(mlflow: Any, client: Any, path: str) -> dict[str, Any]:
    """Record the runs of a JSONL file (from ``synth.make_run``) through the public client."""
    from mlflow.entities import Metric, Param, RunTag

    count = 0
    start = time.perf_counter()
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            run = json.loads(line)
            created = client.create_run("0", start_time=run["start"], tags=run["tags"], run_name=run["name"])
            run_id = created.info.run_id
            metrics = [Metric(k, v, t, s) for k, points in run["series"].items() for s, t, v in points]
            params = [Param(k, v) for k, v in run["params"].items()]
            client.log_batch(
                run_id, metrics=metrics, params=params, tags=[RunTag("team", run["tags"]["team"])]
            )
            client.set_terminated(run_id, "FINISHED", end_time=run["end"])
            count += 1
            if count % 500 == 0:
                rate = count / (time.perf_counter() - start)
                print(
                    f"\r  {mlflow.__name__} load: {count} runs ({rate:.0f}/s)",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
    print(file=sys.stderr)
    return {"runs": count, "load_s": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("lib", choices=("gitrun", "mlflow"))
    parser.add_argument("task", choices=("load", "warm", "once"))
    parser.add_argument("--store", required=True)
    parser.add_argument("--runs", default="")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    mlflow = importlib.import_module(args.lib)
    client = mlflow.MlflowClient(args.store)
    if args.task == "load":
        result = load(mlflow, client, args.runs)
    elif args.task == "once":
        result = {"results": search(client)}
    else:
        found = search(client)  # warm-up: opens the store (gitrun: brings its index up to date)
        samples = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            search(client)
            samples.append((time.perf_counter() - start) * 1000)
        result = {"results": found, "ms": samples, "median_ms": statistics.median(samples)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
