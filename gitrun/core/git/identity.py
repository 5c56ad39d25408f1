"""Who gitrun says wrote a commit or moved a ref."""

from __future__ import annotations

import getpass
import os
import socket


def identity() -> str:
    """``Name <email>`` from git's committer variables, else the user and host."""
    name = os.environ.get("GIT_COMMITTER_NAME") or getpass.getuser()
    email = os.environ.get("GIT_COMMITTER_EMAIL") or f"{name}@{socket.gethostname()}"
    return f"{_header_text(name)} <{_header_text(email)}>"


def _header_text(value: str) -> str:
    # Bytes that are not UTF-8 (a user name from the environment, surrogate-escaped) as
    # \xHH; no newlines or angle brackets that would break the commit or reflog header.
    text = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text.replace("\n", " ").replace("<", "").replace(">", "")
