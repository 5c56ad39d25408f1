"""Comparing and editing git trees: the one tree diff and the one tree editor.

Both touch only the subtrees that matter: :func:`diff_trees` descends only into
subtrees whose object ids differ (equal ids mean equal contents), so comparing two
100k-run records trees after one new run reads a dozen trees, not 100k;
:func:`apply_edits` rewrites only the trees along the edited paths.  Index updates,
patches sent to remotes, artifact uploads and crash recovery all use them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from gitrun.core.git.objects import MODE_TREE, Oid, TreeEntry
from gitrun.core.git.repo import Repository


@dataclass(frozen=True)
class Change:
    """An entry that differs: ``old`` or ``new`` is None where it was added or removed."""

    path: str
    old: TreeEntry | None
    new: TreeEntry | None

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def new_tree(self) -> Oid | None:
        """The new entry's id when it is a tree (a run directory), else None."""
        return self.new.oid if self.new is not None and self.new.is_tree else None

    @property
    def old_tree(self) -> Oid | None:
        return self.old.oid if self.old is not None and self.old.is_tree else None


def diff_trees(
    repo: Repository,
    old: Oid | None,
    new: Oid | None,
    *,
    depth: int | None = None,
    prefix: str = "",
    descend: Callable[[Change], bool] | None = None,
) -> Iterator[Change]:
    """Every entry that differs between trees ``old`` and ``new`` (None: empty), by path.

    Subtrees with equal ids are skipped without being read.  With ``depth=None`` the
    walk goes down to the leaves: a subtree present on both sides is descended (unless
    ``descend`` says no for it: then it is one change, as a three-way merge settling a
    whole subtree wants), any other difference (added, removed, a blob changed or
    replaced by a tree) is one change.  With ``depth=k`` the entries exactly ``k``
    levels down are compared and reported, whatever their kind, and only trees are
    descended above them (the fan-out ``runs/a/b/c/<run_id>`` is ``depth=3`` from
    ``runs/``).  Names are visited in sorted order.
    """
    if old == new:
        return
    before = repo.read_tree(old) if old is not None else {}
    after = repo.read_tree(new) if new is not None else {}
    for name in sorted(before.keys() | after.keys()):
        a, b = before.get(name), after.get(name)
        if a is not None and b is not None and a.oid == b.oid and a.mode == b.mode:
            continue
        path = prefix + name
        if depth is None:
            change = Change(path, a, b)
            sub_a, sub_b = change.old_tree, change.new_tree
            if sub_a is not None and sub_b is not None and (descend is None or descend(change)):
                yield from diff_trees(repo, sub_a, sub_b, prefix=path + "/", descend=descend)
            else:
                yield change
        elif depth == 0:
            yield Change(path, a, b)
        else:
            sub_a = a.oid if a is not None and a.is_tree else None
            sub_b = b.oid if b is not None and b.is_tree else None
            yield from diff_trees(repo, sub_a, sub_b, depth=depth - 1, prefix=path + "/")


def apply_edits(repo: Repository, tree: Oid | None, edits: Mapping[str, TreeEntry | None]) -> Oid | None:
    """A new tree with entries put (or removed, for None) at slash paths; None when
    the result is empty (empty subtrees are removed, as git never stores them)."""
    entries = dict(repo.read_tree(tree)) if tree else {}
    below: dict[str, dict[str, TreeEntry | None]] = {}
    for path, entry in edits.items():
        head, _, rest = path.partition("/")
        if rest:
            below.setdefault(head, {})[rest] = entry
        elif entry is None:
            entries.pop(head, None)
        else:
            entries[head] = TreeEntry(head, entry.mode, entry.oid)
    for head, sub in below.items():
        current = entries.get(head)
        new = apply_edits(repo, current.oid if current and current.is_tree else None, sub)
        if new is None:
            entries.pop(head, None)
        else:
            entries[head] = TreeEntry(head, MODE_TREE, new)
    return repo.write_tree(entries) if entries else None
