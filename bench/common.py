"""Shared benchmark helpers: timing, result tables, child processes, the MLflow side-runner.

MLflow never goes into the project's venv (its dependencies clash): it lives in
``bench/.venv-mlflow``, created on first use, and its workloads run as child
processes of that interpreter (see ``workloads.py``), each in a temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
RESULTS_DIR = os.path.join(BENCH_DIR, "results")
MLFLOW_VENV = os.path.join(BENCH_DIR, ".venv-mlflow")
WORKER = os.path.join(BENCH_DIR, "workloads.py")
IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


# -- timing ---------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def timed(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> list[float]:
    """Seconds taken by each of ``repeats`` calls of ``fn``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def machine_load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"


# -- results --------------------------------------------------------------------------------------


@dataclass
class Row:
    """One workload: gitrun's figure, MLflow's (file and sqlite store), a target ratio.

    Figures are costs (lower is better); ``ratio`` is MLflow's faster store divided by
    gitrun, so 30 means gitrun is 30 times faster.
    """

    workload: str
    unit: str
    gitrun: float | None
    mlflow_file: float | None = None
    mlflow_sqlite: float | None = None
    target: float | None = None
    note: str = ""
    samples: dict[str, list[float]] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        theirs = [x for x in (self.mlflow_file, self.mlflow_sqlite) if x is not None]
        if not theirs or not self.gitrun:
            return None
        return min(theirs) / self.gitrun

    @property
    def verdict(self) -> str:
        if self.target is None or self.ratio is None:
            return ""
        return "PASS" if self.ratio >= self.target else "MISS"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "verdict": self.verdict}


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def print_table(rows: Sequence[Row], title: str) -> None:
    header = ("workload", "unit", "gitrun", "MLflow file", "MLflow sqlite", "ratio", "target", "")
    lines = [header] + [
        (
            r.workload,
            r.unit,
            _fmt(r.gitrun),
            _fmt(r.mlflow_file),
            _fmt(r.mlflow_sqlite),
            f"{r.ratio:.1f}x" if r.ratio is not None else "-",
            f">={r.target:g}x" if r.target else "",
            r.verdict,
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print(f"\n{title}")
    for n, line in enumerate(lines):
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
    for r in rows:
        if r.note:
            print(f"  * {r.workload}: {r.note}")


def write_json(name: str, data: Mapping[str, Any]) -> str:
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, name)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, default=str)
        fh.write("\n")
    return path


# -- child processes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChildResult:
    wall: float
    """Seconds from start to exit."""
    peak_rss_mib: float
    stdout: str


def run_child(
    argv: Sequence[str],
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 3600,
) -> ChildResult:
    """Run a process to completion: its wall time, output and peak RSS (from ``wait4``)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=dict(env) if env else None, stdout=out, stderr=err)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            tail = err.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{tail}")
        return ChildResult(wall, usage.ru_maxrss / 1024, out.read().decode())


def bench_env(**extra: str) -> dict[str, str]:
    """The environment for children: pinned git identity, MLflow's file store allowed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITRUN_", "MLFLOW_", "VIRTUAL_ENV"))}
    env.update(IDENTITY)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["MLFLOW_ALLOW_FILE_STORE"] = "true"
    env.update(extra)
    return env


def git(*args: str, cwd: str, env: Mapping[str, str] | None = None) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=dict(env or bench_env()), capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode()


def fresh_repo(parent: str, files: Mapping[str, str], name: str = "repo") -> str:
    """A new git repository with ``files`` committed (the user's project)."""
    path = tempfile.mkdtemp(prefix=f"{name}-", dir=parent)
    git("init", "--quiet", "-b", "main", cwd=path)
    for rel, text in files.items():
        with open(os.path.join(path, rel), "w", encoding="utf-8") as fh:
            fh.write(text)
    git("add", "--all", cwd=path)
    git("commit", "--quiet", "-m", "project", cwd=path)
    return path


# -- the two libraries ------------------------------------------------------------------------------


def gitrun_python() -> str:
    return sys.executable


def mlflow_python() -> str:
    """The interpreter of ``bench/.venv-mlflow``, created (``pip install mlflow``) on demand."""
    python = os.path.join(MLFLOW_VENV, "bin", "python")
    probe = (
        subprocess.run([python, "-c", "import mlflow"], capture_output=True, check=False)
        if os.path.exists(python)
        else None
    )
    if probe is None or probe.returncode != 0:
        print(f"creating {MLFLOW_VENV} (pip install mlflow; takes a few minutes) ...", file=sys.stderr)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", MLFLOW_VENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "mlflow"], check=True)
    return python


def mlflow_version(python: str) -> str:
    out = subprocess.run(
        [python, "-c", "import importlib.metadata as m; print(m.version('mlflow'))"],
        capture_output=True,
        check=True,
    )
    return out.stdout.decode().strip()


def mlflow_stores(tmp: str) -> dict[str, str]:
    """Tracking URIs of MLflow's two local stores, in a fresh folder each call."""
    where = tempfile.mkdtemp(prefix="mlflow-", dir=tmp)
    return {"file": f"file:{where}/mlruns", "sqlite": f"sqlite:///{where}/mlflow.db"}


def worker(
    python: str,
    lib: str,
    workload: str,
    *,
    cwd: str,
    store: str = "",
    timeout: float = 3600,
    **params: object,
) -> dict[str, Any]:
    """Run one workload of ``workloads.py`` with ``lib`` (gitrun or mlflow); its JSON figures.

    The worker script is copied into ``cwd`` (the user's project) first, so the run's
    code is a small clean repository, not this one.
    """
    script = os.path.join(cwd, "workloads.py")
    if not os.path.exists(script):
        shutil.copy(WORKER, script)
    argv = [python, script, lib, workload, "--store", store]
    for key, value in params.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    child = run_child(argv, cwd=cwd, env=bench_env(), timeout=timeout)
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{' '.join(argv)} printed no result:\n{child.stdout[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    result["wall_s"] = child.wall
    result["peak_rss_mib"] = child.peak_rss_mib
    return result
