"""Running the ``git`` command: the one place gitrun starts git subprocesses."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence

from gitrun.errors import GitCommandError, GitrunError

# Variables git exports into hooks (GIT_DIR, GIT_INDEX_FILE, ...) would redirect a
# git command gitrun runs on some other repository; drop them, keep the few that only
# carry configuration or credentials handling.
_KEEP = {
    "GIT_EXEC_PATH",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_SSL_CAINFO",
    "GIT_SSL_NO_VERIFY",
    "GIT_ASKPASS",
    "GIT_TERMINAL_PROMPT",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_HTTP_PROXY_AUTHMETHOD",
    "GIT_TRACE",
    "GIT_CURL_VERBOSE",
}


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k in _KEEP}
    # Never write the user's index or take optional locks from a background command.
    env["GIT_OPTIONAL_LOCKS"] = "0"
    if extra:
        env.update(extra)
    return env


def git_executable() -> str:
    exe = shutil.which("git")
    if exe is None:
        raise GitrunError(
            "the `git` command is not installed or not on PATH; it is needed for this operation"
        )
    return exe


def _argv(git_dir: str | None, work_tree: str | None, args: Sequence[str]) -> list[str]:
    argv = [git_executable()]
    if git_dir is not None:
        argv.append(f"--git-dir={git_dir}")
    if work_tree is not None:
        argv.append(f"--work-tree={work_tree}")
    return argv + list(args)


def run_git_status(
    args: Sequence[str],
    *,
    git_dir: str | None = None,
    work_tree: str | None = None,
    cwd: str | None = None,
    input_bytes: bytes | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> tuple[int, bytes, bytes]:
    """Run git and return ``(exit code, stdout, stderr)`` without raising."""
    proc = subprocess.run(
        _argv(git_dir, work_tree, args),
        cwd=cwd,
        input=input_bytes,
        capture_output=True,
        env=clean_env(env),
        timeout=timeout,
        check=False,
    )
    return proc.returncode, proc.stdout, proc.stderr


def run_git(
    args: Sequence[str],
    *,
    git_dir: str | None = None,
    work_tree: str | None = None,
    cwd: str | None = None,
    input_bytes: bytes | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float | None = None,
) -> bytes:
    """Run git and return its stdout; raise GitCommandError when it fails."""
    code, out, err = run_git_status(
        args, git_dir=git_dir, work_tree=work_tree, cwd=cwd, input_bytes=input_bytes, env=env, timeout=timeout
    )
    if check and code != 0:
        raise GitCommandError(list(args), code, err.decode("utf-8", "replace"))
    return out
