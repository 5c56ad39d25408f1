"""`gitrun checkout` / `gitrun reproduce`: exact code in a new worktree, re-run, verify."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from gitrun import MlflowClient
from tests.cli.test_run_cli import gitrun_cli
from tests.conftest import git

TRAIN = """\
import gitrun
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

X, y = load_iris(return_X_y=True)
with gitrun.start_run(run_name="iris-logreg") as run:
    gitrun.log_param("C", 0.5)
    scores = cross_val_score(LogisticRegression(C=0.5, max_iter=500), X, y, cv=3)
    for fold, score in enumerate(scores):
        gitrun.log_metric("fold_accuracy", float(score), step=fold)
    gitrun.log_metric("accuracy", float(scores.mean()))
    print(run.info.run_id)
"""


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts and ".gitrun-reproduce" not in p.parts
    }


def test_reproduce_dirty_run_exactly_and_verify(in_repo: Path, tmp_path: Path) -> None:
    (in_repo / "train.py").write_text(TRAIN)
    git(in_repo, "add", "train.py")
    git(in_repo, "commit", "-q", "-m", "train")
    # Dirty the tree: modified, added (staged) and untracked files, and a deletion.
    (in_repo / "train.py").write_text(TRAIN.replace("C=0.5", "C=0.7").replace('"C", 0.5', '"C", 0.7'))
    (in_repo / "helper.py").write_text("X = 1\n")
    git(in_repo, "add", "helper.py")
    (in_repo / "notes.txt").write_bytes(b"binary\x00\xffdata")
    (in_repo / ".gitignore").unlink()
    expected = _tree_digest(in_repo)
    status_before = git(in_repo, "status", "--porcelain")
    out = subprocess.run(
        [sys.executable, "train.py"], cwd=in_repo, capture_output=True, text=True, check=True
    )
    run_id = out.stdout.strip()

    target = tmp_path / "repro"
    proc = gitrun_cli(in_repo, "reproduce", run_id[:10], "--dir", str(target), "--run", "--verify")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All metrics reproduced." in proc.stdout
    assert _tree_digest(target) == expected  # byte for byte, deletion included
    assert (target / ".gitrun-reproduce" / "requirements.txt").read_text().count("scikit-learn==") == 1
    assert git(in_repo, "status", "--porcelain") == status_before  # the user's tree is untouched
    assert git(target, "diff", "--stat", "HEAD~1", "HEAD")  # the uncommitted changes, as one commit
    client = MlflowClient()
    reproductions = [line for line in proc.stdout.splitlines() if line.startswith("Reproduction run ")]
    new_id = reproductions[0].split()[2].rstrip(":")
    new = client.get_run(new_id)
    assert new.data.tags["gitrun.reproduces"] == run_id
    assert new.data.metrics == client.get_run(run_id).data.metrics
    assert new.info.status == "FINISHED"


def test_verify_fails_when_metrics_differ(in_repo: Path, tmp_path: Path) -> None:
    (in_repo / "noisy.py").write_text(
        "import gitrun, os\nwith gitrun.start_run():\n"
        "    gitrun.log_metric('x', int.from_bytes(os.urandom(4), 'big'))\n"
    )
    out = subprocess.run(
        [sys.executable, "noisy.py"], cwd=in_repo, capture_output=True, text=True, check=True
    )
    del out
    run_id = gitrun_runs(in_repo)[0]
    proc = gitrun_cli(in_repo, "reproduce", run_id, "--dir", str(tmp_path / "r"), "--run", "--verify")
    assert proc.returncode == 1
    assert "DIFFERENT" in proc.stdout and "1 metric series differ: " in proc.stderr and "/x" in proc.stderr
    checkout = gitrun_cli(in_repo, "checkout", run_id, "--dir", str(tmp_path / "r"))
    assert checkout.returncode == 0 and checkout.stdout.startswith("Reusing the worktree of run")
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("x")
    refused = gitrun_cli(in_repo, "checkout", run_id, "--dir", str(other))
    assert refused.returncode == 1 and "not empty" in refused.stderr


def gitrun_runs(repo: Path) -> list[str]:
    listing = git(repo, "ls-tree", "-r", "-d", "--name-only", "refs/gitrun/records", "runs")
    return [p.rsplit("/", 1)[1] for p in listing.split() if p.count("/") == 4]


def test_run_without_code_cannot_be_checked_out(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    out = subprocess.run(
        [sys.executable, "-c", "import gitrun\nwith gitrun.start_run() as r: print(r.info.run_id)"],
        cwd=plain,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ},
    )
    proc = gitrun_cli(plain, "checkout", out.stdout.strip())
    assert proc.returncode == 1 and "recorded no code" in proc.stderr
