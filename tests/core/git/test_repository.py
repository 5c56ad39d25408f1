"""The pure-Python git layer against real git: objects, packs, refs."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from gitrun.core.git.objects import MODE_BLOB, MODE_EXEC, MODE_TREE, Commit, Oid, TreeEntry
from gitrun.core.git.repo import Repository
from gitrun.errors import ResourceDoesNotExist
from tests.conftest import git


def _commit(repo: Repository, tree: Oid, parents: tuple[Oid, ...] = (), msg: str = "m\n") -> Oid:
    sig = "gitrun <gitrun@example.com> 1700000000 +0000"
    return repo.write_commit(Commit(tree, parents, sig, sig, msg))


def test_objects_written_are_valid_for_git(work_repo: Path) -> None:
    repo = Repository.discover(str(work_repo))
    assert repo is not None
    blob = repo.write_blob(b"hello\n")
    assert git(work_repo, "cat-file", "-p", blob) == "hello\n"
    sub = repo.write_tree([TreeEntry("x.txt", MODE_BLOB, blob)])
    tree = repo.write_tree(
        [
            TreeEntry("a", MODE_TREE, sub),
            TreeEntry("a.txt", MODE_EXEC, blob),  # sorts before "a/" in git order
            TreeEntry("ü nicode", MODE_BLOB, blob),
        ]
    )
    commit = _commit(repo, tree)
    assert repo.refs.compare_and_swap("refs/gitrun/test", None, commit)
    assert git(work_repo, "rev-parse", "refs/gitrun/test").strip() == commit
    git(work_repo, "fsck", "--strict", "--no-dangling")
    listing = git(work_repo, "-c", "core.quotePath=false", "ls-tree", "-r", "--name-only", "refs/gitrun/test")
    assert listing.split("\n") == ["a.txt", "a/x.txt", "ü nicode", ""]  # git's order: "a.txt" < "a/"
    assert repo.lookup(tree, "a/x.txt") == TreeEntry("x.txt", MODE_BLOB, blob)
    assert repo.lookup(tree, "a/missing") is None
    assert repo.read_commit(commit).tree == tree


def test_reads_packed_and_deltified_objects(work_repo: Path) -> None:
    # Many similar blobs make `git gc` store deltas (ofs-delta) we must resolve.
    for i in range(30):
        (work_repo / "data.txt").write_text("line\n" * 200 + f"change {i}\n" + "tail\n" * 50)
        git(work_repo, "add", "data.txt")
        git(work_repo, "commit", "-q", "-m", f"c{i}")
    expected = {
        oid: git(work_repo, "cat-file", "-p", oid)
        for oid in git(work_repo, "rev-list", "--objects", "--all").split()
        if len(oid) == 40
    }
    git(work_repo, "gc", "-q", "--aggressive")
    assert not list((work_repo / ".git/objects").glob("[0-9a-f][0-9a-f]/*"))
    repo = Repository.discover(str(work_repo))
    assert repo is not None
    for oid, text in expected.items():
        kind, data = repo.odb.read(Oid(oid))
        if kind == b"blob":
            assert data.decode() == text
        assert git(work_repo, "cat-file", "-t", oid).strip() == kind.decode()
    with pytest.raises(ResourceDoesNotExist):
        repo.odb.read(Oid("0" * 40))


def test_packed_ref_is_read_and_shadowed(work_repo: Path) -> None:
    repo = Repository.discover(str(work_repo))
    assert repo is not None
    head = repo.head_commit()
    assert head is not None
    assert repo.refs.compare_and_swap("refs/gitrun/x", None, head)
    git(work_repo, "pack-refs", "--all")
    assert not (work_repo / ".git/refs/gitrun/x").exists()
    assert repo.refs.read("refs/gitrun/x") == head
    tree = repo.read_commit(head).tree
    new = _commit(repo, tree, (head,))
    assert not repo.refs.compare_and_swap("refs/gitrun/x", None, new)
    assert repo.refs.compare_and_swap("refs/gitrun/x", head, new)
    assert git(work_repo, "rev-parse", "refs/gitrun/x").strip() == new
    assert repo.refs.list("refs/gitrun/") == {"refs/gitrun/x": new}
    assert repo.refs.compare_and_swap("refs/gitrun/x", new, None)
    assert git(work_repo, "rev-parse", "--verify", "-q", "refs/gitrun/x", check=False) == ""


def _hammer(git_dir: str, count: int, tag: int) -> None:
    repo = Repository(git_dir)
    for i in range(count):
        while True:
            tip = repo.refs.read("refs/gitrun/counter")
            entries = dict(repo.read_tree(repo.read_commit(tip).tree)) if tip else {}
            blob = repo.write_blob(f"{tag}-{i}".encode())
            entries[f"{tag}-{i}"] = TreeEntry(f"{tag}-{i}", MODE_BLOB, blob)
            commit = _commit(repo, repo.write_tree(entries), (tip,) if tip else ())
            if repo.refs.compare_and_swap("refs/gitrun/counter", tip, commit):
                break


def test_compare_and_swap_loses_nothing_under_contention(tmp_path: Path) -> None:
    repo = Repository.init_bare(str(tmp_path / "store.git"))
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_hammer, args=(repo.git_dir, 40, n)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    tip = repo.refs.read("refs/gitrun/counter")
    assert tip is not None
    assert len(repo.read_tree(repo.read_commit(tip).tree)) == 160
    assert git(repo.git_dir, "rev-list", "--count", "refs/gitrun/counter").strip() == "160"
    git(repo.git_dir, "fsck", "--strict", "--no-dangling")


def _die_holding_the_lock(git_dir: str, commit: str) -> None:
    """A gitrun writer killed (no cleanup at all) right after it created the ref's lock."""
    from gitrun.core.git import refs

    real_link = os.link

    def link_then_die(src: str, dst: str) -> None:
        real_link(src, dst)
        os._exit(9)

    refs.os.link = link_then_die  # type: ignore[assignment]
    Repository(git_dir).refs.compare_and_swap("refs/gitrun/r", None, Oid(commit))


