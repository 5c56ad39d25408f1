"""The git services the outer layers (CLI, hooks) use: finding the repository a
command runs in and running ``git`` itself.

They are the storage core's (:mod:`gitrun.core.git`), published here so that code
above the tracking layer never imports the core directly (an import contract checked
in CI, see ``[tool.importlinter]`` in pyproject.toml): the core can change its
internals while this surface stays.
"""

from __future__ import annotations

from gitrun.core import location
from gitrun.core.git.cli import run_git, run_git_status
from gitrun.core.git.discovery import Found, discover
from gitrun.core.records.layout import run_dir

__all__ = [
    "Found",
    "config_value",
    "discover",
    "record_path",
    "run_git",
    "run_git_status",
    "store_path",
    "work_tree",
]


def store_path(uri: str | None) -> str:
    """The folder a tracking URI (or the environment, or the current directory for
    None) records into: a repository, or a standalone store."""
    return location.resolve(uri).path


def work_tree(path: str) -> str | None:
    """The work tree of the repository ``path`` is in (None: none, or a bare one)."""
    found = discover(path)
    return found.work_tree if found is not None else None


def config_value(key: str) -> str | None:
    """A git configuration value as git reads it from where the command runs (None:
    unset, or no git)."""
    try:
        code, out, _ = run_git_status(["config", "--get", key], git_dir=None)
    except Exception:  # noqa: BLE001 - no git, no repository: nothing configured
        return None
    return out.decode("utf-8", "replace").strip() if code == 0 else None


def record_path(run_id: str) -> str:
    """Where a run's record lives in the records ref's tree (``git show`` takes it)."""
    return run_dir(run_id)
