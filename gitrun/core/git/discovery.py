"""Finding a repository exactly as git does: by asking git.

``git rev-parse`` applies every rule of git's own discovery: ``GIT_DIR``,
``GIT_WORK_TREE``, ``GIT_COMMON_DIR``, ``core.worktree``, ``core.bare``,
``GIT_CEILING_DIRECTORIES``, ``GIT_DISCOVERY_ACROSS_FILESYSTEM``, ``.git`` files
(linked worktrees, submodules) and the ownership check (``safe.directory``).  One
``git rev-parse`` per starting folder per process; found repositories are cached.

When git refuses a repository (another owner, an unknown format) gitrun refuses it
too, before writing anything.  Only when no ``git`` is installed at all does gitrun
fall back to a plain walk up the folders looking for ``.git``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from gitrun.core.git.cli import clean_env, git_executable, run_git_status
from gitrun.errors import GitrunError, UnsupportedRepository

# The variables that steer git's discovery; they are part of the cache key.
_DISCOVERY_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_OBJECT_DIRECTORY",
)
_QUERY = ["rev-parse", "--is-bare-repository", "--absolute-git-dir", "--git-common-dir", "--show-toplevel"]


@dataclass(frozen=True)
class Found:
    """Where a repository's parts are: its git dir, common git dir and work tree."""

    git_dir: str
    common_dir: str
    work_tree: str | None


_found: dict[tuple[str, ...], Found] = {}


def discover(start: str) -> Found | None:
    """The repository git would use when run in ``start`` (the environment applies)."""
    start = os.path.abspath(start)
    while not os.path.isdir(start):  # a script path, or a folder that is gone
        parent = os.path.dirname(start)
        if parent == start:
            break
        start = parent
    key = (start, *(os.environ.get(name, "\0") for name in _DISCOVERY_ENV))
    cached = _found.get(key)
    if cached is not None and os.path.isdir(cached.git_dir):
        return cached
    try:
        git_executable()
    except GitrunError:
        return _walk_up(start)
    found = _ask_git(start, dict(os.environ), explicit_dir=bool(os.environ.get("GIT_DIR")))
    if found is not None:
        _found[key] = found
    return found


def at(path: str) -> Found | None:
    """The repository rooted exactly at ``path`` (its work tree root or its git dir).

    The caller named ``path``: variables like ``GIT_DIR`` do not apply, and git is not
    allowed to look above ``path``.
    """
    path = os.path.abspath(path)
    if not os.path.isdir(path):
        return None
    real = os.path.realpath(path)
    for found in _found.values():
        if real in (found.work_tree, found.git_dir) and os.path.isdir(found.git_dir):
            return found
    try:
        git_executable()
    except GitrunError:
        return _rooted_at(path)
    env = clean_env({"GIT_CEILING_DIRECTORIES": os.path.dirname(real)})
    asked = _ask_git(path, env, explicit_dir=False)
    if asked is None or real not in (asked.work_tree, asked.git_dir):
        return None
    _found[(real, "at")] = asked
    return asked


def _ask_git(cwd: str, env: dict[str, str], *, explicit_dir: bool) -> Found | None:
    code, out, err = run_git_status(_QUERY, cwd=cwd, env=env, exact_env=True)
    lines = out.decode("utf-8", "surrogateescape").splitlines()
    error = err.decode("utf-8", "replace").strip()
    if code != 0 and len(lines) < 3:
        if "not a git repository" in error and not explicit_dir:
            return None
        raise UnsupportedRepository(_refusal(cwd, error))
    bare, git_dir, common = lines[0] == "true", lines[1], lines[2]
    if not os.path.isabs(common):
        common = os.path.join(cwd, common)
    work_tree: str | None = None
    if not bare and code == 0 and len(lines) > 3:
        work_tree = os.path.realpath(lines[3])
    found = Found(os.path.realpath(git_dir), os.path.realpath(common), work_tree)
    objects = env.get("GIT_OBJECT_DIRECTORY")
    if objects and os.path.realpath(objects) != os.path.join(found.common_dir, "objects"):
        raise UnsupportedRepository(
            f"GIT_OBJECT_DIRECTORY={objects} moves this repository's objects elsewhere; gitrun does not "
            "support a separate object directory. Unset it to record runs."
        )
    return found


def _refusal(cwd: str, error: str) -> str:
    if "dubious ownership" in error:
        return (
            f"git refuses the repository at {cwd}: it belongs to another user (git's safe.directory "
            f"check), so gitrun writes nothing there either.\n{error}"
        )
    if "refstorage" in error.lower():
        return (
            f"the repository at {cwd} keeps its refs in a format (extensions.refStorage) this git does "
            f"not know; reftable needs git 2.45 or newer. gitrun writes nothing there.\n{error}"
        )
    if "GIT_DIR" in os.environ and "not a git repository" in error:
        return f"GIT_DIR={os.environ['GIT_DIR']} is not a git repository, so gitrun writes nothing.\n{error}"
    return f"git refuses the repository at {cwd}, so gitrun writes nothing there either.\n{error}"


# -- without git: a plain walk (machines with no git installed) --------------------------------------


def _walk_up(start: str) -> Found | None:
    path = start
    while True:
        found = _rooted_at(path)
        if found is not None:
            return found
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def _rooted_at(path: str) -> Found | None:
    dot_git = os.path.join(path, ".git")
    if os.path.isdir(dot_git) and _looks_like_git_dir(dot_git):
        return _found_at(dot_git, path)
    if os.path.isfile(dot_git):
        with open(dot_git, encoding="utf-8", errors="surrogateescape") as fh:
            line = fh.read().strip()
        if line.startswith("gitdir:"):
            return _found_at(os.path.normpath(os.path.join(path, line[len("gitdir:") :].strip())), path)
    if _looks_like_git_dir(path):
        return _found_at(path, os.path.dirname(path) if os.path.basename(path) == ".git" else None)
    return None


def _found_at(git_dir: str, work_tree: str | None) -> Found:
    return Found(os.path.abspath(git_dir), common_dir(os.path.abspath(git_dir)), work_tree)


def _looks_like_git_dir(path: str) -> bool:
    head = os.path.isfile(os.path.join(path, "HEAD"))
    if head and os.path.isfile(os.path.join(path, "commondir")):
        return True
    return head and os.path.isdir(os.path.join(path, "objects")) and os.path.isdir(os.path.join(path, "refs"))


def common_dir(git_dir: str) -> str:
    """The common git dir of ``git_dir`` (itself, unless it is a linked worktree's)."""
    try:
        with open(os.path.join(git_dir, "commondir"), encoding="utf-8") as fh:
            common = fh.read().strip()
    except FileNotFoundError:
        return git_dir
    return os.path.normpath(os.path.join(git_dir, common))
