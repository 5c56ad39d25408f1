"""Which code trees wait for a commit: the post-commit hook's cheap first question.

A run started on uncommitted code records a tree no commit has yet.  When the user
later commits exactly that code, the post-commit hook points the run at the new
commit.  Finding such runs by searching costs a Python start and an index query on
every ``git commit``; instead each such tree is listed, one per line, in
``<common git dir>/gitrun/unlinked-trees``, and the hook's shell shim greps it first
(a few milliseconds; Python starts only on a match).  The list is a hint: a missing
line only means a run is not linked automatically.
"""

from __future__ import annotations

import os

from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository

FILE = "unlinked-trees"


def _path(repo: Repository) -> str:
    return os.path.join(repo.gitrun_dir, FILE)


def unlinked(repo: Repository) -> set[str]:
    try:
        with open(_path(repo), encoding="ascii", errors="replace") as fh:
            return {line.strip() for line in fh if line.strip()}
    except FileNotFoundError:
        return set()


def remember(repo: Repository, tree: Oid) -> None:
    """List ``tree`` as waiting for a commit (once)."""
    if tree in unlinked(repo):
        return
    os.makedirs(repo.gitrun_dir, exist_ok=True)
    # One short O_APPEND write: concurrent writers never interleave within a line.
    fd = os.open(_path(repo), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        os.write(fd, f"{tree}\n".encode())
    finally:
        os.close(fd)


def forget(repo: Repository, tree: str) -> None:
    """``tree`` is committed now: drop it from the list (atomically)."""
    left = unlinked(repo) - {tree}
    tmp = f"{_path(repo)}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="ascii") as fh:
        fh.writelines(f"{t}\n" for t in sorted(left))
    os.replace(tmp, _path(repo))
