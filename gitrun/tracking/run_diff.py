"""Two runs' differences, as text for people: code (git's own diff of their snapshot
trees), params and environment.

A run's code is a git tree in the repository (its commit plus every uncommitted
change), so ``git diff TREE_A TREE_B`` is the exact code difference, with git's
colours, pager, renames and pathspecs.  This module finds the trees and builds the
command; it never touches the user's work tree, index or branches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gitrun.core.git.cli import run_git_status
from gitrun.core.git.objects import Oid
from gitrun.errors import GitrunError
from gitrun.tracking import details as det
from gitrun.tracking.store import TrackingStore


def code_tree(store: TrackingStore, details: det.RunDetails) -> str:
    """The run's code tree id.

    Raises:
        GitrunError: The run recorded no code, or its tree is missing here.
    """
    tree = details.code.get("tree")
    run_id = details.run.info.run_id
    if not tree:
        raise GitrunError(f"run {run_id[:8]} recorded no code (it was not started inside a git work tree)")
    if not store.repo.odb.contains(Oid(tree)):
        raise GitrunError(f"the code of run {run_id[:8]} (tree {tree[:12]}) is missing from this repository")
    return str(tree)


@dataclass(frozen=True)
class GitDiff:
    """A ``git diff`` to run: its arguments, repository and extra environment."""

    args: list[str]
    git_dir: str
    env: dict[str, str]

    def run(self, *, capture: bool) -> tuple[int, bytes, bytes]:
        """Run it: on the terminal (git's pager and colours), or ``capture``d."""
        return run_git_status(self.args, git_dir=self.git_dir, env=self.env, capture=capture)


def code_diff_command(
    store: TrackingStore,
    old: det.RunDetails,
    new: det.RunDetails,
    paths: Sequence[str] = (),
    *,
    color: bool | None = None,
    pager: bool = True,
    options: Sequence[str] = (),
) -> GitDiff:
    """``git diff`` between two runs' code trees (``color``: None lets git decide)."""
    argv = [] if pager else ["--no-pager"]
    argv += ["diff", *options]
    if color is not None:
        argv.append("--color=always" if color else "--no-color")
    argv += [code_tree(store, old), code_tree(store, new), "--", *paths]
    return GitDiff(argv, store.repo.common_dir, {})


@dataclass(frozen=True)
class Change:
    key: str
    old: Any
    new: Any


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Keys whose value differs (None where a side lacks the key), sorted."""
    return [
        Change(k, old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)
    ]


def environment_changes(old: det.RunDetails, new: det.RunDetails) -> list[Change]:
    """Python, platform and every package whose version differs."""
    summary = changes(
        {k: v for k, v in det.environment_summary(old).items() if k != "packages"},
        {k: v for k, v in det.environment_summary(new).items() if k != "packages"},
    )
    return summary + changes(old.packages, new.packages)
