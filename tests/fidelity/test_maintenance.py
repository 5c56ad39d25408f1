"""gitrun's objects survive git's own maintenance, during and after a run."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from gitrun.core.git.objects import MODE_BLOB, Oid, TreeEntry
from gitrun.core.git.repo import Repository
from tests.conftest import git
from tests.fidelity.conftest import new_repo, record_run

ROOT = Path(__file__).resolve().parents[2]


def _soak_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("soak_maintenance", ROOT / "bench" / "soak_maintenance.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_writers_lose_nothing_while_gc_repack_and_maintenance_loop(tmp_path: Path) -> None:
    """The short soak (bench/soak_maintenance.py runs the long one)."""
    soak = _soak_module()
    result = soak.run_soak(soak.make_repository(tmp_path / "repo"), writers=4, seconds=12)
    assert result.maintenance_runs >= 3, "maintenance really ran during the writes"
    assert result.points > 0
    assert result.errors == []
    assert (result.failed_flushes, result.lost, result.fsck) == (0, 0, "")


def test_runs_survive_gc_prune_now_after_they_ended(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    (repo / "train.py").write_text("print('dirty')\n")
    run_id = record_run(repo)
    git(repo, "gc", "-q", "--prune=now")
    git(repo, "fsck", "--no-dangling")
    code = git(
        repo, "show", f"refs/gitrun/records:runs/{run_id[0]}/{run_id[1]}/{run_id[2]}/{run_id}/code/train.py"
    )
    assert code == "print('dirty')\n"


def test_pack_index_version_1_is_read(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    first = record_run(repo)
    git(repo, "-c", "pack.indexVersion=1", "repack", "-adq")
    indexes = list((repo / ".git/objects/pack").glob("*.idx"))
    assert indexes and all(idx.read_bytes()[:4] != b"\377tOc" for idx in indexes)  # version 1: no header
    second = record_run(repo, "print(gitrun.get_run(run.info.run_id).data.metrics)")
    import os

    from gitrun import MlflowClient

    os.chdir(repo)
    assert MlflowClient().get_run(first).data.metrics == {"m": 0.5}
    assert second != first
    git(repo, "fsck", "--no-dangling")


def test_fan_out_folders_removed_by_git_are_made_again(tmp_path: Path) -> None:
    repo = Repository.init_bare(str(tmp_path / "store.git"))
    blobs = [repo.write_blob(f"object {i}".encode()) for i in range(64)]
    tree = repo.write_tree([TreeEntry(f"f{i}", MODE_BLOB, b) for i, b in enumerate(blobs)])
    assert tree
    # What prune-packed does after `git gc`: loose objects go, and so do their folders.
    git(repo.git_dir, "repack", "-adq")
    git(repo.git_dir, "prune-packed")
    for folder in Path(repo.common_dir, "objects").iterdir():
        if len(folder.name) == 2:
            shutil.rmtree(folder)
    fresh = [repo.write_blob(f"new object {i}".encode()) for i in range(64)]
    assert all(git(repo.git_dir, "cat-file", "-t", oid).strip() == "blob" for oid in fresh)


def test_a_commit_never_points_at_an_object_git_removed(tmp_path: Path) -> None:
    """An object this process wrote and remembers, removed by git before the next commit:
    the commit notices and writes it again (from the process's write log)."""
    from gitrun.core.records.store import Edit, RecordStore

    repo = Repository.init_bare(str(tmp_path / "store.git"))
    store = RecordStore(repo)
    blob = repo.write_blob(b"payload")
    path = Path(repo.common_dir, "objects", blob[:2], blob[2:])
    path.unlink()  # `git prune --expire=now` of a not-yet-referenced object
    with pytest.warns(UserWarning, match="written again"):
        store.commit({"a.txt": Edit(blob, MODE_BLOB, None)}, "m")
    assert path.exists()
    git(repo.git_dir, "fsck", "--no-dangling")


def test_a_commit_refuses_an_object_git_removed_that_it_cannot_write_again(tmp_path: Path) -> None:
    """An object another process wrote (this one never held its bytes), removed before
    the commit: the ref does not move onto a broken commit."""
    from gitrun.core.records.store import Edit, ObjectsRemoved, RecordStore

    repo = Repository.init_bare(str(tmp_path / "store.git"))
    store = RecordStore(repo)
    (tmp_path / "theirs.txt").write_bytes(b"theirs\n")
    blob = Oid(git(repo.git_dir, "hash-object", "-w", str(tmp_path / "theirs.txt")).strip())
    assert repo.odb.contains(blob)  # seen (and remembered) by this process
    Path(repo.common_dir, "objects", blob[:2], blob[2:]).unlink()
    with pytest.raises(ObjectsRemoved):
        store.commit({"a.txt": Edit(blob, MODE_BLOB, None)}, "m")
    assert store.tip() is None
