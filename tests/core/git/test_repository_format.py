"""A repository's format and sharing mode, read by gitrun in this process and checked
against what git itself accepts, refuses and creates."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gitrun.core.git import config
from gitrun.core.git import format as fmt
from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from gitrun.errors import UnsupportedRepository
from tests.conftest import git


def _git_refuses(repo: Path) -> str:
    proc = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=repo, input=b"probe\n", capture_output=True, check=False
    )
    assert proc.returncode != 0, "git accepted a repository gitrun refuses"
    return proc.stderr.decode()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("core.repositoryformatversion", "abc", "not a number"),
        ("core.sharedRepository", "bogus", "is not valid"),
        ("core.sharedRepository", "0460", "unreadable by their owner"),
    ],
)
def test_values_git_refuses_are_refused(tmp_path: Path, key: str, value: str, message: str) -> None:
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", str(repo))
    git(repo, "config", key, value)
    _git_refuses(repo)
    with pytest.raises(UnsupportedRepository, match=message):
        Repository(str(repo / ".git"))


def test_an_unknown_object_format_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", str(repo))
    (repo / ".git" / "config").write_text(
        "[core]\n\trepositoryformatversion = 1\n[extensions]\n\tobjectFormat = sha512\n"
    )
    _git_refuses(repo)
    with pytest.raises(UnsupportedRepository, match="unknown object format 'sha512'"):
        fmt.read(str(repo / ".git"))


def test_promisor_remotes_of_both_spellings_in_order(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", str(repo))
    (repo / ".git" / "config").write_text(
        "[core]\n\trepositoryformatversion = 1\n"
        '[remote "later"]\n\tpromisor = true\n'
        '[remote "not-one"]\n\tpromisor = false\n'
        "[extensions]\n\tpartialClone = origin\n"
        '[remote "origin"]\n\tpromisor = yes\n'
    )
    found = fmt.read(str(repo / ".git"))
    # The extension's remote first (old gits), then the marked ones; each once.
    assert found.promisor_remotes == ("origin", "later")
    assert found.partial_clone
    git(tmp_path, "init", "-q", str(tmp_path / "plain"))
    assert not fmt.read(str(tmp_path / "plain" / ".git")).partial_clone


@pytest.mark.parametrize(
    ("shared", "expected"),
    [("false", 0), ("group", 0o660), ("true", 0o660), ("all", 0o664), ("world", 0o664), ("0640", -0o640)],
)
def test_shared_repository_setting(tmp_path: Path, shared: str, expected: int) -> None:
    entries = config.parse(f"[core]\n\tsharedRepository = {shared}\n")
    assert fmt.shared_permissions(entries, str(tmp_path)) == expected
    # A bare key is git's boolean true: group sharing.
    assert fmt.shared_permissions(config.parse("[core]\n\tsharedRepository\n"), "x") == 0o660


def _modes(path: Path) -> tuple[int, list[int]]:
    """The mode of a folder and of the files in it."""
    return path.stat().st_mode & 0o7777, [f.stat().st_mode & 0o7777 for f in path.iterdir()]


@pytest.mark.parametrize("shared", ["group", "all", "0640", "0600", "umask"])
def test_objects_and_refs_get_the_modes_git_gives(tmp_path: Path, shared: str) -> None:
    old_umask = os.umask(0o022)
    try:
        repo = tmp_path / "repo"
        git(tmp_path, "init", "-q", f"--shared={shared}", str(repo))
        objects = repo / ".git" / "objects"
        ours = Repository(str(repo / ".git"))
        # A blob written by gitrun and one written by git, each in a fan-out folder of its own.
        mine = ours.write_blob(b"written by gitrun\n")
        theirs = _git_blob(repo)
        assert mine[:2] != theirs[:2]
        assert _modes(objects / mine[:2]) == _modes(objects / theirs[:2])
        assert git(repo, "cat-file", "-p", mine) == "written by gitrun\n"
        # A ref in a new folder, by gitrun and by git.
        assert ours.refs.compare_and_swap("refs/ours/x", None, Oid(mine))
        git(repo, "update-ref", "refs/theirs/x", theirs)
        assert _modes(repo / ".git" / "refs" / "ours") == _modes(repo / ".git" / "refs" / "theirs")
        git(repo, "fsck", "--no-dangling")
    finally:
        os.umask(old_umask)


def _git_blob(repo: Path) -> str:
    # "git blob 1" hashes to a different first byte than gitrun's blob above.
    proc = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=repo, input=b"written by git 1\n", capture_output=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode().strip()


def test_config_files_read_as_git_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "config"
    # Comments at line starts, a backslash-escaped quote in a subsection, a CRLF
    # continuation line, a value that is only spaces inside quotes.
    path.write_bytes(
        b'# top\n; also\n[core]\n\tname = one \\\r\n two\r\n[remote "a\\"b"]\n\turl = x\n'
        b'[x]\n\tk = "  sp  "\n'
    )
    out = subprocess.run(
        ["git", "config", "--file", str(path), "--list", "-z"], capture_output=True, check=True
    ).stdout.decode()
    theirs = [tuple(item.split("\n", 1)) for item in out.split("\0") if item]
    assert config.read_file(str(path)) == theirs
    assert config.read_file(str(tmp_path / "absent")) == []
    assert config.read_file(str(path / "under-a-file")) == []


def test_lines_that_are_not_settings_are_skipped() -> None:
    # Git stops at such a line; gitrun skips it rather than guess what it meant.
    assert config.parse("[a]\n= bad\n\tk = 1\n") == [("a.k", "1")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [(None, True), ("Yes", True), (" on ", True), ("1", True), ("off", False), ("", False), ("2", None)],
)
def test_booleans_as_git_reads_them(text: str | None, expected: bool | None) -> None:
    assert config.as_bool(text) is expected
