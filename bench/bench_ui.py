"""Web UI benchmark (issue 13): what a person waits for, measured in headless Chromium.

    python bench/bench_ui.py                         # 100k runs; MLflow's UI on 2,000 runs
    python bench/bench_ui.py --runs 5000 --no-mlflow # a quick check
    python bench/bench_ui.py --workdir /tmp/ui       # keep the stores and reuse them

gitrun: ``--runs`` synthetic runs (bench/synth.py: 10 params, 10 metrics, 5 tags) in one
experiment, plus a run with a 1,000,000-point series and 10 runs with 5 metrics of
10,000 points each in another; ``gitrun ui`` serves them on 127.0.0.1.  For each
figure a new browser page opens the URL and the clock stops when the page shows:

* runs table: the first row of the runs table at ``#/runs?e=0`` (the count query and
  the column summary are part of it);
* 1M-point chart: the chart of the 1M-point metric drawn (uPlot canvas, data-points set);
* 10-run compare: the compare page of the 10 runs with its 5 overlaid charts drawn.

Each is repeated (``--repeats``, median printed); the server process stays up, so
the index and the decoded series are warm after the first load, as for a person
clicking around.  The first load (cold) is reported apart.

MLflow (``bench/.venv-mlflow``, as bench/README.md describes): the same kinds of runs
are loaded into a sqlite store through MlflowClient (loading is slow: ``--mlflow-runs``
default 2,000; the 1M-point series and the 10 runs likewise), ``mlflow server`` serves
it on 127.0.0.1, and the same three pages are timed until the run names / chart
canvases appear.  What MLflow does (or does not) is written to the results.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import common
import synth

from tests.server.chromium import ARGS, CHROMIUM

BIG = 1_000_000
COMPARE_RUNS = 10
COMPARE_METRICS = 5
COMPARE_POINTS = 10_000


# -- building the stores ----------------------------------------------------------------------


def build_gitrun(path: str, runs: int) -> dict[str, Any]:
    """Synthetic runs + the long series + the compare runs, in a repository at ``path``."""
    marker = os.path.join(path, ".bench-ui.json")
    if os.path.exists(marker):
        with open(marker, encoding="utf-8") as fh:
            return json.load(fh)
    began = time.perf_counter()
    probe = ["git", "-C", path, "rev-parse", "--verify", "-q", "refs/gitrun/records"]
    has_runs = os.path.isdir(path) and subprocess.run(probe, capture_output=True, check=False)
    if has_runs and has_runs.returncode == 0:
        print("  reusing the synthetic runs already there (an interrupted build)", file=sys.stderr)
    else:
        os.makedirs(path, exist_ok=True)
        common.git("init", "--quiet", "-b", "main", cwd=path)
        with open(os.path.join(path, "train.py"), "w", encoding="utf-8") as fh:
            fh.write("print('train')\n")
        common.git("add", "-A", cwd=path)
        common.git("commit", "--quiet", "-m", "project", cwd=path)
        synth.generate(path, runs)
        synth.gc(path)
    script = f"""
import json, math, gitrun
from gitrun.entities import Metric
client = gitrun.MlflowClient({path!r})
exp = client.create_experiment("ui-bench")
big = client.create_run(exp, run_name="one-million").info.run_id
t0 = 1_700_000_000_000
for start in range(0, {BIG}, 10_000):
    client.log_batch(big, metrics=[Metric("loss", math.exp(-i / 200_000) + 0.05 * math.sin(i / 50), t0 + i, i)
                                   for i in range(start, start + 10_000)])
client.set_terminated(big)
ids = []
for r in range({COMPARE_RUNS}):
    run = client.create_run(exp, run_name=f"compare-{{r}}").info.run_id
    client.log_batch(run, params=[gitrun.entities.Param("lr", str(10 ** -(1 + r % 4)))])
    for k in range({COMPARE_METRICS}):
        client.log_batch(run, metrics=[Metric(f"m{{k}}", math.exp(-i * (r + 1) / 5000) + k, t0 + i, i)
                                       for i in range({COMPARE_POINTS})])
    client.set_terminated(run)
    ids.append(run)
client.flush()
print(json.dumps({{"experiment": exp, "big": big, "compare": ids}}))
"""
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=path,
        env=common.bench_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    info = json.loads(out.stdout.strip().splitlines()[-1])
    info["build_s"] = time.perf_counter() - began
    info["runs"] = runs
    with open(marker, "w", encoding="utf-8") as fh:
        json.dump(info, fh)
    return info


# -- serving -----------------------------------------------------------------------------------


class Served:
    def __init__(self, argv: list[str], env: dict[str, str], pattern: str, cwd: str | None = None) -> None:
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with open(self.log.name, encoding="utf-8", errors="replace") as fh:
                found = re.search(pattern, fh.read())
            if found:
                self.url = found.group(1)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.stop()
        with open(self.log.name, encoding="utf-8", errors="replace") as fh:
            raise RuntimeError(f"{argv[:4]} did not start:\n{fh.read()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- timing in Chromium -----------------------------------------------------------------------


def time_page(browser: Any, url: str, ready: str, timeout_s: float) -> float | None:
    """Seconds from navigation to ``ready`` (a JS expression) being true; None on timeout."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        start = time.perf_counter()
        page.goto(url, wait_until="commit")
        deadline = start + timeout_s
        while time.perf_counter() < deadline:
            if page.evaluate(f"() => Boolean({ready})"):
                return time.perf_counter() - start
            page.wait_for_timeout(10)
        return None
    finally:
        context.close()


