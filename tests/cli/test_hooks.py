"""Git hooks with real `git commit` and `git push`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gitrun.hooks.shim import render
from tests.cli.test_run_cli import gitrun_cli
from tests.conftest import git

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cloned(work_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(work_repo), str(remote))
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(remote), str(clone))
    monkeypatch.chdir(clone)
    return clone, remote


def _log_run(repo: Path) -> str:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import gitrun\nwith gitrun.start_run() as r:\n    gitrun.log_metric('m', 1)\n"
            "print(r.info.run_id)",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def _remote_runs(remote: Path) -> str:
    """The runs a newcomer fetching from ``remote`` would see."""
    from tests.core.records.test_sync import remote_run_ids

    return " ".join(sorted(remote_run_ids(remote, remote.parent / "newcomer.git")))


def test_pre_push_chains_existing_hook_and_pushes_runs(cloned: tuple[Path, Path]) -> None:
    clone, remote = cloned
    existing = clone / ".git/hooks/pre-push"
    existing.write_text('#!/bin/sh\nwhile read line; do echo "$line" >> "$(dirname "$0")/../seen"; done\n')
    existing.chmod(0o755)
    out = gitrun_cli(clone, "hooks", "install")
    assert out.returncode == 0, out.stderr
    assert "pre-push: chained" in out.stdout and "post-commit: installed" in out.stdout
    run_id = _log_run(clone)
    (clone / "new.txt").write_text("x")
    git(clone, "add", "new.txt")
    git(clone, "commit", "-q", "-m", "new")
    push = subprocess.run(["git", "push", "-q", "origin", "HEAD"], cwd=clone, capture_output=True, text=True)
    assert push.returncode == 0, push.stderr
    assert "refs/heads/main" in (clone / ".git/seen").read_text()  # the user's hook ran, with its stdin
    assert run_id in _remote_runs(remote)
    assert git(remote, "rev-parse", "refs/heads/main") == git(clone, "rev-parse", "HEAD")
    # Nothing new: the hook has nothing to do and says nothing.
    again = subprocess.run(["git", "push", "origin", "HEAD"], cwd=clone, capture_output=True, text=True)
    assert again.returncode == 0 and "gitrun" not in again.stderr
    out = gitrun_cli(clone, "hooks", "uninstall")
    assert "pre-push: restored" in out.stdout and "post-commit: removed" in out.stdout
    assert existing.read_text().startswith("#!/bin/sh\nwhile read line")
    assert not (clone / ".git/hooks/post-commit").exists()


def test_hooks_path_is_respected_and_failures_do_not_block(cloned: tuple[Path, Path], tmp_path: Path) -> None:
    clone, remote = cloned
    hooks = tmp_path / "shared-hooks"
    git(clone, "config", "core.hooksPath", str(hooks))
    assert gitrun_cli(clone, "hooks", "install").returncode == 0
    assert (hooks / "pre-push").exists() and not (clone / ".git/hooks/pre-push").exists()
    refuse = remote / "hooks/pre-receive"
    refuse.write_text(
        "#!/bin/sh\nwhile read old new ref; do case $ref in refs/gitrun/*) "
        "echo no runs here; exit 1;; esac; done\n"
    )
    refuse.chmod(0o755)
    _log_run(clone)
    git(clone, "commit", "-q", "--allow-empty", "-m", "empty")
    push = subprocess.run(["git", "push", "origin", "HEAD"], cwd=clone, capture_output=True, text=True)
    assert push.returncode == 0
    assert "gitrun: pre-push hook" in push.stderr and "continuing anyway" in push.stderr
    git(clone, "config", "gitrun.strictHooks", "true")
    git(clone, "commit", "-q", "--allow-empty", "-m", "empty 2")
    blocked = subprocess.run(["git", "push", "origin", "HEAD"], cwd=clone, capture_output=True, text=True)
    assert blocked.returncode != 0 and "blocking" in blocked.stderr


def test_post_commit_links_runs_to_the_commit_holding_their_code(cloned: tuple[Path, Path]) -> None:
    clone, _ = cloned
    assert gitrun_cli(clone, "hooks", "install").returncode == 0
    (clone / "model.py").write_text("DEPTH = 3\n")
    run_id = _log_run(clone)
    git(clone, "add", "model.py")
    commit = subprocess.run(["git", "commit", "-q", "-m", "model"], cwd=clone, capture_output=True, text=True)
    assert commit.returncode == 0, commit.stderr
    head = git(clone, "rev-parse", "HEAD").strip()
    from gitrun import MlflowClient

    tags = MlflowClient().get_run(run_id).data.tags
    assert tags["mlflow.source.git.commit"] == head
    assert tags["gitrun.git.linked_commit"] == head


def test_shipped_hooks_match_the_installer() -> None:
    for hook in ("pre-push", "post-commit"):
        assert (ROOT / "hooks" / hook).read_text() == render(hook, "python3")
        assert os.access(ROOT / "hooks" / hook, os.X_OK)
