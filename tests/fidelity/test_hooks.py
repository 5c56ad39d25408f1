"""Hooks in every setup people have: husky, hook managers, global and tracked
``core.hooksPath``, the pre-commit framework; and a post-commit hook that costs
nothing when there is nothing to link."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from gitrun.errors import GitrunError
from gitrun.hooks import install as inst
from tests.cli.test_run_cli import gitrun_cli
from tests.conftest import git
from tests.fidelity.conftest import files_of, new_repo, record_run


def _with_remote(tmp_path: Path, name: str) -> tuple[Path, Path]:
    remote = tmp_path / f"{name}-remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    repo = new_repo(tmp_path / name)
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "HEAD")
    return repo, remote


def _push(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "push", "origin", "HEAD"], cwd=repo, capture_output=True, text=True)


HUSKY_H = """#!/usr/bin/env sh
n=$(basename "$0")
s=$(dirname "$(dirname "$0")")/$n
[ ! -f "$s" ] && exit 0
sh -e "$s" "$@"
"""


def test_husky_is_left_alone_and_its_hooks_keep_blocking(tmp_path: Path) -> None:
    repo, _ = _with_remote(tmp_path, "husky")
    husky = repo / ".husky"
    (husky / "_").mkdir(parents=True)
    (husky / "_" / "h").write_text(HUSKY_H)
    (husky / "_" / ".gitignore").write_text("*\n")
    for hook in ("pre-push", "post-commit"):
        (husky / "_" / hook).write_text('#!/usr/bin/env sh\n. "$(dirname "$0")/h"\n')
        (husky / "_" / hook).chmod(0o755)
    (husky / "pre-push").write_text("echo 'lint failed' >&2\nexit 1\n")
    git(repo, "add", ".husky/pre-push")
    git(repo, "commit", "-q", "-m", "husky")
    git(repo, "config", "core.hooksPath", ".husky/_")
    before = files_of(husky)
    out = gitrun_cli(repo, "hooks", "install")
    assert out.returncode == 1
    assert "husky" in out.stderr and "gitrun hooks run pre-push" in out.stderr
    assert files_of(husky) == before
    assert git(repo, "status", "--porcelain") == ""
    blocked = _push(repo)
    assert blocked.returncode != 0 and "lint failed" in blocked.stderr  # the user's hook still blocks


def test_a_tracked_hooks_folder_is_never_written(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "team", files={".githooks/pre-push": "#!/bin/sh\nexit 0\n", "a.py": "a\n"})
    git(repo, "config", "core.hooksPath", ".githooks")
    out = gitrun_cli(repo, "hooks", "install")
    assert out.returncode == 1 and "inside the work tree" in out.stderr
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(repo, "config", "--get", "gitrun.hooks", check=False) == ""


def test_a_hook_that_dispatches_on_its_name_keeps_its_name(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    hooks = repo / ".git" / "hooks"
    # husky v4 / overcommit style: one script, copied under each hook's name.
    dispatcher = '#!/bin/sh\necho "ran $(basename "$0")" >> "$(dirname "$0")/../dispatched"\n'
    (hooks / "post-commit").write_text(dispatcher)
    (hooks / "post-commit").chmod(0o755)
    changes = {c.hook: c for c in inst.install(str(repo))}
    assert changes["post-commit"].action == "left alone"
    assert "gitrun hooks run post-commit" in changes["post-commit"].advice
    assert (hooks / "post-commit").read_text() == dispatcher
    git(repo, "commit", "-q", "--allow-empty", "-m", "x")
    assert (repo / ".git" / "dispatched").read_text() == "ran post-commit\n"


def test_a_global_hooks_path_acts_only_in_repositories_that_opted_in(
    tmp_path: Path, isolated_home: Path
) -> None:
    global_hooks = isolated_home / "git-hooks"
    git(tmp_path, "config", "--global", "core.hooksPath", str(global_hooks))
    opted, opted_remote = _with_remote(tmp_path, "opted")
    other, other_remote = _with_remote(tmp_path, "other")
    out = gitrun_cli(opted, "hooks", "install")
    assert out.returncode == 0, out.stderr
    assert (global_hooks / "pre-push").exists() and "every repository" in out.stdout
    record_run(opted)
    # In the other repository, commits and pushes go through the same global hooks.
    (other / "train.py").write_text("print('other')\n")
    git(other, "commit", "-q", "-am", "change")
    assert _push(other).returncode == 0
    assert git(other, "for-each-ref", "refs/gitrun/") == ""
    assert git(other_remote, "for-each-ref", "refs/gitrun/") == ""
    assert not (other / ".git" / "gitrun").exists()
    git(opted, "commit", "-q", "--allow-empty", "-m", "x")
    assert _push(opted).returncode == 0
    assert "refs/gitrun/log" in git(opted_remote, "for-each-ref", "--format=%(refname)")


def test_hooks_installed_before_opt_in_existed_still_act_in_their_own_repository(tmp_path: Path) -> None:
    from gitrun.hooks.run import opted_in

    repo = new_repo(tmp_path / "repo")
    os.chdir(repo)
    assert opted_in()  # hooks in the repository's own folder: only it runs them
    git(repo, "config", "core.hooksPath", str(tmp_path / "elsewhere"))
    assert opted_in()  # set in this repository's own config
    git(repo, "config", "--unset", "core.hooksPath")
    git(repo, "config", "--global", "core.hooksPath", str(tmp_path / "everywhere"))
    assert not opted_in()
    git(repo, "config", "gitrun.hooks", "true")
    assert opted_in()


def test_post_commit_starts_no_python_when_there_is_nothing_to_link(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    calls = tmp_path / "python-calls"
    fake_python = tmp_path / "fake-python"
    fake_python.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    fake_python.chmod(0o755)
    inst.install(str(repo), python=str(fake_python))
    record_run(repo)  # a clean work tree: its run already points at HEAD
    git(repo, "commit", "-q", "--allow-empty", "-m", "nothing to link")
    assert not calls.exists()
    (repo / "model.py").write_text("DEPTH = 3\n")
    record_run(repo)  # recorded on uncommitted code
    git(repo, "add", "model.py")
    git(repo, "commit", "-q", "-m", "commit that very code")
    assert "-m gitrun.hooks post-commit" in calls.read_text()


@pytest.mark.skipif(shutil.which("pre-commit") is None, reason="the pre-commit framework is not installed")
def test_the_pre_commit_framework_runs_gitrun(tmp_path: Path, isolated_home: Path) -> None:
    repo = new_repo(
        tmp_path / "repo",
        files={
            ".pre-commit-config.yaml": (
                "repos:\n  - repo: local\n    hooks:\n      - id: gitrun-link-runs\n"
                "        name: gitrun link runs\n        entry: gitrun hooks run post-commit\n"
                "        language: system\n        stages: [post-commit]\n        always_run: true\n"
                "        pass_filenames: false\n"
            )
        },
    )
    env = {**os.environ, "PRE_COMMIT_HOME": str(isolated_home / "pre-commit")}
    subprocess.run(
        ["pre-commit", "install", "--hook-type", "post-commit"],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )
    # gitrun's installer leaves pre-commit's hook alone and says how to add gitrun to it.
    changes = {c.hook: c for c in inst.install(str(repo))}
    assert changes["post-commit"].action == "left alone"
    (repo / "model.py").write_text("DEPTH = 4\n")
    run_id = record_run(repo)
    git(repo, "add", "model.py")
    done = subprocess.run(
        ["git", "commit", "-q", "-m", "model"], cwd=repo, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    os.chdir(repo)
    from gitrun import MlflowClient

    tags = MlflowClient().get_run(run_id).data.tags
    assert tags["gitrun.git.linked_commit"] == git(repo, "rev-parse", "HEAD").strip()


def test_install_refuses_clearly_outside_a_work_tree(tmp_path: Path) -> None:
    with pytest.raises(GitrunError):
        inst.install(str(tmp_path))


def test_a_push_deleting_the_shared_runs_log_is_blocked(tmp_path: Path) -> None:
    repo, remote = _with_remote(tmp_path, "shared")
    assert gitrun_cli(repo, "hooks", "install").returncode == 0
    record_run(repo)
    git(repo, "commit", "-q", "--allow-empty", "-m", "x")
    assert _push(repo).returncode == 0
    shared = git(remote, "rev-parse", "refs/gitrun/log").strip()
    deleting = subprocess.run(
        ["git", "push", "origin", ":refs/gitrun/log"], cwd=repo, capture_output=True, text=True
    )
    assert deleting.returncode != 0 and "would delete refs/gitrun/log" in deleting.stderr
    assert git(remote, "rev-parse", "refs/gitrun/log").strip() == shared
    # `git push --mirror` does not tell pre-push hooks about the refs it deletes
    # (git passes no line for them): docs/repositories.md warns about it instead.
