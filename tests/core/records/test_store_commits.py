"""The record store's commit and read paths against real git: emptied folders, no-op
commits, objects gone before the ref moves, a pruned tip, and the schema check."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from gitrun.core.git.objects import MODE_BLOB, Commit, Oid, TreeEntry
from gitrun.core.git.repo import Repository
from gitrun.core.git.trees import apply_edits
from gitrun.core.records import layout
from gitrun.core.records import store as store_module
from gitrun.core.records.store import Edit, ObjectsRemoved, RecordStore
from gitrun.errors import InvalidRecord
from tests.conftest import git


@pytest.fixture
def store(tmp_path: Path) -> RecordStore:
    return RecordStore(Repository.init_bare(str(tmp_path / "s.git")))


def _ls(store: RecordStore, rev: str = layout.RECORDS_REF) -> list[str]:
    return git(store.repo.git_dir, "ls-tree", "-r", "--name-only", rev).split()


def _blob(store: RecordStore, text: str) -> Edit:
    return Edit(store.repo.write_blob(text.encode()), MODE_BLOB, None)


def test_removing_the_last_file_of_a_folder_removes_the_folder(store: RecordStore) -> None:
    store.commit({"a/b/c.yaml": _blob(store, "c"), "a/d.yaml": _blob(store, "d")}, "two")
    assert _ls(store) == ["a/b/c.yaml", "a/d.yaml", layout.STORE_FILE]
    root = store.root()
    new = apply_edits(store.repo, root, {"a/b/c.yaml": None})
    assert new is not None
    assert git(store.repo.git_dir, "ls-tree", "-r", "-t", "--name-only", new).split() == [
        "a",
        "a/d.yaml",
        layout.STORE_FILE,
    ]
    assert apply_edits(store.repo, None, {"x/y": None}) is None  # nothing left at all


def test_a_commit_that_changes_nothing_makes_no_commit(store: RecordStore) -> None:
    edit = _blob(store, "same")
    store.commit({"f.yaml": edit}, "first")
    tip = store.tip()
    assert store.commit({"f.yaml": edit}, "again") == {"f.yaml": edit.oid}
    assert store.tip() == tip
    assert git(store.repo.git_dir, "rev-list", "--count", layout.RECORDS_REF).strip() == "1"


def test_without_a_merge_function_this_writers_version_wins(store: RecordStore) -> None:
    base = _blob(store, "base")
    store.commit({"f.yaml": base}, "base")
    store.commit({"f.yaml": _blob(store, "theirs")}, "theirs")
    ours = Edit(store.repo.write_blob(b"ours"), MODE_BLOB, base.oid)
    assert store.commit({"f.yaml": ours}, "ours") == {"f.yaml": ours.oid}
    assert git(store.repo.git_dir, "show", f"{layout.RECORDS_REF}:f.yaml") == "ours"


def test_objects_removed_before_the_ref_moves_are_reported(store: RecordStore, tmp_path: Path) -> None:
    store.commit({"f.yaml": _blob(store, "one")}, "one")
    tip = store.tip()
    # Written by another process: this one never held its bytes, so cannot write it again.
    (tmp_path / "extra.txt").write_bytes(b"needed by the edit\n")
    extra = Oid(git(store.repo.git_dir, "hash-object", "-w", str(tmp_path / "extra.txt")).strip())
    os.unlink(os.path.join(store.repo.common_dir, "objects", extra[:2], extra[2:]))
    with pytest.raises(ObjectsRemoved, match=extra):
        store.commit({"g.yaml": _blob(store, "two")}, "two", edit_objects=[extra])
    assert store.tip() == tip  # the ref never moved


def test_a_pruned_tip_is_read_from_the_reflog_and_repaired(store: RecordStore) -> None:
    store.commit({"f.yaml": _blob(store, "one")}, "one")
    intact = store.tip()
    store.commit({"f.yaml": _blob(store, "two")}, "two")
    store.commit({"f.yaml": _blob(store, "three")}, "three")
    broken = store.tip()
    assert intact and broken
    objects = os.path.join(store.repo.common_dir, "objects")
    # The newest commit is gone, and the one before it lost its tree: the reader goes
    # back to the newest commit of the reflog that is whole.
    second = git(store.repo.git_dir, "rev-parse", f"{layout.RECORDS_REF}~1").strip()
    second_tree = git(store.repo.git_dir, "rev-parse", f"{second}^{{tree}}").strip()
    os.unlink(os.path.join(objects, broken[:2], broken[2:]))
    os.unlink(os.path.join(objects, second_tree[:2], second_tree[2:]))
    reader = RecordStore(Repository(store.repo.git_dir))
    store_module._warned.discard(intact)
    with pytest.warns(UserWarning, match="which git pruned"):
        assert reader.tip() == intact
    entry = reader.entry("f.yaml")
    assert entry is not None and reader.repo.read_blob(entry.oid) == b"one"
    # The next write repairs the ref and drops the reflog entries naming lost commits.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader.commit({"g.yaml": _blob(reader, "four")}, "four")
    git(store.repo.git_dir, "fsck", "--no-dangling")
    log = git(store.repo.git_dir, "reflog", "show", "--format=%H", layout.RECORDS_REF).split()
    assert broken not in log and intact in log
    assert git(store.repo.git_dir, "rev-parse", f"{layout.RECORDS_REF}~1").strip() == intact


def test_a_missing_tip_with_no_intact_commit_to_go_back_to_is_an_error(store: RecordStore) -> None:
    store.commit({"f.yaml": _blob(store, "one")}, "one")
    tip = store.tip()
    assert tip is not None
    os.unlink(os.path.join(store.repo.common_dir, "objects", tip[:2], tip[2:]))
    with pytest.raises(InvalidRecord, match="holds no intact commit"):
        RecordStore(Repository(store.repo.git_dir)).tip()


@pytest.mark.parametrize("text", ["schema_version: 99\n", "schema_version: one\n", "- a list\n"])
def test_records_of_a_newer_or_unknown_schema_are_refused(store: RecordStore, text: str) -> None:
    store.commit({layout.STORE_FILE: _blob(store, text)}, "future")
    with pytest.raises(InvalidRecord, match="upgrade gitrun"):
        RecordStore(Repository(store.repo.git_dir)).root()


def test_records_without_a_format_file_are_read(store: RecordStore) -> None:
    # Written by an older gitrun, or by hand: a records commit with no gitrun.yaml.
    repo = store.repo
    tree = apply_edits(repo, None, {"f.yaml": TreeEntry("f.yaml", MODE_BLOB, repo.write_blob(b"x: 1\n"))})
    assert tree is not None
    sig = "t <t@example.com> 1700000000 +0000"
    commit = repo.write_commit(Commit(tree, (), sig, sig, "by hand\n"))
    assert repo.refs.compare_and_swap(layout.RECORDS_REF, None, commit)
    reader = RecordStore(Repository(repo.git_dir))
    assert reader.root() == tree
    entry = reader.entry("f.yaml")
    assert entry is not None
    assert reader.load_yaml(entry.oid, "f.yaml") == {"x": 1}
    assert reader.load_yaml(repo.write_blob(b""), "empty") == {}
    with pytest.raises(InvalidRecord, match="should hold a mapping, found list"):
        reader.load_yaml(repo.write_blob(b"- 1\n"), "listed")


def test_a_pruned_tip_this_process_wrote_is_written_back_not_stepped_back_from(store: RecordStore) -> None:
    """The reflog fallback would lose the runs of the newest commit: a commit this process
    wrote is put back from its write log first, and the ref keeps pointing at it."""
    store.commit({"f.yaml": _blob(store, "one")}, "one")
    store.commit({"f.yaml": _blob(store, "two")}, "two")
    tip = store.tip()
    assert tip is not None
    path = os.path.join(store.repo.common_dir, "objects", tip[:2], tip[2:])
    os.unlink(path)  # `git gc --prune=now` racing this process
    with pytest.warns(UserWarning, match="written again"):
        assert RecordStore(store.repo).tip() == tip
    assert os.path.exists(path)
    assert git(store.repo.git_dir, "show", f"{layout.RECORDS_REF}:f.yaml") == "two"
