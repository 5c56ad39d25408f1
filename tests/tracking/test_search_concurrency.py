"""Searching while other processes log runs: every result is consistent, nothing is lost."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import gitrun
from gitrun import MlflowClient

WRITERS = 3
RUNS_EACH = 12
KEYS = 5

WRITER = textwrap.dedent(
    """
    import sys
    import gitrun

    uri, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    gitrun.set_tracking_uri(uri)
    experiment = gitrun.set_experiment("concurrent")
    client = gitrun.MlflowClient()
    for i in range(count):
        with gitrun.start_run(run_name=f"{name}-{i}"):
            gitrun.log_params({f"p{k}": i for k in range(KEYS)})
            gitrun.log_metrics({f"m{k}": i + k for k in range(KEYS)})
            gitrun.set_tag("writer", name)
        if i % 3 == 0:  # other processes update the shared index too
            client.search_runs([experiment.experiment_id], "params.p0 = '0'")
    """
).replace("KEYS", str(KEYS))


def _check(run: gitrun.entities.Run) -> None:
    """A run is never half-written: its info is whole, and a finished run has everything."""
    assert len(run.info.run_id) == 32 and run.info.start_time > 0
    assert run.info.status in ("RUNNING", "FINISHED")
    if run.info.status == "FINISHED":
        i = int(run.data.params["p0"])
        assert run.data.params == {f"p{k}": str(i) for k in range(KEYS)}
        assert run.data.metrics == {f"m{k}": float(i + k) for k in range(KEYS)}
        assert run.data.tags["writer"] == run.info.run_name.split("-")[0]
        assert run.info.end_time is not None


@pytest.mark.slow
def test_searches_while_processes_log(in_repo: Path, tmp_path: Path) -> None:
    experiment = gitrun.set_experiment("concurrent")
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(in_repo), f"w{n}", str(RUNS_EACH)],
            cwd=in_repo,
            stderr=subprocess.PIPE,
        )
        for n in range(WRITERS)
    ]
    client = MlflowClient()
    counts: set[int] = set()
    deadline = time.monotonic() + 300
    while any(p.poll() is None for p in procs):
        assert time.monotonic() < deadline, "writers did not finish"
        runs = client.search_runs([experiment.experiment_id], "metrics.m0 >= 0", order_by=["metrics.m1 DESC"])
        for run in runs:
            _check(run)
        finished = client.search_runs([experiment.experiment_id], "attributes.status = 'FINISHED'")
        counts.add(len(finished))
    for proc in procs:
        _, err = proc.communicate()
        assert proc.returncode == 0, err.decode()
    final = client.search_runs([experiment.experiment_id], max_results=1000)
    assert len(final) == WRITERS * RUNS_EACH
    for run in final:
        _check(run)
        assert run.info.status == "FINISHED"
    assert {r.info.run_name for r in final} == {f"w{n}-{i}" for n in range(WRITERS) for i in range(RUNS_EACH)}
    # The searches saw the runs arrive (several intermediate states), never more than exist.
    assert len(counts) > 2 and max(counts) <= WRITERS * RUNS_EACH
