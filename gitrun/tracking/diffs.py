"""How code and environments differ: a run's uncommitted changes, two runs' code trees.

A run records its code as a git tree (``code/``: its commit plus every uncommitted
change, see :mod:`gitrun.tracking.capture.code`), so both diffs are git's own
``diff-tree`` between two trees of the records repository, parsed into files and
hunks so that a page can show them without interpreting diff text itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gitrun.core.git.cli import run_git
from gitrun.core.git.objects import Oid
from gitrun.errors import GitrunError
from gitrun.tracking.details import Row, RunDetails, rows
from gitrun.tracking.store import TrackingStore

MAX_PATCH_BYTES = 4 * 2**20
"""A diff larger than this is cut (files past the limit are listed without their hunks)."""
_STATUS = {"A": "added", "D": "deleted", "M": "modified", "R": "renamed", "C": "copied", "T": "type changed"}


@dataclass(frozen=True)
class FileDiff:
    """One file's change: unified-diff lines (each starting with ``' '``, ``+``, ``-`` or ``@@``)."""

    path: str
    old_path: str | None
    status: str
    binary: bool = False
    lines: list[str] = field(default_factory=list)
    added: int = 0
    removed: int = 0


@dataclass(frozen=True)
class CodeDiff:
    """Files that differ between two code trees (``old`` and ``new``: commit or tree ids)."""

    old: str | None
    new: str | None
    files: list[FileDiff]
    truncated: bool = False
    note: str | None = None
    """Why there is no diff (e.g. the commit is not in this store), when there is none."""


def _name_status(git_dir: str, old: str, new: str) -> list[tuple[str, str, str | None]]:
    """``(status, path, old path)`` per changed file, names exact (``-z``: no quoting)."""
    out = run_git(["diff-tree", "-r", "-z", "-M", "--name-status", old, new], git_dir=git_dir)
    fields = out.split(b"\0")
    files: list[tuple[str, str, str | None]] = []
    i = 0
    while i < len(fields) - 1:
        status = fields[i].decode()
        if status[:1] in ("R", "C"):
            source, target = fields[i + 1], fields[i + 2]
            files.append((status[:1], target.decode("utf-8", "replace"), source.decode("utf-8", "replace")))
            i += 3
        else:
            files.append((status[:1], fields[i + 1].decode("utf-8", "replace"), None))
            i += 2
    return files


def _patches(git_dir: str, old: str, new: str) -> list[list[str]]:
    """The patch of each changed file, in ``--name-status`` order."""
    out = run_git(
        [
            "-c",
            "core.quotePath=false",
            "diff-tree",
            "-r",
            "-p",
            "-M",
            "--no-color",
            "--no-ext-diff",
            old,
            new,
        ],
        git_dir=git_dir,
    )
    text = out[:MAX_PATCH_BYTES].decode("utf-8", "replace")
    patches: list[list[str]] = []
    for line in text.split("\n"):
        if line.startswith("diff --git "):
            patches.append([])
        elif patches:
            patches[-1].append(line)
    return patches


def _file_diff(status: str, path: str, old_path: str | None, patch: list[str] | None) -> FileDiff:
    if patch is None:
        return FileDiff(path, old_path, _STATUS.get(status, status))
    binary = any(line.startswith("Binary files ") for line in patch[:8])
    body: list[str] = []
    in_hunks = False
    for line in patch:
        if line.startswith("@@"):
            in_hunks = True
        if in_hunks and line[:1] in (" ", "+", "-", "@", "\\"):
            body.append(line)
    added = sum(1 for line in body if line.startswith("+"))
    removed = sum(1 for line in body if line.startswith("-"))
    return FileDiff(path, old_path, _STATUS.get(status, status), binary, body, added, removed)


def tree_diff(store: TrackingStore, old: str, new: str) -> CodeDiff:
    """The difference between two commits or trees of the records repository.

    Raises:
        GitCommandError: git refused (e.g. an object is missing).
    """
    git_dir = store.repo.common_dir
    if old == new:
        return CodeDiff(old, new, [])
    files = _name_status(git_dir, old, new)
    patches = _patches(git_dir, old, new)
    truncated = len(patches) < len(files)
    out = [
        _file_diff(status, path, old_path, patches[i] if i < len(patches) else None)
        for i, (status, path, old_path) in enumerate(files)
    ]
    return CodeDiff(old, new, out, truncated)


def _code(details: RunDetails) -> tuple[str | None, str | None]:
    return details.code.get("commit") or None, details.code.get("tree") or None


def snapshot_diff(store: TrackingStore, details: RunDetails) -> CodeDiff:
    """What the run's code had beyond its commit: its uncommitted changes, as a diff."""
    commit, tree = _code(details)
    if tree is None:
        return CodeDiff(commit, tree, [], note="no code was recorded for this run")
    if commit is None:
        return CodeDiff(None, tree, [], note="the run's repository had no commit yet")
    if not store.repo.odb.contains(Oid(commit)):
        return CodeDiff(
            commit,
            tree,
            [],
            note=f"commit {commit[:12]} is not in this repository (a standalone store keeps the run's "
            "code tree, not its commit); the changed files are listed in the run's record",
        )
    if not details.code.get("dirty"):
        return CodeDiff(commit, tree, [], note="the work tree was clean: the code is exactly the commit")
    return tree_diff(store, commit, tree)


def runs_code_diff(store: TrackingStore, old: RunDetails, new: RunDetails) -> CodeDiff:
    """The difference between two runs' code trees (uncommitted changes included)."""
    _, old_tree = _code(old)
    _, new_tree = _code(new)
    if old_tree is None or new_tree is None:
        return CodeDiff(old_tree, new_tree, [], note="one of the runs recorded no code")
    for tree in (old_tree, new_tree):
        if not store.repo.odb.contains(Oid(tree)):
            return CodeDiff(old_tree, new_tree, [], note=f"code tree {tree[:12]} is missing from this store")
    try:
        return tree_diff(store, old_tree, new_tree)
    except GitrunError as exc:
        return CodeDiff(old_tree, new_tree, [], note=f"git could not compare the trees: {exc.message}")


@dataclass(frozen=True)
class EnvironmentDiff:
    """Environments of several runs side by side: Python and platform, and packages."""

    summary: list[Row]
    packages: list[Row]
    """Only packages whose version differs (None: not installed in that run)."""
    same_packages: int


def environment_diff(runs: Sequence[RunDetails]) -> EnvironmentDiff:
    """How the recorded environments of ``runs`` differ."""
    from gitrun.tracking.details import environment_summary

    summary = rows([_environment_facts(d, environment_summary(d)) for d in runs], sort=False)
    all_packages = rows([d.packages for d in runs])
    differing = [r for r in all_packages if r.differs]
    return EnvironmentDiff(summary, differing, len(all_packages) - len(differing))


def _environment_facts(details: RunDetails, summary: dict[str, Any]) -> dict[str, Any]:
    env = details.environment
    facts = dict(summary)
    gpu = env.get("gpu")
    if isinstance(gpu, dict):
        facts["gpu"] = ", ".join(f"{k}={v}" for k, v in sorted(gpu.items()))
    variables = env.get("environment_variables")
    if isinstance(variables, dict):
        for name, value in sorted(variables.items()):
            facts[f"env {name}"] = value
    return facts
