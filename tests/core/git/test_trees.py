"""The one tree diff and tree editor, checked against git's own ``diff-tree``."""

from __future__ import annotations

from pathlib import Path

from gitrun.core.git.objects import MODE_BLOB, MODE_EXEC, TreeEntry
from gitrun.core.git.repo import Repository
from gitrun.core.git.trees import Change, apply_edits, diff_trees
from tests.conftest import git


def _blob(repo: Repository, text: str) -> TreeEntry:
    return TreeEntry("", MODE_BLOB, repo.write_blob(text.encode()))


def test_diff_trees_agrees_with_git_diff_tree(work_repo: Path) -> None:
    repo = Repository.discover(str(work_repo))
    assert repo is not None
    old = apply_edits(
        repo,
        None,
        {
            "a/b/c/run1/run.yaml": _blob(repo, "1"),
            "a/b/c/run2/run.yaml": _blob(repo, "2"),
            "a/x/y/run3/run.yaml": _blob(repo, "3"),
            "top.yaml": _blob(repo, "t"),
            "gone/deep/file": _blob(repo, "g"),
            "becomes-tree": _blob(repo, "b"),
        },
    )
    assert old is not None
    new = apply_edits(
        repo,
        old,
        {
            "a/b/c/run1/run.yaml": _blob(repo, "1 changed"),
            "a/b/c/run4/params.yaml": _blob(repo, "4"),
            "gone/deep/file": None,
            "becomes-tree": None,
            "becomes-tree/inside": _blob(repo, "i"),
            "top.yaml": TreeEntry("", MODE_EXEC, repo.write_blob(b"t")),
        },
    )
    assert new is not None and new != old
    # Removing the only file of a folder removes the folder: git never stores empty trees.
    assert repo.lookup(new, "gone") is None
    changes = list(diff_trees(repo, old, new))
    # A folder added or removed whole is one change; git -r lists its files.
    assert {c.path for c in changes if c.old is None or c.new is None} == {"a/b/c/run4", "gone"}

    def leaves(entry: TreeEntry | None, path: str) -> set[str]:
        if entry is None:
            return set()
        if not entry.is_tree:
            return {path}
        return {
            f"{path}/{name}" for name in git(work_repo, "ls-tree", "-r", "--name-only", entry.oid).split()
        }

    ours = set()
    for change in changes:
        before, after = leaves(change.old, change.path), leaves(change.new, change.path)
        ours |= {(p, p in before, p in after) for p in before | after}
    out = git(work_repo, "diff-tree", "-r", "--no-renames", "--name-status", old, new)
    theirs = set()
    for line in out.splitlines():
        status, path = line.split("\t")
        theirs.add((path, status != "A", status != "D"))
    assert ours == theirs
    assert ("top.yaml", True, True) in ours  # a mode change alone is a change
    assert list(diff_trees(repo, new, new)) == []
    # Nothing below an unchanged subtree is reported.
    assert not any(c.path.startswith("a/x/") for c in diff_trees(repo, old, new))


def test_diff_trees_at_a_depth_reports_whole_directories(work_repo: Path) -> None:
    repo = Repository.discover(str(work_repo))
    assert repo is not None
    old = apply_edits(repo, None, {"a/b/run1/f": _blob(repo, "1"), "a/b/run2/f": _blob(repo, "2")})
    new = apply_edits(
        repo, old, {"a/b/run1/f": _blob(repo, "1'"), "a/b/run2/f": None, "a/c/run3/f": _blob(repo, "3")}
    )
    found = [
        (c.path, c.old_tree is not None, c.new_tree is not None) for c in diff_trees(repo, old, new, depth=2)
    ]
    assert found == [("a/b/run1", True, True), ("a/b/run2", True, False), ("a/c/run3", False, True)]
    assert [c.name for c in diff_trees(repo, None, new, depth=2)] == ["run1", "run3"]
    assert list(diff_trees(repo, None, None, depth=2)) == []


def test_apply_edits_empty_result_is_none(work_repo: Path) -> None:
    repo = Repository.discover(str(work_repo))
    assert repo is not None
    tree = apply_edits(repo, None, {"x/y": _blob(repo, "y")})
    assert tree is not None
    assert apply_edits(repo, tree, {"x/y": None}) is None
    assert git(work_repo, "ls-tree", "-r", "--name-only", tree) == "x/y\n"


def test_diff_trees_reports_a_subtree_whole_where_descend_says_no(work_repo: Path) -> None:
    repo = Repository.discover(str(work_repo))
    assert repo is not None
    old = apply_edits(
        repo, None, {"a/b/f": _blob(repo, "1"), "a/c/f": _blob(repo, "2"), "d/f": _blob(repo, "3")}
    )
    new = apply_edits(
        repo, old, {"a/b/f": _blob(repo, "1'"), "a/c/g": _blob(repo, "4"), "d/f": _blob(repo, "3'")}
    )
    asked: list[str] = []

    def descend(change: Change) -> bool:
        asked.append(change.path)
        return change.path != "a/c"

    found = [
        (c.path, c.old_tree is not None, c.new_tree is not None)
        for c in diff_trees(repo, old, new, descend=descend)
    ]
    # "a/c" is one change (both sides trees); everything else goes down to the leaves.
    assert found == [("a/b/f", False, False), ("a/c", True, True), ("d/f", False, False)]
    assert asked == ["a", "a/b", "a/c", "d"]  # asked only about subtrees both sides hold
    assert [c.path for c in diff_trees(repo, old, new, descend=lambda c: False)] == ["a", "d"]
    assert [c.path for c in diff_trees(repo, old, new, descend=lambda c: True)] == [
        c.path for c in diff_trees(repo, old, new)
    ]