def test_lock_of_a_killed_gitrun_writer_is_broken(tmp_path: Path) -> None:
    repo = Repository.init_bare(str(tmp_path / "store.git"))
    blob = repo.write_blob(b"x")
    commit = _commit(repo, repo.write_tree([TreeEntry("x", MODE_BLOB, blob)]))
    child = multiprocessing.get_context("fork").Process(
        target=_die_holding_the_lock, args=(repo.git_dir, commit)
    )
    child.start()
    child.join()
    assert child.exitcode == 9
    lock = Path(repo.common_dir) / "refs/gitrun/r.lock"
    assert lock.exists()  # left behind by the dead writer
    assert repo.refs.compare_and_swap("refs/gitrun/r", None, commit)
    assert repo.refs.read("refs/gitrun/r") == commit
    assert not lock.exists()


def test_a_lock_held_by_c_git_is_never_broken(tmp_path: Path) -> None:
    import subprocess

    from gitrun.errors import RefConflict

    repo = Repository.init_bare(str(tmp_path / "store.git"))
    first = _commit(repo, repo.write_tree([TreeEntry("x", MODE_BLOB, repo.write_blob(b"x"))]))
    second = _commit(repo, repo.write_tree([TreeEntry("y", MODE_BLOB, repo.write_blob(b"y"))]))
    assert repo.refs.compare_and_swap("refs/gitrun/r", None, first)
    lock = Path(repo.common_dir) / "refs/gitrun/r.lock"
    # A real C git transaction holding the ref's lock (made old, as a slow update would be).
    git_proc = subprocess.Popen(
        ["git", f"--git-dir={repo.git_dir}", "update-ref", "--stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert git_proc.stdin is not None and git_proc.stdout is not None
    git_proc.stdin.write(f"start\nupdate refs/gitrun/r {second} {first}\nprepare\n")
    git_proc.stdin.flush()
    assert git_proc.stdout.readline().strip() == "start: ok"
    assert git_proc.stdout.readline().strip() == "prepare: ok"
    assert lock.exists()
    os.utime(lock, (1, 1))
    repo.refs.lock_timeout = 0.3  # type: ignore[attr-defined]
    with pytest.raises(RefConflict, match="Another git process"):
        repo.refs.compare_and_swap(
            "refs/gitrun/r", first, _commit(repo, repo.read_commit(first).tree, (first,))
        )
    assert lock.exists()  # still git's
    git_proc.stdin.write("commit\n")
    git_proc.stdin.close()
    assert git_proc.wait() == 0
    assert repo.refs.read("refs/gitrun/r") == second  # git's update landed
    third = _commit(repo, repo.read_commit(second).tree, (second,))
    assert repo.refs.compare_and_swap("refs/gitrun/r", second, third)


def test_dulwich_reads_what_we_write(tmp_path: Path) -> None:
    """An independent implementation agrees with ours on every object."""
    dulwich_repo = pytest.importorskip("dulwich.repo")
    repo = Repository.init_bare(str(tmp_path / "store.git"))
    blob = repo.write_blob("héllo\n".encode())
    sub = repo.write_tree([TreeEntry("x", MODE_BLOB, blob)])
    tree = repo.write_tree([TreeEntry("dir", MODE_TREE, sub), TreeEntry("dir.txt", MODE_BLOB, blob)])
    commit = _commit(repo, tree, msg="dulwich check\n")
    assert repo.refs.compare_and_swap("refs/gitrun/x", None, commit)
    other = dulwich_repo.Repo(str(tmp_path / "store.git"))
    assert other.refs[b"refs/gitrun/x"].decode() == commit
    d_commit = other[commit.encode()]
    assert d_commit.tree.decode() == tree and d_commit.message == b"dulwich check\n"
    names = [entry.path for entry in other[tree.encode()].iteritems()]
    assert names == [b"dir.txt", b"dir"]  # git's order: "dir" sorts as "dir/"
    assert other[blob.encode()].data == "héllo\n".encode()


def test_background_gc_packs_loose_objects(work_repo: Path) -> None:
    from gitrun.core.git import maintenance

    repo = Repository.discover(str(work_repo))
    assert repo is not None
    objects = str(Path(repo.common_dir) / "objects")
    assert not maintenance.gc_in_background_if_needed(repo.common_dir)
    entries = []
    i = 0
    while maintenance.loose_objects_estimate(objects) // 256 <= 27:
        entries.append(TreeEntry(f"f{i}", MODE_BLOB, repo.write_blob(f"blob {i}".encode())))
        i += 1
    # Reachable, as records are: git gc packs reachable loose objects.
    commit = _commit(repo, repo.write_tree(entries))
    assert repo.refs.compare_and_swap("refs/gitrun/records", None, commit)
    assert maintenance.gc_in_background_if_needed(repo.common_dir)
    import time

    deadline = time.time() + 120
    while time.time() < deadline and not list((Path(objects) / "pack").glob("*.pack")):
        time.sleep(0.2)
    assert list((Path(objects) / "pack").glob("*.pack"))
    assert repo.read_blob(entries[5].oid) == b"blob 5"
