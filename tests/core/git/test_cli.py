"""The one place gitrun runs git: the environment it passes and the process helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gitrun.core.git.cli import batch_git, clean_env, run_git, run_git_status, spawn_git
from gitrun.errors import GitCommandError
from tests.conftest import git


def test_git_config_count_reaches_git(work_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What CI systems inject (credential helpers, insteadOf) without writing a config file.
    monkeypatch.setenv("GIT_CONFIG_COUNT", "2")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "gitrun.fromci")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "yes")
    monkeypatch.setenv("GIT_CONFIG_KEY_1", "url.file:///elsewhere/.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_1", "ci:")
    out = run_git(["config", "--get", "gitrun.fromci"], cwd=str(work_repo))
    assert out == b"yes\n"
    out = run_git(["config", "--get-regexp", r"^url\..*insteadof$"], cwd=str(work_repo))
    assert out == b"url.file:///elsewhere/.insteadof ci:\n"


def test_git_allow_protocol_reaches_git(
    work_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "--bare", "-q", str(work_repo), str(bare))
    url = f"file://{bare}"
    assert run_git(["ls-remote", url], cwd=str(work_repo)).endswith(b"refs/heads/main\n")
    # The allow-list forbids file://: git must refuse, so the variable reached it.
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "https")
    with pytest.raises(GitCommandError, match="transport 'file' not allowed"):
        run_git(["ls-remote", url], cwd=str(work_repo))


def test_clean_env_drops_what_redirects_git(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "GIT_DIR",
        "GIT_INDEX_FILE",
        "GIT_WORK_TREE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_CONFIG_PARAMETERS",
    ):
        monkeypatch.setenv(name, "/somewhere")
    monkeypatch.setenv("GIT_CONFIG_KEY_7", "k")
    monkeypatch.setenv("GIT_CONFIG_VALUE_7", "v")
    env = clean_env({"GIT_PAGER": "cat"})
    assert not {"GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_OBJECT_DIRECTORY"} & set(env)
    assert env["GIT_CONFIG_KEY_7"] == "k" and env["GIT_CONFIG_VALUE_7"] == "v"
    assert env["GIT_PAGER"] == "cat" and env["GIT_OPTIONAL_LOCKS"] == "0"
    assert env["HOME"] == os.environ["HOME"]


def test_git_dir_from_a_hook_does_not_redirect_a_command(
    work_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    git(tmp_path, "init", "-q", str(other))
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    head = git(work_repo, "--git-dir", str(work_repo / ".git"), "rev-parse", "HEAD").strip()
    assert run_git(["rev-parse", "HEAD"], cwd=str(work_repo)).decode().strip() == head
    # exact_env: the caller's environment, GIT_DIR included, is what git sees.
    code, _, err = run_git_status(
        ["rev-parse", "HEAD"], cwd=str(work_repo), env=dict(os.environ), exact_env=True
    )
    assert code != 0 and b"HEAD" in err


def test_spawn_and_batch(work_repo: Path) -> None:
    git_dir = str(work_repo / ".git")
    head = git(work_repo, "rev-parse", "HEAD").strip()
    proc = spawn_git(["rev-parse", "HEAD"], git_dir=git_dir, stdout=-1)
    out, _ = proc.communicate()
    assert proc.returncode == 0 and out.decode().strip() == head
    with batch_git(["cat-file", "--batch-check"], git_dir=git_dir) as (requests, answers):
        requests.write(b"HEAD\nnope\n")
        requests.flush()
        first = answers.readline().split()
        assert first[:2] == [head.encode(), b"commit"]
        assert answers.readline() == b"nope missing\n"
