"""Creating files and folders inside a repository with the permissions git would give.

In a repository made with ``git init --shared=group`` (``core.sharedRepository``),
git makes every folder it creates group-writable and set-group-id, and every file
group-readable (writable too when the owner may write it).  gitrun does the same,
so that a teammate's git (or gitrun) can write into folders gitrun created.
"""

from __future__ import annotations

import os

from gitrun.core.git.format import shared_mode


def adjust(path: str, shared: int) -> None:
    """Give ``path`` the mode git's ``adjust_shared_perm`` would (nothing when not shared)."""
    if not shared:
        return
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    is_dir = os.path.isdir(path)
    wanted = shared_mode(shared, info.st_mode & 0o7777, is_dir)
    if wanted != info.st_mode & 0o7777:
        try:
            os.chmod(path, wanted)
        except PermissionError:
            pass  # someone else's folder: it was adjusted by whoever created it


def make_dirs(path: str, shared: int) -> None:
    """``os.makedirs(path, exist_ok=True)``, adjusting each folder it creates."""
    if os.path.isdir(path):
        return
    parent = os.path.dirname(path)
    if parent and parent != path and not os.path.isdir(parent):
        make_dirs(parent, shared)
    try:
        os.mkdir(path)
    except FileExistsError:
        return
    adjust(path, shared)