def measure(
    browser: Any, pages: dict[str, tuple[str, str]], repeats: int, timeout_s: float
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (url, ready) in pages.items():
        cold = time_page(browser, url, ready, timeout_s)
        samples = (
            [time_page(browser, url, ready, timeout_s) for _ in range(repeats)] if cold is not None else []
        )
        done = [s for s in samples if s is not None]
        out[name] = {
            "cold_s": cold,
            "samples_s": samples,
            "median_s": common.median(done) if done else None,
            "timeouts": len(samples) - len(done) + (cold is None),
        }
        shown = (
            f"{out[name]['median_s']:.3f} s"
            if out[name]["median_s"] is not None
            else f"no result in {timeout_s:.0f} s"
        )
        print(
            f"  {name}: median {shown} (first load {cold if cold is None else round(cold, 3)} s)",
            file=sys.stderr,
        )
    return out


def gitrun_side(workdir: str, runs: int, repeats: int) -> dict[str, Any]:
    path = os.path.join(workdir, f"gitrun-{runs}")
    info = build_gitrun(path, runs)
    print(f"gitrun store: {runs} runs + 1M-point series + 10 compare runs ({path})", file=sys.stderr)
    env = common.bench_env(PYTHONPATH=os.path.dirname(common.BENCH_DIR))
    server = Served(
        [sys.executable, "-m", "gitrun.cli", "ui", "--repo", path, "--port", "0"],
        env,
        r"(http://127\.0\.0\.1:\d+/)",
    )
    try:
        from playwright.sync_api import sync_playwright

        compare = ",".join(info["compare"])
        charts = " && ".join(
            f"document.querySelector(\".chart[data-key='m{k}'][data-points]\")" for k in range(5)
        )
        pages = {
            "runs table, first screen": (
                f"{server.url}#/runs?e=0",
                "document.querySelector('#runs tbody tr[data-run]') "
                "&& document.querySelector('#run-count').textContent",
            ),
            "1M-point chart": (
                f"{server.url}#/run/{info['big']}?tab=charts",
                "document.querySelector(\".chart[data-key='loss'][data-points]\")",
            ),
            "10-run compare, 5 metrics": (f"{server.url}#/compare?runs={compare}", charts),
        }
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            # The very first request also builds the search index of a fresh store: timed apart.
            index_start = time.perf_counter()
            time_page(browser, f"{server.url}#/runs?e=0", pages["runs table, first screen"][1], 900)
            first_build = time.perf_counter() - index_start
            print(f"  first page with the index built from scratch: {first_build:.1f} s", file=sys.stderr)
            results = measure(browser, pages, repeats, 120)
            results["index_first_build_s"] = first_build
            browser.close()
    finally:
        server.stop()
    results["store"] = info
    return results


# -- MLflow -------------------------------------------------------------------------------------

MLFLOW_LOADER = r"""
import json, math, sys, time
import mlflow
from mlflow.entities import Metric, Param, RunTag
uri, runs_file, big_points, n_compare = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
client = mlflow.MlflowClient(uri)
began = time.perf_counter()
with open(runs_file) as fh:
    for line in fh:
        run = json.loads(line)
        made = client.create_run("0", start_time=run["start"], tags=run["tags"], run_name=run["name"])
        r = made.info.run_id
        metrics = [Metric(k, v, t, s) for k, pts in run["series"].items() for s, t, v in pts]
        client.log_batch(r, metrics=metrics, params=[Param(k, v) for k, v in run["params"].items()])
        client.set_terminated(r, "FINISHED", end_time=run["end"])
loaded = time.perf_counter() - began
exp = client.create_experiment("ui-bench")
big = client.create_run(exp, run_name="one-million").info.run_id
t0 = 1_700_000_000_000
for start in range(0, big_points, 1000):
    points = [Metric("loss", math.exp(-i / 200_000), t0 + i, i) for i in range(start, start + 1000)]
    client.log_batch(big, metrics=points)
client.set_terminated(big)
ids = []
for r in range(n_compare):
    run = client.create_run(exp, run_name=f"compare-{r}").info.run_id
    client.log_batch(run, params=[Param("lr", str(10 ** -(1 + r % 4)))])
    for k in range(5):
        pts = [Metric(f"m{k}", math.exp(-i * (r + 1) / 5000) + k, t0 + i, i) for i in range(10000)]
        for s in range(0, len(pts), 1000):
            client.log_batch(run, metrics=pts[s:s + 1000])
    client.set_terminated(run)
    ids.append(run)
print(json.dumps({"experiment": exp, "big": big, "compare": ids, "load_runs_s": loaded,
                  "total_s": time.perf_counter() - began}))
"""


def mlflow_side(workdir: str, runs: int, repeats: int, big_points: int) -> dict[str, Any]:
    python = common.mlflow_python()
    version = common.mlflow_version(python)
    where = os.path.join(workdir, f"mlflow-{runs}-{big_points}")
    marker = os.path.join(where, "bench-ui.json")
    uri = f"sqlite:///{where}/mlflow.db"
    if os.path.exists(marker):
        with open(marker, encoding="utf-8") as fh:
            info = json.load(fh)
    else:
        shutil.rmtree(where, ignore_errors=True)
        os.makedirs(where)
        data = os.path.join(where, "runs.jsonl")
        with open(data, "w", encoding="utf-8") as fh:
            for i in range(runs):
                run = synth.make_run(i)
                fh.write(
                    json.dumps(
                        {
                            "name": run.info["run_name"],
                            "start": run.info["start_time"],
                            "end": run.info["end_time"],
                            "tags": {k: v for k, v in run.tags.items() if not k.startswith("mlflow.")},
                            "params": run.params,
                            "series": {k: list(zip(s, t, v)) for k, (s, t, v) in run.series.items()},
                        }
                    )
                    + "\n"
                )
        print(
            f"MLflow {version}: loading {runs} runs and the long series into sqlite (slow) ...",
            file=sys.stderr,
        )
        out = subprocess.run(
            [python, "-c", MLFLOW_LOADER, uri, data, str(big_points), str(COMPARE_RUNS)],
            env=common.bench_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        info = json.loads(out.stdout.strip().splitlines()[-1])
        with open(marker, "w", encoding="utf-8") as fh:
            json.dump(info, fh)
    port = free_port()
    mlflow_bin = os.path.join(os.path.dirname(python), "mlflow")
    server = Served(
        [
            mlflow_bin,
            "server",
            "--backend-store-uri",
            uri,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        common.bench_env(),
        rf"(http://127\.0\.0\.1:{port})|Listening at: (http://127\.0\.0\.1:{port})|Uvicorn running on (http://127\.0\.0\.1:{port})",
        cwd=where,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        from playwright.sync_api import sync_playwright

        text = "document.body && document.body.innerText"
        compare = json.dumps(info["compare"])
        pages = {
            "runs table, first screen": (f"{base}/#/experiments/0", f"{text}.includes('synth-')"),
            "1M-point chart": (
                f"{base}/#/experiments/{info['experiment']}/runs/{info['big']}/model-metrics",
                "document.querySelector('canvas, .js-plotly-plot, svg.main-svg, .recharts-surface')",
            ),
            "10-run compare, 5 metrics": (
                f'{base}/#/compare-runs?runs={compare}&experiments=["{info["experiment"]}"]',
                f"{text}.includes('m4') "
                "&& document.querySelectorAll('canvas, .js-plotly-plot, svg.main-svg').length >= 1",
            ),
        }
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            results = measure(browser, pages, repeats, 180)
            browser.close()
    finally:
        server.stop()
    results["version"] = version
    results["store"] = {**info, "runs": runs, "big_points": big_points}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--mlflow-runs", type=int, default=2000)
    parser.add_argument("--mlflow-big-points", type=int, default=BIG)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument(
        "--only-mlflow", action="store_true", help="skip gitrun's side (its last figures are kept in ui.json)"
    )
    parser.add_argument("--workdir", default=None, help="keep the stores here (reused next time)")
    args = parser.parse_args()
    workdir = args.workdir or tempfile.mkdtemp(prefix="bench-ui-")
    os.makedirs(workdir, exist_ok=True)
    load_before = common.machine_load()
    results: dict[str, Any] = {}
    if args.only_mlflow:
        previous = os.path.join(common.RESULTS_DIR, "ui.json")
        if os.path.exists(previous):
            with open(previous, encoding="utf-8") as fh:
                results = {k: v for k, v in json.load(fh).items() if k == "gitrun"}
    else:
        results["gitrun"] = gitrun_side(workdir, args.runs, args.repeats)
    if not args.no_mlflow:
        results["mlflow"] = mlflow_side(workdir, args.mlflow_runs, args.repeats, args.mlflow_big_points)
    results["load_before"] = load_before
    results["load_after"] = common.machine_load()
    print(f"\nWeb UI in Chromium, median of {args.repeats} (seconds; {results['load_after']})")
    for name in ("runs table, first screen", "1M-point chart", "10-run compare, 5 metrics"):
        ours = results.get("gitrun", {}).get(name, {}).get("median_s")
        theirs = results.get("mlflow", {}).get(name, {}).get("median_s")
        line = (
            f"  {name:<28} gitrun ({args.runs:,} runs) {ours:.3f}"
            if ours is not None
            else f"  {name:<28} gitrun -"
        )
        if "mlflow" in results:
            line += f"   MLflow {results['mlflow']['version']} ({args.mlflow_runs:,} runs) "
            line += f"{theirs:.3f}" if theirs is not None else "no result"
        print(line)
    print(f"results: {common.write_json('ui.json', results)}")
    if not args.workdir:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
