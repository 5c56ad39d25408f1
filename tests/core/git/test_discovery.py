"""Finding a repository: by asking git, and by gitrun's own walk where no git is installed.

The walk must find what git finds for the layouts it handles (a work tree, a linked
worktree's ``.git`` file, a bare repository); each case is checked against the answer
real git gave before git was taken off PATH.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from gitrun.core.git import discovery
from gitrun.core.git.repo import Repository
from gitrun.errors import UnsupportedRepository
from tests.conftest import git


def _git_says(cwd: Path) -> discovery.Found:
    """What real git answers in ``cwd``."""
    bare = git(cwd, "rev-parse", "--is-bare-repository").strip() == "true"
    git_dir = git(cwd, "rev-parse", "--absolute-git-dir").strip()
    common = git(cwd, "rev-parse", "--git-common-dir").strip()
    common = os.path.realpath(os.path.join(cwd, common))
    top = None if bare else os.path.realpath(git(cwd, "rev-parse", "--show-toplevel").strip())
    return discovery.Found(os.path.realpath(git_dir), common, top)


def _real(found: discovery.Found | None) -> discovery.Found | None:
    if found is None:
        return None
    work = os.path.realpath(found.work_tree) if found.work_tree else None
    return discovery.Found(os.path.realpath(found.git_dir), os.path.realpath(found.common_dir), work)


@pytest.fixture
def layouts(work_repo: Path, tmp_path: Path) -> dict[str, Path]:
    (work_repo / "src" / "deep").mkdir(parents=True)
    linked = tmp_path / "linked"
    git(work_repo, "worktree", "add", "-q", str(linked))
    (linked / "sub").mkdir()
    bare = tmp_path / "bare.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    return {"work": work_repo / "src" / "deep", "linked": linked / "sub", "bare": bare}


@pytest.fixture
def no_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "no-git-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_the_walk_without_git_finds_what_git_finds(
    layouts: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = {name: _git_says(path) for name, path in layouts.items()}
    empty = tmp_path / "no-git-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    discovery._found.clear()
    for name, path in layouts.items():
        assert _real(discovery.discover(str(path))) == expected[name], name
    # A linked worktree's objects and refs are its common dir's.
    linked = expected["linked"]
    assert linked.common_dir != linked.git_dir
    assert linked.common_dir == os.path.realpath(layouts["work"].parent.parent / ".git")


def test_the_walk_without_git(layouts: dict[str, Path], tmp_path: Path, no_git: None) -> None:
    work = layouts["work"].parent.parent
    # Started inside the .git folder itself: the work tree is the folder holding it.
    found = discovery.discover(str(work / ".git" / "refs"))
    assert _real(found) == discovery.Found(
        os.path.realpath(work / ".git"), os.path.realpath(work / ".git"), os.path.realpath(work)
    )
    outside = tmp_path / "outside"
    outside.mkdir()
    assert discovery.discover(str(outside)) is None
    # Rooted exactly at a path: a work tree root, or nothing for a folder inside it.
    at_root = discovery.at(str(work))
    assert at_root is not None and os.path.realpath(at_root.git_dir) == os.path.realpath(work / ".git")
    assert discovery.at(str(outside)) is None


def test_a_script_path_that_does_not_exist_yet_starts_from_its_folder(work_repo: Path) -> None:
    found = discovery.discover(str(work_repo / "not" / "made" / "yet.py"))
    assert found == _git_says(work_repo)


def test_at_is_rooted_exactly_at_the_path(work_repo: Path) -> None:
    (work_repo / "sub").mkdir()
    assert discovery.at(str(work_repo / "sub")) is None  # git is not allowed to look above it
    assert discovery.at(str(work_repo / "train.py")) is None  # not a folder
    found = discovery.at(str(work_repo))
    assert found == _git_says(work_repo)
    assert discovery.at(str(work_repo / ".git")) == found  # its git dir names it too
    repo = Repository.at(str(work_repo))
    assert repo is not None and repo.work_tree == os.path.realpath(work_repo)


def test_a_separate_object_directory_is_refused(work_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(work_repo / ".git" / "objects"))
    (work_repo / "a").mkdir()
    assert discovery.discover(str(work_repo / "a")) == _git_says(work_repo)  # its own: fine
    elsewhere = work_repo.parent / "elsewhere-objects"
    elsewhere.mkdir()
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(elsewhere))
    (work_repo / "b").mkdir()
    with pytest.raises(UnsupportedRepository, match="GIT_OBJECT_DIRECTORY"):
        discovery.discover(str(work_repo / "b"))


def test_a_git_dir_variable_naming_no_repository_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nothing = tmp_path / "nothing"
    nothing.mkdir()
    monkeypatch.setenv("GIT_DIR", str(nothing))
    with pytest.raises(UnsupportedRepository, match=f"GIT_DIR={nothing} is not a git repository"):
        discovery.discover(str(tmp_path))


def test_common_dir_of_a_linked_worktree(layouts: dict[str, Path]) -> None:
    linked_git_dir = _git_says(layouts["linked"]).git_dir
    assert discovery.common_dir(linked_git_dir) == os.path.realpath(layouts["work"].parent.parent / ".git")
    assert discovery.common_dir(str(layouts["bare"])) == str(layouts["bare"])


def test_one_git_call_per_folder_per_process(
    work_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A git on PATH that logs each call, then runs the real one.
    real = shutil.which("git")
    assert real is not None
    wrapper_dir = tmp_path / "logging-git"
    wrapper_dir.mkdir()
    calls = tmp_path / "calls.log"
    wrapper = wrapper_dir / "git"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{wrapper_dir}{os.pathsep}{os.environ['PATH']}")
    (work_repo / "once").mkdir()
    first = discovery.discover(str(work_repo / "once"))
    assert first == discovery.discover(str(work_repo / "once"))
    assert calls.read_text().count("rev-parse") == 1
    outside = tmp_path / "outside-any-repository"
    outside.mkdir()
    assert discovery.discover(str(outside)) is None
    assert discovery.discover(str(outside)) is None
    assert calls.read_text().count("rev-parse") == 3  # nothing found is asked again
