"""Which runs differ between two records trees, in time that follows the change.

The ``runs/`` fan-out (:func:`.layout.run_dir`) is compared with
:func:`~gitrun.core.git.trees.diff_trees` down to the run directories, reading only
subtrees whose ids differ.  The index update, push/fetch reports and the artifact
upload before a push all ask this one question.
"""

from __future__ import annotations

from collections.abc import Iterator

from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from gitrun.core.git.trees import diff_trees
from gitrun.core.records import layout


def runs_tree(repo: Repository, commit: Oid | None) -> Oid | None:
    """The ``runs/`` tree of a records commit (None for no commit or no runs)."""
    if commit is None:
        return None
    entry = repo.lookup(repo.read_commit(commit).tree, layout.RUNS_DIR)
    return entry.oid if entry is not None and entry.is_tree else None


def changed_runs(
    repo: Repository, old: Oid | None, new: Oid | None
) -> Iterator[tuple[str, Oid | None, Oid | None]]:
    """``(run_id, old run tree, new run tree)`` for every run directory that differs
    between two ``runs/`` trees (None on the side where the run is absent), by run id."""
    for change in diff_trees(repo, old, new, depth=layout.FANOUT_DEPTH):
        if change.old_tree != change.new_tree:
            yield change.name, change.old_tree, change.new_tree
