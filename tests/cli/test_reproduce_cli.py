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


SWEEP = """\
import os
import gitrun

noise = float(os.environ.get("NOISE", "0"))
with gitrun.start_run(run_name="sweep") as parent:
    gitrun.log_param("search", "grid")
    for lr in (0.1, 0.01):
        with gitrun.start_run(run_name=f"lr-{lr}", nested=True):
            gitrun.log_param("lr", lr)
            for step in range(5):
                gitrun.log_metric("loss", 1 / (1 + lr * step) + (noise if lr == 0.01 else 0), step=step)
    gitrun.log_metric("best", 0.5)
"""


def test_verify_a_nested_run_checks_the_whole_tree(in_repo: Path, tmp_path: Path) -> None:
    """Reproducing a sweep's child re-runs the sweep and matches children by name and
    params; every series of every run is checked (item 4)."""
    (in_repo / "train.py").write_text(SWEEP)
    git(in_repo, "add", "train.py")
    git(in_repo, "commit", "-q", "-m", "sweep")
    subprocess.run([sys.executable, "train.py"], cwd=in_repo, check=True, capture_output=True)
    client = MlflowClient()
    runs = {r.info.run_name: r.info.run_id for r in client.search_runs(["0"])}
    proc = gitrun_cli(in_repo, "reproduce", "lr-0.1", "--dir", str(tmp_path / "a"), "--run", "--verify")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        f"run {runs['lr-0.1'][:8]} is nested under {runs['sweep'][:8]}: its whole tree is reproduced"
        in proc.stdout
    )
    assert "All metrics reproduced. Checked 3 runs, 3 series, 11 points." in proc.stdout
    table = proc.stdout[proc.stdout.index("Metric series") :]
    assert f"{runs['lr-0.01'][:8]} lr-0.01" in table and f"{runs['lr-0.1'][:8]} lr-0.1" in table

    env = {**os.environ, "NOISE": "0.001"}
    differs = subprocess.run(
        [
            sys.executable,
            "-m",
            "gitrun.cli",
            "reproduce",
            runs["sweep"][:8],
            "--dir",
            str(tmp_path / "b"),
            "--run",
            "--verify",
        ],
        cwd=in_repo,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert differs.returncode == 1
    assert "gitrun: 1 metric series differ: lr-0.01/loss" in differs.stderr  # the child, not the parent
    assert "All metrics reproduced" not in differs.stdout


def test_checkout_prune_removes_gitrun_worktrees_only(in_repo: Path, tmp_path: Path) -> None:
    (in_repo / "train.py").write_text(SWEEP)
    git(in_repo, "add", "train.py")
    git(in_repo, "commit", "-q", "-m", "sweep")
    subprocess.run([sys.executable, "train.py"], cwd=in_repo, check=True, capture_output=True)
    first = gitrun_cli(in_repo, "checkout", "sweep")
    assert first.returncode == 0, first.stderr
    again = gitrun_cli(in_repo, "checkout", "sweep")
    assert again.returncode == 0 and again.stdout.startswith("Reusing the worktree of run")
    edited = gitrun_cli(in_repo, "checkout", "lr-0.1", "--dir", str(tmp_path / "edited"))
    assert edited.returncode == 0, edited.stderr
    (tmp_path / "edited" / "train.py").write_text("# my change\n")
    mine = tmp_path / "mine"
    git(in_repo, "worktree", "add", "-q", "--detach", str(mine))
    pruned = gitrun_cli(in_repo, "checkout", "--prune")
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.count("removed ") == 1 and "edited" in pruned.stderr and "--force" in pruned.stderr
    listed = git(in_repo, "worktree", "list")
    assert str(mine) in listed and str(tmp_path / "edited") in listed
    forced = gitrun_cli(in_repo, "checkout", "--prune", "--force")
    assert "removed " in forced.stdout and str(tmp_path / "edited") not in git(in_repo, "worktree", "list")
    assert str(mine) in git(in_repo, "worktree", "list")  # never the user's own worktrees
