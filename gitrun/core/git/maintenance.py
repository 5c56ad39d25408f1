"""Keeping a repository healthy while gitrun writes loose objects into it.

gitrun writes every object loose (like ``git commit`` does); git packs them when
``git gc --auto`` finds too many.  Porcelain commands trigger that for the user, but
plumbing writers do not, so gitrun asks for it when a process that wrote records
exits: a detached ``git gc --auto --quiet`` that does nothing unless git's own
threshold (``gc.auto``, 6,700 loose objects) is passed.
"""

from __future__ import annotations

import os

from gitrun.core.git.cli import spawn_git
from gitrun.errors import GitrunError

_THRESHOLD = 6700


def loose_objects_estimate(objects_dir: str) -> int:
    """Git's own estimate: the loose objects of one fan-out folder, times 256."""
    try:
        return len(os.listdir(os.path.join(objects_dir, "17"))) * 256
    except FileNotFoundError:
        return 0


def gc_in_background_if_needed(common_dir: str) -> bool:
    """Start a detached ``git gc --auto`` when loose objects pile up; True if started."""
    # git's own test: more than ceil(gc.auto / 256) loose objects in objects/17.
    if loose_objects_estimate(os.path.join(common_dir, "objects")) // 256 <= -(-_THRESHOLD // 256):
        return False
    try:
        spawn_git(["gc", "--auto", "--quiet"], git_dir=common_dir, detached=True)
    except (OSError, GitrunError):
        return False  # no git: objects stay loose, which is only slower
    return True
