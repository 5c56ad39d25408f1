"""Search benchmarks of issue 4: search_runs over the derived index next to MLflow.

    python bench/bench_search.py                       # 10k and 100k runs, MLflow at 10k
    python bench/bench_search.py --sizes 2000 5000 --mlflow-size 2000   # a quick check
    python bench/bench_search.py --no-mlflow --workdir /tmp/search      # keep/reuse the repos

Runs are synthetic (``synth.py``: 10 params, 10 metrics x 10 points, 5 tags), written
with gitrun's core layer and ``git gc``'d.  The search: a filter on a metric, a param
and a tag plus an order on a metric (``search_worker.FILTER``/``ORDER_BY``),
max_results 1000, through ``MlflowClient.search_runs`` for both libraries.  MLflow
gets the same runs (same names, params, tags, series, times) through its client, in
its sqlite store and its file store; they are built once per work folder.

Each invocation adds ``--repeats`` runs to every repository (the update figure).

Figures (medians of ``--repeats``, warm searches of ``--warm-repeats``):
  warm   one process, the search repeated after a first (untimed) one; at the size
         MLflow is measured, gitrun is sampled before and after MLflow (the
         machine's speed drifts by up to 2x over minutes here);
  cold   a whole new process each time: python start, import, search, exit;
  update gitrun's index update after one new run (logged through the public API);
  build  gitrun's first full index build (index file deleted, one update).
Results: a table on stdout and ``bench/results/search.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Any

import common
import synth
from common import Row, median, run_child
from search_worker import FILTER, ORDER_BY

WORKER = os.path.join(common.BENCH_DIR, "search_worker.py")
COLD = (
    "import gitrun; gitrun.MlflowClient({store!r}).search_runs(['0'], {filter!r}, order_by={order!r}, "
    "max_results=1000)"
)


def repo_with_runs(workdir: str, runs: int) -> str:
    """A repository with ``runs`` synthetic runs (built once, reused while the marker says so)."""
    path = os.path.join(workdir, f"gitrun-{runs}")
    marker = os.path.join(path, ".git", "synth-runs")
    if os.path.exists(marker):
        return path
    os.makedirs(path, exist_ok=True)
    common.git("init", "--quiet", "-b", "main", cwd=path)
    began = time.perf_counter()
    synth.generate(path, runs)
    synth.gc(path)
    print(f"  generated {runs} runs in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    with open(marker, "w", encoding="utf-8") as fh:
        fh.write(str(runs))
    return path


def index_files(path: str) -> list[str]:
    base = os.path.join(path, ".git", "gitrun", "index.sqlite")
    return [base + suffix for suffix in ("", "-wal", "-shm")]


def worker(python: str, lib: str, task: str, store: str, **params: Any) -> dict[str, Any]:
    argv = [python, WORKER, lib, task, "--store", store]
    for key, value in params.items():
        argv += [f"--{key}", str(value)]
    child = run_child(argv, cwd=os.path.dirname(WORKER), env=common.bench_env())
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    result["wall_s"] = child.wall
    return result


def cold(argv: list[str], repeats: int) -> list[float]:
    run_child(argv, env=common.bench_env())  # warm the OS page cache once
    return [run_child(argv, env=common.bench_env()).wall * 1000 for _ in range(repeats)]


def gitrun_build_and_update(path: str, runs: int, repeats: int) -> tuple[float, list[float]]:
    """Seconds of a first full build; milliseconds of an update after each new run.

    New runs are committed the way every writer commits (a new tree on the records
    ref); each gets a fresh seed, so repeated invocations keep adding distinct runs.
    """
    from gitrun.core.git.repo import Repository
    from gitrun.core.index.index import RunIndex
    from gitrun.core.records.store import RecordStore

    for name in index_files(path):
        if os.path.exists(name):
            os.unlink(name)
    repo = Repository.at(path)
    assert repo is not None
    index = RunIndex(RecordStore(repo))
    start = time.perf_counter()
    index.update()
    build = time.perf_counter() - start
    updates = []
    seed = time.time_ns()
    for i in range(repeats):
        synth.generate(path, 1, start=runs + i, seed=seed, progress=False)
        start = time.perf_counter()
        stats = index.update()
        updates.append((time.perf_counter() - start) * 1000)
        assert stats is not None and stats.runs_written == 1, stats
    index.close()
    return build, updates


def export_runs(path: str, runs: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(runs):
            run = synth.make_run(i)
            series = {k: list(zip(s, t, v, strict=True)) for k, (s, t, v) in run.series.items()}
            fh.write(
                json.dumps(
                    {
                        "name": run.info["run_name"],
                        "start": run.info["start_time"],
                        "end": run.info["end_time"],
                        "params": run.params,
                        "tags": run.tags,
                        "series": series,
                    }
                )
                + "\n"
            )


def mlflow_side(workdir: str, runs: int, repeats: int, warm_repeats: int) -> dict[str, dict[str, Any]]:
    python = common.mlflow_python()
    where = os.path.join(workdir, f"mlflow-{runs}")
    os.makedirs(where, exist_ok=True)
    stores = {"file": f"file:{where}/mlruns", "sqlite": f"sqlite:///{where}/mlflow.db"}
    out: dict[str, dict[str, Any]] = {"version": {"mlflow": common.mlflow_version(python)}}
    for kind, uri in stores.items():
        marker = os.path.join(where, f"{kind}.loaded")
        if not os.path.exists(marker):
            data = os.path.join(where, "runs.jsonl")
            export_runs(data, runs)
            loaded = worker(python, "mlflow", "load", uri, runs=data)
            print(f"  MLflow {kind} store: {runs} runs loaded in {loaded['load_s']:.0f} s", file=sys.stderr)
            with open(marker, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(loaded))
        # A warm search of the file store takes ~20 s: fewer samples of it.
        warm = worker(python, "mlflow", "warm", uri, repeats=warm_repeats if kind == "sqlite" else repeats)
        cold_ms = cold([python, WORKER, "mlflow", "once", "--store", uri], repeats)
        out[kind] = {"warm_ms": warm["ms"], "cold_ms": cold_ms, "results": warm["results"]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--mlflow-size", type=int, default=None, help="runs for MLflow (default: smallest size)"
    )
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--repeats", type=int, default=5, help="samples of slow workloads")
    parser.add_argument(
        "--warm-repeats", type=int, default=21, help="samples of a warm search (MLflow file store: --repeats)"
    )
    parser.add_argument("--workdir", default=None, help="where repositories and stores are kept (reused)")
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="bench-search-")
    os.makedirs(workdir, exist_ok=True)
    load_before = common.machine_load()
    raw: dict[str, Any] = {"workdir": workdir, "sizes": args.sizes, "load_before": load_before}
    rows: list[Row] = []
    for size in sorted(args.sizes):
        path = repo_with_runs(workdir, size)
        build, updates = gitrun_build_and_update(path, size, args.repeats)
        warm = worker(sys.executable, "gitrun", "warm", path, repeats=args.warm_repeats)
        argv = [sys.executable, "-c", COLD.format(store=path, filter=FILTER, order=ORDER_BY)]
        cold_ms = cold(argv, args.repeats)
        raw[str(size)] = {
            "build_s": build,
            "update_ms": updates,
            "warm_ms": warm["ms"],
            "cold_ms": cold_ms,
            "results": warm["results"],
        }
        theirs: dict[str, Any] = {}
        if not args.no_mlflow and size == (args.mlflow_size or min(args.sizes)):
            theirs = mlflow_side(workdir, size, args.repeats, args.warm_repeats)
            raw[f"mlflow-{size}"] = theirs
            # The machine's speed drifts over minutes: sample gitrun again after MLflow,
            # so that both medians span the same stretch of time.
            again = worker(sys.executable, "gitrun", "warm", path, repeats=args.warm_repeats)
            warm["ms"] += again["ms"]
            raw[str(size)]["warm_ms"] = warm["ms"]
        label = f"{size // 1000}k" if size >= 1000 else str(size)
        note = f"{warm['results']} runs returned"
        rows += [
            Row(
                f"search warm, {label} runs",
                "ms",
                median(warm["ms"]),
                median(theirs["file"]["warm_ms"]) if theirs else None,
                median(theirs["sqlite"]["warm_ms"]) if theirs else None,
                50 if theirs else None,
                note,
            ),
            Row(
                f"search cold process, {label} runs",
                "ms",
                median(cold_ms),
                median(theirs["file"]["cold_ms"]) if theirs else None,
                median(theirs["sqlite"]["cold_ms"]) if theirs else None,
                8 if theirs else None,
            ),
            Row(
                f"index update after 1 new run, {label}",
                "ms",
                median(updates),
                note="target < 50 ms: " + ("PASS" if median(updates) < 50 else "MISS"),
            ),
            Row(f"first full index build, {label}", "s", build),
        ]
    sizes = sorted(args.sizes)
    if len(sizes) > 1:
        small, large = raw[str(sizes[0])], raw[str(sizes[-1])]
        growth = median(large["warm_ms"]) / median(small["warm_ms"])
        rows.append(
            Row(
                f"warm {sizes[-1] // 1000}k / {sizes[0] // 1000}k",
                "x",
                growth,
                note="target <= 10x: " + ("PASS" if growth <= 10 else "MISS"),
            )
        )
    raw["load_after"] = common.machine_load()
    common.print_table(rows, f"search_runs ({load_before}; after: {raw['load_after']})")
    print(
        "results written to",
        common.write_json("search.json", {"rows": [r.as_dict() for r in rows], "raw": raw}),
    )


if __name__ == "__main__":
    main()
