"""Sharing and reproducing in the layouts people have: mirrors, plain repositories
holding runs, scripts started from subdirectories."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli.test_run_cli import gitrun_cli
from tests.conftest import git
from tests.fidelity.conftest import new_repo, record_run


def test_fetch_from_a_mirror_of_a_developers_repository(tmp_path: Path) -> None:
    dev = new_repo(tmp_path / "dev")
    runs = {record_run(dev), record_run(dev)}  # never pushed: only refs/gitrun/records holds them
    mirror = tmp_path / "mirror.git"
    git(tmp_path, "clone", "-q", "--mirror", str(dev), str(mirror))
    newcomer = new_repo(tmp_path / "newcomer")
    out = gitrun_cli(newcomer, "fetch", str(mirror))
    assert out.returncode == 0, out.stderr
    assert "(no runs)" not in out.stdout
    assert runs <= set(
        git(newcomer, "ls-tree", "-r", "-d", "--name-only", "refs/gitrun/records", "runs")
        .replace("/", " ")
        .split()
    )


def test_fetch_straight_from_a_repository_holding_runs_merges_them(tmp_path: Path) -> None:
    dev = new_repo(tmp_path / "dev")
    theirs = record_run(dev)
    mine_repo = new_repo(tmp_path / "mine")
    mine = record_run(mine_repo)
    out = gitrun_cli(mine_repo, "fetch", str(dev))
    assert out.returncode == 0, out.stderr
    listing = git(mine_repo, "ls-tree", "-r", "-d", "--name-only", "refs/gitrun/records", "runs")
    assert theirs in listing and mine in listing


def test_reproduce_run_of_a_script_started_in_a_subdirectory(tmp_path: Path) -> None:
    repo = new_repo(
        tmp_path / "repo",
        files={
            "pkg/t2.py": (
                "import gitrun\nwith gitrun.start_run() as run:\n    gitrun.log_metric('m', 7.0)\n"
                "print(run.info.run_id)\n"
            )
        },
    )
    out = subprocess.run(
        [sys.executable, "t2.py"], cwd=repo / "pkg", capture_output=True, text=True, check=True
    )
    run_id = out.stdout.split()[-1]
    target = tmp_path / "again"
    proc = gitrun_cli(repo, "reproduce", run_id, "--dir", str(target), "--run", "--verify")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "pkg/pkg" not in proc.stdout + proc.stderr
    assert "All metrics reproduced." in proc.stdout
