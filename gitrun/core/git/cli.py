"""Running the ``git`` command: the one place gitrun starts git subprocesses.

Three helpers cover every use: :func:`run_git` / :func:`run_git_status` run a command
to completion, :func:`spawn_git` starts one gitrun talks to or leaves running (a
detached ``git gc --auto``, a ``git diff`` attached to the terminal), and
:func:`batch_git` streams requests through one long-lived process
(``git cat-file --batch``).  All of them build the environment with :func:`clean_env`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import IO

from gitrun.errors import GitCommandError, GitrunError

# Variables git exports into hooks (GIT_DIR, GIT_INDEX_FILE, ...) would redirect a
# git command gitrun runs on some other repository; drop them, keep the few that only
# carry configuration or credentials handling.  GIT_CONFIG_COUNT/KEY_<n>/VALUE_<n>
# carry configuration a CI system injects (credential helpers, url.*.insteadOf) and
# GIT_ALLOW_PROTOCOL is a security allow-list: pre-commit keeps them for the same reason.
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
    "GIT_CONFIG_COUNT",
    "GIT_ALLOW_PROTOCOL",
    "GIT_HTTP_PROXY_AUTHMETHOD",
    "GIT_TRACE",
    "GIT_CURL_VERBOSE",
}
_KEEP_PREFIXES = ("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_")


def _kept(name: str) -> bool:
    return not name.startswith("GIT_") or name in _KEEP or name.startswith(_KEEP_PREFIXES)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if _kept(k)}
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


def _environment(env: Mapping[str, str] | None, exact_env: bool) -> dict[str, str]:
    if exact_env:
        # The caller built the whole environment on purpose (discovery must see GIT_DIR).
        return {**(env or {}), "GIT_OPTIONAL_LOCKS": "0"}
    return clean_env(env)


def run_git_status(
    args: Sequence[str],
    *,
    git_dir: str | None = None,
    work_tree: str | None = None,
    cwd: str | None = None,
    input_bytes: bytes | None = None,
    env: Mapping[str, str] | None = None,
    exact_env: bool = False,
    capture: bool = True,
    timeout: float | None = None,
) -> tuple[int, bytes, bytes]:
    """Run git and return ``(exit code, stdout, stderr)`` without raising.

    ``env`` adds to :func:`clean_env`, or is the whole environment with ``exact_env``;
    ``capture=False`` leaves stdout/stderr on the terminal (both returned empty).
    """
    proc = subprocess.run(
        _argv(git_dir, work_tree, args),
        cwd=cwd,
        input=input_bytes,
        capture_output=capture,
        env=_environment(env, exact_env),
        timeout=timeout,
        check=False,
    )
    return proc.returncode, proc.stdout or b"", proc.stderr or b""


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


def spawn_git(
    args: Sequence[str],
    *,
    git_dir: str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: int | IO[bytes] | None = subprocess.DEVNULL,
    stdout: int | IO[bytes] | None = subprocess.DEVNULL,
    stderr: int | IO[bytes] | None = subprocess.DEVNULL,
    detached: bool = False,
) -> subprocess.Popen[bytes]:
    """Start git and return the process; ``detached`` puts it in its own session so it
    outlives gitrun's process (and a Ctrl-C in the terminal) untouched.

    Raises:
        OSError: the process could not be started.
    """
    return subprocess.Popen(
        _argv(git_dir, None, args),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        env=clean_env(env),
        start_new_session=detached,
    )


@contextmanager
def batch_git(args: Sequence[str], *, git_dir: str) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    """A long-lived git process (``cat-file --batch``): yields its ``(stdin, stdout)``.

    On leaving, stdout is closed and the process killed and reaped, whether or not it
    answered everything (a reader that stops early must not leave git behind).
    """
    proc = spawn_git(args, git_dir=git_dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        yield proc.stdin, proc.stdout
    finally:
        proc.stdout.close()
        proc.kill()
        proc.wait()
