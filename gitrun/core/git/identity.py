"""Who gitrun says wrote a commit or moved a ref, and when: the one :class:`Signature`.

Every commit gitrun writes (records, merges, remote states, the registry, a
reproduced run's code) and every reflog line it appends is signed with
:func:`signature`, which follows git's own order: ``GIT_COMMITTER_NAME`` /
``GIT_COMMITTER_EMAIL``, then ``user.name`` / ``user.email`` from git's config files
(system, global, then the repository's own ``config``, the last one set wins; read
with :mod:`.config`, no ``git`` process, ``include.path`` not followed), then
``$EMAIL`` and the user and host names.  The time comes from :data:`clock` (tests replace it, or pass
``clock=``); times are written in UTC (``+0000``), as gitrun always has.
"""

from __future__ import annotations

import getpass
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from gitrun.core.git import config

clock: Callable[[], float] = time.time
"""Seconds since the epoch for new signatures; replace it to make commits reproducible."""


@dataclass(frozen=True)
class Signature:
    """A git signature: ``Name <email> <seconds> <+hhmm>``."""

    name: str
    email: str
    time: int
    offset_minutes: int = 0

    @property
    def person(self) -> str:
        """``Name <email>``, as git prints an identity."""
        return f"{_header_text(self.name)} <{_header_text(self.email)}>"

    def __str__(self) -> str:
        sign = "-" if self.offset_minutes < 0 else "+"
        hours, minutes = divmod(abs(self.offset_minutes), 60)
        return f"{self.person} {self.time} {sign}{hours:02d}{minutes:02d}"


def signature(git_dir: str | None = None, *, clock: Callable[[], float] | None = None) -> Signature:
    """The committer gitrun signs with in the repository whose (common) git dir is ``git_dir``."""
    name = os.environ.get("GIT_COMMITTER_NAME") or ""
    email = os.environ.get("GIT_COMMITTER_EMAIL") or ""
    if not name or not email:
        configured = _user_config(git_dir)
        name, email = name or configured[0], email or configured[1]
    name = name or getpass.getuser()
    email = email or os.environ.get("EMAIL") or f"{name}@{socket.gethostname()}"
    now = (clock or globals()["clock"])()
    return Signature(name, email, int(now))


def identity(git_dir: str | None = None) -> str:
    """``Name <email>`` of :func:`signature` (for messages and reflogs)."""
    return signature(git_dir).person


_config_cache: dict[str, tuple[tuple[int, int], tuple[str, str]]] = {}


def _config_files(git_dir: str | None) -> list[str]:
    """git's config files in increasing precedence (as ``git config`` reads them)."""
    files: list[str] = []
    if not os.environ.get("GIT_CONFIG_NOSYSTEM"):
        files.append(os.environ.get("GIT_CONFIG_SYSTEM") or "/etc/gitconfig")
    if "GIT_CONFIG_GLOBAL" in os.environ:
        files.append(os.environ["GIT_CONFIG_GLOBAL"])
    else:
        xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        files += [os.path.join(xdg, "git", "config"), os.path.join(os.path.expanduser("~"), ".gitconfig")]
    if git_dir is not None:
        files.append(os.path.join(git_dir, "config"))
    return files


def _user_config(git_dir: str | None) -> tuple[str, str]:
    """``user.name`` and ``user.email`` from git's config files ("" when unset)."""
    name = email = ""
    for path in _config_files(git_dir):
        file_name, file_email = _user_in(path)
        name, email = file_name or name, file_email or email
    return name, email


def _user_in(path: str) -> tuple[str, str]:
    # Re-read only when the file changes: a commit per flush must not parse it each time.
    try:
        info = os.stat(path)
    except OSError:
        return "", ""
    stamp = (info.st_mtime_ns, info.st_size)
    cached = _config_cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    entries = config.read_file(path)
    found = (config.last(entries, "user.name") or "", config.last(entries, "user.email") or "")
    _config_cache[path] = (stamp, found)
    return found


def _header_text(value: str) -> str:
    # Bytes that are not UTF-8 (a user name from the environment, surrogate-escaped) as
    # \xHH; no newlines or angle brackets that would break the commit or reflog header.
    text = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text.replace("\n", " ").replace("<", "").replace(">", "")
