"""Installing and removing gitrun's hooks without losing the user's own."""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass

from gitrun.core.git.cli import run_git
from gitrun.errors import GitrunError
from gitrun.hooks import HOOKS
from gitrun.hooks.shim import CHAINED_SUFFIX, MARKER, render


@dataclass(frozen=True)
class HookChange:
    hook: str
    path: str
    action: str  # "installed", "updated", "chained", "removed", "restored", "absent"


def hooks_dir(work_tree: str) -> str:
    """The folder git runs hooks from (``core.hooksPath`` if set)."""
    out = run_git(["rev-parse", "--git-path", "hooks"], cwd=work_tree).decode().strip()
    return os.path.abspath(os.path.join(work_tree, out))


def _is_ours(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return MARKER in fh.read(4096)
    except FileNotFoundError:
        return False


def install(work_tree: str, python: str | None = None) -> list[HookChange]:
    folder = hooks_dir(work_tree)
    os.makedirs(folder, exist_ok=True)
    changes = []
    for hook in HOOKS:
        path = os.path.join(folder, hook)
        action = "installed"
        if os.path.lexists(path):
            if _is_ours(path):
                action = "updated"
            else:
                chained = path + CHAINED_SUFFIX
                if os.path.lexists(chained):
                    raise GitrunError(
                        f"{chained} already exists; move it away before installing gitrun's hooks"
                    )
                os.replace(path, chained)
                action = "chained"
        tmp = path + ".gitrun-tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(render(hook, python or sys.executable))
        os.chmod(tmp, os.stat(tmp).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)  # noqa: S103 - hooks run
        os.replace(tmp, path)
        changes.append(HookChange(hook, path, action))
    return changes


def uninstall(work_tree: str) -> list[HookChange]:
    folder = hooks_dir(work_tree)
    changes = []
    for hook in HOOKS:
        path = os.path.join(folder, hook)
        chained = path + CHAINED_SUFFIX
        if not _is_ours(path):
            changes.append(HookChange(hook, path, "absent"))
            continue
        if os.path.lexists(chained):
            os.replace(chained, path)
            changes.append(HookChange(hook, path, "restored"))
        else:
            os.unlink(path)
            changes.append(HookChange(hook, path, "removed"))
    return changes
