"""Tracking benchmarks of issue 2 §7: gitrun next to MLflow, same workload, same invocation.

    python bench/bench_tracking.py            # full sizes (~15 min with MLflow)
    python bench/bench_tracking.py --quick    # small sizes, a smoke test (~2 min)
    python bench/bench_tracking.py --no-mlflow

Every workload runs in child processes (``workloads.py``), each in a fresh git
repository holding the workload script; MLflow runs with ``bench/.venv-mlflow``'s
interpreter against a fresh file store and a fresh sqlite store.  Figures are
medians over repeats.  Results: a table on stdout and ``bench/results/tracking.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import common
from common import Row, median, worker

TINY = """{import_line}
with mlflow.start_run():
    mlflow.log_param("alpha", 0.5)
    mlflow.log_metric("rmse", 0.25)
"""


@dataclass(frozen=True)
class Sizes:
    log_metric: int
    log_metric_mlflow: dict[str, int]
    log_metric_repeats: int
    nested: int
    nested_mlflow: int
    nested_repeats: int
    series: int
    series_mlflow: int
    series_repeats: int
    history: int
    processes: int
    scale_runs: int
    scale_starts: int


FULL = Sizes(
    100_000, {"file": 3000, "sqlite": 1000}, 5, 500, 500, 3, 1_000_000, 100_000, 3, 100_000, 5, 100_000, 200
)
QUICK = Sizes(20_000, {"file": 300, "sqlite": 100}, 3, 100, 50, 2, 100_000, 10_000, 2, 10_000, 3, 2_000, 50)


@dataclass
class Bench:
    tmp: str
    sizes: Sizes
    mlflow: str | None  # its interpreter, or None with --no-mlflow
    raw: dict[str, Any]

    def project(self) -> str:
        """A fresh git repository with the workload script committed (the user's project)."""
        with open(common.WORKER, encoding="utf-8") as fh:
            return common.fresh_repo(self.tmp, {"workloads.py": fh.read()}, "project")

    def gitrun(self, workload: str, cwd: str | None = None, **params: Any) -> dict[str, Any]:
        return worker(common.gitrun_python(), "gitrun", workload, cwd=cwd or self.project(), **params)

    def mlflow_each(
        self, workload: str, sizes: dict[str, int] | None = None, **params: Any
    ) -> dict[str, dict[str, Any]]:
        """The workload on MLflow's file store and sqlite store (empty with --no-mlflow)."""
        if self.mlflow is None:
            return {}
        out = {}
        for kind, uri in common.mlflow_stores(self.tmp).items():
            extra = {"n": sizes[kind]} if sizes else {}
            out[kind] = worker(
                self.mlflow, "mlflow", workload, cwd=self.project(), store=uri, **params, **extra
            )
        return out


def _row(
    workload: str,
    unit: str,
    ours: list[float],
    theirs: dict[str, list[float]],
    target: float | None,
    note: str = "",
) -> Row:
    samples = {"gitrun": ours, **{f"mlflow_{k}": v for k, v in theirs.items()}}
    return Row(
        workload,
        unit,
        median(ours),
        median(theirs["file"]) if "file" in theirs else None,
        median(theirs["sqlite"]) if "sqlite" in theirs else None,
        target,
        note,
        samples,
    )


def bench_log_metric(b: Bench) -> list[Row]:
    s = b.sizes
    ours = b.gitrun("log_metric", n=s.log_metric, repeats=s.log_metric_repeats, warmup=1000)
    theirs = b.mlflow_each("log_metric", s.log_metric_mlflow, repeats=3, warmup=20)
    b.raw["log_metric"] = {"gitrun": ours, **theirs}
    note = (
        f"gitrun {s.log_metric:,} calls x {s.log_metric_repeats}; MLflow "
        + ", ".join(f"{k} {n:,} calls x 3" for k, n in s.log_metric_mlflow.items())
        + f" (constant per call); gitrun's end_run+flush after all calls: {ours['end_and_flush_s']:.2f} s"
    )
    return [
        _row(
            "log_metric",
            "us/call",
            ours["us_per_call"],
            {k: v["us_per_call"] for k, v in theirs.items()},
            100,
            note,
        )
    ]


def bench_nested(b: Bench) -> list[Row]:
    s = b.sizes
    ours = b.gitrun("nested", n=s.nested, repeats=s.nested_repeats)
    theirs = b.mlflow_each("nested", n=s.nested_mlflow, repeats=s.nested_repeats)
    b.raw["nested"] = {"gitrun": ours, **theirs}
    note = f"{s.nested} nested runs per repeat incl. the final flush, x {s.nested_repeats}"
    return [
        _row(
            "nested start_run+end_run",
            "ms/run",
            ours["ms_per_run"],
            {k: v["ms_per_run"] for k, v in theirs.items()},
            2,
            note,
        )
    ]


def bench_write(b: Bench) -> list[Row]:
    s = b.sizes
    ours = [b.gitrun("write_series", n=s.series) for _ in range(s.series_repeats)]
    theirs = b.mlflow_each("write_series", n=s.series_mlflow)
    b.raw["write_series"] = {"gitrun": ours, **theirs}
    note = (
        f"gitrun {s.series:,} points (x {s.series_repeats} processes), MLflow {s.series_mlflow:,} points; "
        "log_batch of 1000 points, final flush included"
    )
    write = _row(
        f"write {s.series:,}-point series",
        "us/point",
        [r["us_per_point"] for r in ours],
        {k: [v["us_per_point"]] for k, v in theirs.items()},
        30,
        note,
    )
    rss = _row(
        f"peak RSS writing {s.series:,} points",
        "MiB",
        [r["peak_rss_mib"] for r in ours],
        {k: [v["peak_rss_mib"]] for k, v in theirs.items()},
        None,
        f"whole process; MLflow's figure is for its {s.series_mlflow:,}-point run",
    )
    return [write, rss]


def bench_history(b: Bench) -> list[Row]:
    s = b.sizes

    def reads(python: str, lib: str, store: str) -> list[float]:
        cwd = b.project()
        written = worker(python, lib, "write_series", cwd=cwd, store=store, n=s.history)
        return [
            worker(python, lib, "read_history", cwd=cwd, store=store, n=s.history, run_id=written["run_id"])[
                "ms"
            ]
            for _ in range(s.processes)
        ]

    ours = reads(common.gitrun_python(), "gitrun", "")
    theirs = (
        {}
        if b.mlflow is None
        else {kind: reads(b.mlflow, "mlflow", uri) for kind, uri in common.mlflow_stores(b.tmp).items()}
    )
    b.raw["history"] = {"gitrun": ours, **theirs}
    return [
        _row(
            f"get_metric_history {s.history:,} points",
            "ms",
            ours,
            theirs,
            20,
            f"one call in each of {s.processes} fresh processes (cold in-process caches)",
        )
    ]


def _import_ms(python: str, module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    child = common.run_child([python, "-c", code], cwd=tempfile.gettempdir(), env=common.bench_env())
    return float(child.stdout.strip()) * 1e3


def bench_import(b: Bench) -> list[Row]:
    n = b.sizes.processes
    _import_ms(common.gitrun_python(), "gitrun")  # warm-up: byte-compile, page cache
    ours = [_import_ms(common.gitrun_python(), "gitrun") for _ in range(n)]
    theirs: dict[str, list[float]] = {}
    if b.mlflow is not None:
        _import_ms(b.mlflow, "mlflow")
        theirs["file"] = [_import_ms(b.mlflow, "mlflow") for _ in range(n)]
    b.raw["import"] = {"gitrun": ours, **theirs}
    return [
        _row(
            "import",
            "ms",
            ours,
            theirs,
            5,
            f"time of the import statement, {n} fresh processes; "
            "MLflow's figure in the file column (no store involved)",
        )
    ]


def _tiny_wall(python: str, lib: str, env_extra: dict[str, str], *, tmp: str = "", cwd: str = "") -> float:
    """Wall time of the tiny script in ``cwd``, or in a fresh repository under ``tmp``."""
    line = "import gitrun as mlflow" if lib == "gitrun" else "import mlflow"
    if not cwd:
        cwd = common.fresh_repo(tmp, {"tiny.py": TINY.format(import_line=line)}, "tiny")
    else:
        with open(os.path.join(cwd, "tiny.py"), "w", encoding="utf-8") as fh:
            fh.write(TINY.format(import_line=line))
    child = common.run_child([python, "tiny.py"], cwd=cwd, env=common.bench_env(**env_extra))
    return child.wall * 1e3


def bench_tiny(b: Bench) -> list[Row]:
    n = b.sizes.processes
    _tiny_wall(common.gitrun_python(), "gitrun", {}, tmp=b.tmp)
    ours = [_tiny_wall(common.gitrun_python(), "gitrun", {}, tmp=b.tmp) for _ in range(n)]
    theirs: dict[str, list[float]] = {}
    if b.mlflow is not None:
        _tiny_wall(
            b.mlflow, "mlflow", {"MLFLOW_TRACKING_URI": common.mlflow_stores(b.tmp)["file"]}, tmp=b.tmp
        )
        for kind in ("file", "sqlite"):
            uris = [common.mlflow_stores(b.tmp)[kind] for _ in range(n)]
            theirs[kind] = [
                _tiny_wall(b.mlflow, "mlflow", {"MLFLOW_TRACKING_URI": uri}, tmp=b.tmp) for uri in uris
            ]
    b.raw["tiny"] = {"gitrun": ours, **theirs}
    return [
        _row(
            "tiny script",
            "ms wall",
            ours,
            theirs,
            5,
            f"import + 1 run + 1 param + 1 metric, whole process, a fresh repo/store each of {n} times",
        )
    ]


def bench_scale(b: Bench) -> list[Row]:
    """start_run's cost must not grow with the runs already in the repository."""
    import synth

    s = b.sizes
    empty = b.project()
    full = b.project()
    began = time.perf_counter()
    synth.generate(full, s.scale_runs)
    synth.gc(full)
    b.raw["scale_setup_s"] = time.perf_counter() - began
    rows: list[Row] = []
    for label, repo in (("0 runs", empty), (f"{s.scale_runs:,} runs", full)):
        results = [b.gitrun("start_runs", cwd=repo, n=s.scale_starts) for _ in range(s.processes)]
        tiny = [_tiny_wall(common.gitrun_python(), "gitrun", {}, cwd=repo) for _ in range(s.processes)]
        b.raw[f"scale {label}"] = {"start_runs": results, "tiny_ms": tiny}
        rows += [
            Row(
                f"start_run+end_run, {label} in repo",
                "ms/run",
                median([r["ms_per_run"] for r in results]),
                note=""
                if rows
                else f"{s.scale_starts} top-level runs per process incl. flush, "
                f"{s.processes} processes; 'first' = first run of a process",
            ),
            Row(f"first start_run+end_run, {label} in repo", "ms", median([r["first_ms"] for r in results])),
            Row(f"tiny script, {label} in repo", "ms wall", median(tiny)),
        ]
    return rows


BENCHES: dict[str, Callable[[Bench], list[Row]]] = {
    "log_metric": bench_log_metric,
    "nested": bench_nested,
    "write": bench_write,
    "history": bench_history,
    "import": bench_import,
    "tiny": bench_tiny,
    "scale": bench_scale,
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    parser.add_argument("--no-mlflow", action="store_true", help="gitrun's figures only")
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHES), help="run these benchmarks only")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    python = None if args.no_mlflow else common.mlflow_python()
    version = common.mlflow_version(python) if python else None
    load_before = common.machine_load()
    print(f"gitrun vs MLflow {version or '(skipped)'}; {load_before}", file=sys.stderr)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="gitrun-bench-") as tmp:
        bench = Bench(tmp, sizes, python, {})
        for name in args.only or BENCHES:
            began = time.perf_counter()
            print(f"  {name} ...", file=sys.stderr, flush=True)
            rows += BENCHES[name](bench)
            print(
                f"  {name} done in {time.perf_counter() - began:.0f} s ({common.machine_load()})",
                file=sys.stderr,
                flush=True,
            )
    load_after = common.machine_load()
    title = (
        f"gitrun vs MLflow {version or '(skipped)'} ({'quick' if args.quick else 'full'} sizes); "
        f"before: {load_before}; after: {load_after}"
    )
    common.print_table(rows, title)
    path = common.write_json(
        "tracking.json",
        {
            "mlflow_version": version,
            "sizes": asdict(sizes),
            "quick": args.quick,
            "load_before": load_before,
            "load_after": load_after,
            "python": sys.version.split()[0],
            "rows": [r.as_dict() for r in rows],
            "raw": bench.raw,
        },
    )
    print(f"\nwritten {path}")


if __name__ == "__main__":
    main()
