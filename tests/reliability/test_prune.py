"""`git gc --prune=now` while runs are recorded (git's documented unsafe case): a run
whose end_run returned is never silently missing.

The writer checks after each commit that what it wrote is still on disk and writes
back what a prune deleted; at exit it checks its runs read back, and otherwise keeps
its journal (the next gitrun command re-commits from it) and says so.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitrun import MlflowClient
from gitrun.errors import DamagedRecordWarning
from gitrun.tracking import session as tracking_session
from tests.conftest import git
from tests.reliability.conftest import cli, trials


def _objects(repo: Path, *revs: str) -> set[str]:
    out = git(repo, "rev-list", "--objects", *revs)
    return {line.split()[0] for line in out.splitlines() if line}


def test_objects_deleted_after_the_commit_are_written_back(in_repo: Path) -> None:
    """A prune whose reachability walk ran before the ref moved deletes the objects of
    the last commit after it landed: they are written again before the process ends."""
    client = MlflowClient()
    run_id = client.create_run("0").info.run_id
    for step in range(50):
        client.log_metric(run_id, "loss", 1.0 / (step + 1), step=step)
    client.set_terminated(run_id)
    client.flush()
    tip = "refs/gitrun/records"
    new = _objects(in_repo, tip) - _objects(in_repo, f"{tip}~1")
    assert len(new) > 5  # the commit, trees along the path, the run's files, chunks
    for oid in new:
        (in_repo / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    with pytest.warns(DamagedRecordWarning, match="concurrent"):
        tracking_session.close_all()
    fsck = subprocess.run(["git", "fsck", "--connectivity-only"], cwd=in_repo, capture_output=True, text=True)
    assert "missing" not in fsck.stdout + fsck.stderr, fsck.stdout + fsck.stderr
    client = MlflowClient()
    assert client.get_run(run_id).info.status == "FINISHED"
    assert len(client.get_metric_history(run_id, "loss")) == 50


WRITER = """
import os, sys, time, gitrun
count = int(sys.argv[1])
for i in range(count):
    if i == count - 1:
        # The test stops the pruner (and waits for its last git command) before the last
        # run: a prune still deleting after this process has exited is out of its reach.
        open("ready", "w").close()
        while not os.path.exists("go"):
            time.sleep(0.05)
    with gitrun.start_run() as run:
        gitrun.log_param("i", i)
        for step in range(100):
            gitrun.log_metric("loss", float(step), step=step)
    print(run.info.run_id, flush=True)
"""
PRUNER = """
import os, subprocess, time
while not os.path.exists("stop"):
    subprocess.run(["git", "prune", "--expire=now"], capture_output=True)
    subprocess.run(["git", "gc", "-q", "--prune=now"], capture_output=True)
"""


@pytest.mark.parametrize("trial", range(trials(1, 12)))
def test_prune_during_logging_never_loses_an_ended_run(in_repo: Path, trial: int) -> None:
    git(in_repo, "config", "gc.auto", "0")
    pruner = subprocess.Popen([sys.executable, "-c", PRUNER], cwd=in_repo)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, "15"],
        cwd=in_repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "GITRUN_FLUSH_INTERVAL": "0.2", "GITRUN_AUTO_GC": "0"},
    )
    try:
        deadline = time.time() + 300
        while not (in_repo / "ready").exists() and writer.poll() is None and time.time() < deadline:
            time.sleep(0.05)
    finally:
        (in_repo / "stop").touch()
        pruner.wait(timeout=300)
        (in_repo / "go").touch()
    out, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err.decode()
    ended = out.decode().split()
    assert len(ended) == 15
    client = MlflowClient()
    for run_id in ended:
        run = client.get_run(run_id)
        assert run.info.status == "FINISHED"
        assert [m.step for m in client.get_metric_history(run_id, "loss")] == list(range(100))
    found = {r.info.run_id for r in client.search_runs(["0"], max_results=1000)}
    assert set(ended) <= found
    assert not list((in_repo / ".git" / "gitrun" / "journal").glob("*.jnl"))
    # Nothing the records ref reaches is missing: the repository still pushes.
    fsck = subprocess.run(["git", "fsck", "--connectivity-only"], cwd=in_repo, capture_output=True, text=True)
    assert "missing" not in fsck.stdout + fsck.stderr, fsck.stdout + fsck.stderr


def test_a_records_commit_deleted_after_exit_gives_a_clear_error(in_repo: Path) -> None:
    """git's unsafe case beyond any process's reach: the previous commit of the ref's
    reflog is served, said clearly; with no intact commit left, a clear error."""
    client = MlflowClient()
    client.create_run("0")
    client.flush()
    tracking_session.close_all()
    tip = git(in_repo, "rev-parse", "refs/gitrun/records").strip()
    (in_repo / ".git" / "objects" / tip[:2] / tip[2:]).unlink()
    listed = cli(in_repo, "runs", "ls")
    assert listed.returncode == 0, listed.stderr
    assert b"which git pruned" in listed.stderr and b"from its reflog instead" in listed.stderr
    (in_repo / ".git" / "logs" / "refs" / "gitrun" / "records").unlink()
    listed = cli(in_repo, "runs", "ls")
    assert listed.returncode == 1
    assert b"is missing" in listed.stderr and b"no intact commit" in listed.stderr
