"""Who gitrun says wrote a commit or moved a ref."""

from __future__ import annotations

import getpass
import os
import socket


def identity() -> str:
    """``Name <email>`` from git's committer variables, else the user and host."""
    name = os.environ.get("GIT_COMMITTER_NAME") or getpass.getuser()
    email = os.environ.get("GIT_COMMITTER_EMAIL") or f"{name}@{socket.gethostname()}"
    return f"{name} <{email}>"
