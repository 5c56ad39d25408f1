"""Both ref backends against real git: the files backend's corner cases (symbolic ref
depth, packed-refs, HEAD, reflogs, deletion) and reftable through ``git update-ref``."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gitrun.core.git.objects import Oid
from gitrun.core.git.refs import FileRefs, GitRefs, SymrefLoop
from gitrun.core.git.repo import Repository
from gitrun.errors import GitCommandError
from tests.conftest import git
from tests.fidelity.conftest import newer_git_path


def _repo(work_repo: Path) -> Repository:
    repo = Repository.discover(str(work_repo))
    assert repo is not None
    return repo


def _second_commit(work_repo: Path) -> Oid:
    git(work_repo, "commit", "-q", "--allow-empty", "-m", "second")
    return Oid(git(work_repo, "rev-parse", "HEAD").strip())


def test_symbolic_ref_chains_resolve_exactly_as_deep_as_git_resolves(work_repo: Path) -> None:
    heads = work_repo / ".git" / "refs" / "heads"
    (heads / "r0").write_text(git(work_repo, "rev-parse", "HEAD"))
    for i in range(1, 7):
        (heads / f"r{i}").write_text(f"ref: refs/heads/r{i - 1}\n")
    refs = _repo(work_repo).refs
    resolved = 0
    for i in range(7):
        name = f"refs/heads/r{i}"
        theirs = git(work_repo, "rev-parse", "-q", "--verify", name, check=False).strip()
        if theirs:
            assert refs.read(name) == theirs, name
            resolved += 1
        else:
            with pytest.raises(SymrefLoop, match="more than 5 levels"):
                refs.read(name)
    assert resolved == 5  # r0 .. r4: git reads at most five files


def test_packed_refs_without_a_final_newline_and_peeled_lines(work_repo: Path) -> None:
    head = git(work_repo, "rev-parse", "HEAD").strip()
    second = _second_commit(work_repo)
    git(work_repo, "tag", "-a", "-m", "annotated", "v1", head)
    git(work_repo, "update-ref", "refs/gitrun/one", head)
    git(work_repo, "update-ref", "refs/gitrun/two", second)
    git(work_repo, "pack-refs", "--all")
    packed = work_repo / ".git" / "packed-refs"
    text = packed.read_text()
    tag = git(work_repo, "rev-parse", "refs/tags/v1").strip()
    assert "\n^" in text  # the annotated tag's peeled line
    refs = _repo(work_repo).refs
    assert refs.read("refs/gitrun/two") == second
    # Cut short by hand or by another tool: the last line has no newline (git refuses
    # such a file; gitrun still reads the value it names).
    lines = [line for line in text.splitlines() if not line.endswith("refs/gitrun/two")]
    packed.write_text("\n".join([*lines, f"{second} refs/gitrun/two"]))
    assert refs.read("refs/gitrun/two") == second
    assert refs.read("refs/gitrun/tw") is None  # a prefix of a packed name is not that ref
    assert refs.read("refs/gitrun/one") == head
    # A loose ref shadows its packed value; a lock file beside it is not a ref.
    (work_repo / ".git" / "refs" / "gitrun").mkdir(exist_ok=True)
    (work_repo / ".git" / "refs" / "gitrun" / "one").write_text(second + "\n")
    (work_repo / ".git" / "refs" / "gitrun" / "three.lock").write_text(second + "\n")
    listed = refs.list("refs/gitrun/")
    assert listed == {"refs/gitrun/one": second, "refs/gitrun/two": second}
    assert refs.list("refs/tags/") == {"refs/tags/v1": tag}


def test_listing_a_repository_that_never_packed_its_refs(work_repo: Path) -> None:
    assert not (work_repo / ".git" / "packed-refs").exists()
    refs = _repo(work_repo).refs
    head = Oid(git(work_repo, "rev-parse", "HEAD").strip())
    assert refs.list("refs/gitrun/") == {}
    assert refs.compare_and_swap("refs/gitrun/a/b", None, head)
    assert refs.list("refs/gitrun/") == {"refs/gitrun/a/b": head}
    assert refs.list("refs/heads/") == {"refs/heads/main": head}


def test_head_attached_detached_and_missing(work_repo: Path) -> None:
    repo = _repo(work_repo)
    head = git(work_repo, "rev-parse", "HEAD").strip()
    assert repo.refs.head(repo.git_dir) == ("refs/heads/main", head)
    assert repo.head_branch() == "main"
    git(work_repo, "checkout", "-q", "--detach")
    assert repo.refs.head(repo.git_dir) == (None, head)
    assert repo.head_branch() is None
    assert repo.head_commit() == head
    git(work_repo, "symbolic-ref", "HEAD", "refs/remotes/not-a-branch")
    assert repo.head_branch() is None  # only refs/heads/ names are branches
    assert repo.head_commit() is None
    os.unlink(work_repo / ".git" / "HEAD")
    assert repo.refs.head(repo.git_dir) == (None, None)


def test_reflog_newest_first_and_deleting_loose_and_packed_refs(work_repo: Path) -> None:
    repo = _repo(work_repo)
    refs = repo.refs
    assert isinstance(refs, FileRefs)
    first = Oid(git(work_repo, "rev-parse", "HEAD").strip())
    second = _second_commit(work_repo)
    assert refs.reflog("refs/gitrun/x") == []
    assert refs.compare_and_swap("refs/gitrun/x", None, first)
    assert refs.compare_and_swap("refs/gitrun/x", first, second, "second\nmore lines")
    assert refs.reflog("refs/gitrun/x") == [second, first]
    assert git(work_repo, "reflog", "show", "--format=%H %gs", "refs/gitrun/x").splitlines() == [
        f"{second} second",
        f"{first} gitrun",
    ]
    # Deleting with a stale old value changes nothing; with the right one, ref and log go.
    assert not refs.compare_and_swap("refs/gitrun/x", first, None)
    assert refs.read("refs/gitrun/x") == second
    assert refs.compare_and_swap("refs/gitrun/x", second, None)
    assert refs.read("refs/gitrun/x") is None
    assert not (work_repo / ".git" / "logs" / "refs" / "gitrun" / "x").exists()
    assert git(work_repo, "rev-parse", "-q", "--verify", "refs/gitrun/x", check=False) == ""
    # A packed ref: deleted through git, compare-and-delete too.
    assert refs.compare_and_swap("refs/gitrun/p", None, first)
    git(work_repo, "pack-refs", "--all")
    assert not refs.compare_and_swap("refs/gitrun/p", second, None)
    assert refs.read("refs/gitrun/p") == first
    assert refs.compare_and_swap("refs/gitrun/p", first, None)
    assert refs.read("refs/gitrun/p") is None
    assert "refs/gitrun/p" not in (work_repo / ".git" / "packed-refs").read_text()


@pytest.fixture
def reftable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    found = newer_git_path()
    if found is None:
        pytest.skip("no git >= 2.45 here (GITRUN_TEST_NEWER_GIT): reftable needs it")
    monkeypatch.setenv("PATH", f"{os.path.dirname(found)}{os.pathsep}{os.environ['PATH']}")
    repo = tmp_path / "rt"
    git(tmp_path, "init", "-q", "--ref-format=reftable", "-b", "main", str(repo))
    git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    yield repo


def test_reftable_refs_move_through_git(reftable: Path) -> None:
    repo = Repository(str(reftable / ".git"), str(reftable))
    refs = repo.refs
    assert isinstance(refs, GitRefs)
    first = Oid(git(reftable, "rev-parse", "HEAD").strip())
    second = _second_commit(reftable)
    name = "refs/gitrun/records"
    assert refs.read(name) is None
    assert refs.reflog(name) == []
    assert refs.compare_and_swap(name, None, None)  # "must not exist", and it does not
    assert refs.compare_and_swap(name, None, first)
    assert not refs.compare_and_swap(name, None, None)
    assert not refs.compare_and_swap(name, None, second)  # exists already
    assert not refs.compare_and_swap(name, second, first)  # not at that value
    assert refs.compare_and_swap(name, first, second, "move\nsecond line")
    assert refs.read(name) == second == git(reftable, "rev-parse", name).strip()
    assert refs.reflog(name) == [second, first]
    assert git(reftable, "reflog", "show", "--format=%gs", name).splitlines()[0] == "move"
    assert refs.list("refs/gitrun/") == {name: second}
    assert refs.list("refs/heads/") == {"refs/heads/main": second}
    assert refs.head(repo.git_dir) == ("refs/heads/main", second)
    assert repo.head_branch() == "main"
    git(reftable, "checkout", "-q", "--detach", first)
    assert refs.head(repo.git_dir) == (None, first)
    assert not refs.compare_and_swap(name, first, None)
    assert refs.compare_and_swap(name, second, None)
    assert refs.read(name) is None
    assert not (reftable / ".git" / "refs" / "gitrun").exists()  # nothing loose: all in the reftable


def test_reftable_errors_are_not_taken_for_a_lost_race(reftable: Path, tmp_path: Path) -> None:
    refs = GitRefs(str(reftable / ".git"))
    head = Oid(git(reftable, "rev-parse", "HEAD").strip())
    with pytest.raises(GitCommandError, match="invalid ref format"):
        refs.compare_and_swap("refs/gitrun/bad..name", None, head)
    gone = GitRefs(str(tmp_path / "no-repository"))
    with pytest.raises(GitCommandError, match="not a git repository"):
        gone.read("refs/gitrun/records")
    with pytest.raises(GitCommandError, match="not a git repository"):
        gone.list("refs/gitrun/")
    assert gone.reflog("refs/gitrun/records") == []
    assert subprocess.run(["git", "--version"], capture_output=True, check=True).returncode == 0
