"""Shared fixtures: real git repositories in temp dirs, isolated from $HOME."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import gcs_endpoint, s3_endpoint, s3_server  # noqa: F401 - shared fixtures

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
}


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One user cache for the session (the environment listing is cached there)."""
    return tmp_path_factory.mktemp("xdg-cache")


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, shared_cache: Path
) -> Iterator[Path]:
    """Every test runs with its own HOME and no user/system git config."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared_cache))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for key, value in GIT_IDENTITY.items():
        monkeypatch.setenv(key, value)
    for key in list(os.environ):
        if key.startswith(("GITRUN_", "MLFLOW_")):
            monkeypatch.delenv(key)
    (home / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[user]\n\tname = Test\n\temail = t@example.com\n"
    )
    yield home


def git(cwd: Path | str, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}{proc.stdout}")
    return proc.stdout


@pytest.fixture
def work_repo(tmp_path: Path) -> Path:
    """A non-bare repository with one commit on main."""
    repo = tmp_path / "work"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "train.py").write_text("print('train')\n")
    (repo / ".gitignore").write_text("*.log\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "initial")
    return repo


@pytest.fixture(autouse=True)
def fresh_gitrun(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with no open stores and an empty run stack."""
    from gitrun.tracking import fluent, session

    fluent.reset()
    yield
    fluent._end_runs_at_exit()
    session.close_all()
    fluent.reset()


@pytest.fixture
def in_repo(work_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """cwd is a git work tree with one commit: records go into that repository."""
    monkeypatch.chdir(work_repo)
    return work_repo


def records_ref_exists(repo: Path) -> bool:
    return git(repo, "rev-parse", "--verify", "-q", "refs/gitrun/records", check=False).strip() != ""
