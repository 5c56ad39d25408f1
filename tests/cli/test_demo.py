"""The README's first command: `gitrun demo` records a real search and shows it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gitrun import MlflowClient
from tests.conftest import git


def test_demo_records_and_shows_a_nested_search(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "gitrun.cli", "demo", str(target)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "forest-search" in proc.stdout and "trees=50-depth=None" in proc.stdout
    assert "val_accuracy" in proc.stdout and "FINISHED" in proc.stdout
    commits = git(target, "log", "--oneline", "refs/gitrun/records").splitlines()
    assert commits
    client = MlflowClient(str(target))
    experiment = client.get_experiment_by_name("wine-forest-search")
    assert experiment is not None
    from gitrun.tracking.search import search_runs

    runs = search_runs(client.store, [experiment.experiment_id], max_results=100)
    assert len(runs) == 7
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(children) == 6 and all(0.5 < r.data.metrics["val_accuracy"] <= 1.0 for r in children)
    assert git(target, "status", "--porcelain") == ""  # the demo's work tree is left clean
