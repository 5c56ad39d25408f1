"""Long output through a pager, as git does it.

The pager is ``GITRUN_PAGER``, else git's ``core.pager``, else ``PAGER``, else
``less``; ``cat`` or an empty value means no pager.  It is only used when stdout is a
terminal and ``--no-pager`` was not given.  Like git, ``LESS=FRX`` is set unless
``LESS`` is already set: less quits at once when everything fits on one screen,
passes colours through and leaves the output on the screen.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Iterator


def pager_command() -> str | None:
    """The pager to run, or None for no pager."""
    command = os.environ.get("GITRUN_PAGER")
    if command is None:
        command = _git_pager()
    if command is None:
        command = os.environ.get("PAGER")
    if command is None:
        command = "less"
    command = command.strip()
    return None if command in ("", "cat") else command


def _git_pager() -> str | None:
    from gitrun.tracking.repository import config_value

    return config_value("core.pager")


@contextlib.contextmanager
def paged(enabled: bool) -> Iterator[None]:
    """Send what the block prints to stdout through the pager (when one applies)."""
    command = pager_command() if enabled and sys.stdout.isatty() else None
    if command is None:
        yield
        return
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    try:
        proc = subprocess.Popen(command, shell=True, stdin=subprocess.PIPE, env=env)  # noqa: S602 - like git
    except OSError:
        yield
        return
    assert proc.stdin is not None
    original = sys.stdout
    sys.stdout = io.TextIOWrapper(
        proc.stdin, encoding=original.encoding or "utf-8", errors="replace", line_buffering=False
    )
    try:
        yield
    except BrokenPipeError:
        pass  # the user quit the pager early
    finally:
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            sys.stdout.flush()
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            sys.stdout.close()
        sys.stdout = original
        with contextlib.suppress(KeyboardInterrupt):
            proc.wait()
