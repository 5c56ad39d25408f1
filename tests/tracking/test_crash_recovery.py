"""SIGKILL with several runs in one journal: recovery keeps each run as it was left.

(test_durability.py covers one run killed mid-logging; these cover what the other
runs of the same dead process must keep.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import gitrun
from gitrun import MlflowClient


def run_and_kill(repo: Path, script: str) -> list[str]:
    """Run ``script`` until it prints its line of run ids, then SIGKILL it."""
    env = {**os.environ, "GITRUN_FLUSH_INTERVAL": "3600"}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
    finally:
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    ids = line.split()
    assert ids and all(len(i) == 32 for i in ids), err.decode()
    gitrun.tracking.session.close_all()  # the next gitrun call in this repository recovers
    return ids


ENDED_AND_OPEN = """
import time, gitrun
gitrun.set_experiment("crash")
with gitrun.start_run(run_name="done") as done:
    gitrun.log_param("p", "done")
    gitrun.log_metric("m", 1.0)
try:
    with gitrun.start_run(run_name="broke") as broke:
        raise RuntimeError("boom")
except RuntimeError:
    pass
gitrun.flush()
run = gitrun.start_run(run_name="open")
gitrun.log_param("p", "open")
gitrun.log_metric("m", 2.0)
print(done.info.run_id, broke.info.run_id, run.info.run_id, flush=True)
time.sleep(600)
"""


def test_only_the_running_run_of_a_dead_journal_becomes_killed(in_repo: Path) -> None:
    done, broke, still_open = run_and_kill(in_repo, ENDED_AND_OPEN)
    client = MlflowClient()
    finished = client.get_run(done)
    assert finished.info.status == "FINISHED"
    assert client.get_run(broke).info.status == "FAILED"
    killed = client.get_run(still_open)
    assert killed.info.status == "KILLED" and killed.info.end_time is not None
    assert killed.data.params == {"p": "open"} and killed.data.metrics == {"m": 2.0}
    # The finished run is exactly as its process ended it (end time included).
    assert finished.info.end_time is not None and finished.info.end_time >= finished.info.start_time
    assert finished.data.params == {"p": "done"} and finished.data.metrics == {"m": 1.0}
    gitrun.tracking.session.close_all()
    assert MlflowClient().get_run(done).info.end_time == finished.info.end_time


PARTIAL_FLUSH = """
import time, gitrun
c = gitrun.MlflowClient()
a = c.create_run("0").info.run_id
b = c.create_run("0").info.run_id
c.log_param(b, "pb", "1")
c.set_tag(b, "tb", "before")
c.log_metric(b, "mb", 2.0)
c.log_param(a, "pa", "1")
c.get_run(a)  # read-your-writes: commits run a only, run b stays in the journal
c.set_tag(b, "tb2", "after")
c.log_param(a, "pa2", "2")
print(a, b, flush=True)
time.sleep(600)
"""


def test_a_flush_of_one_run_then_sigkill_loses_nothing_of_another(in_repo: Path) -> None:
    a, b = run_and_kill(in_repo, PARTIAL_FLUSH)
    client = MlflowClient()
    other = client.get_run(b)
    assert other.data.params == {"pb": "1"}
    assert other.data.tags["tb"] == "before" and other.data.tags["tb2"] == "after"
    assert other.data.metrics == {"mb": 2.0}
    flushed = client.get_run(a)
    assert flushed.data.params == {"pa": "1", "pa2": "2"}
