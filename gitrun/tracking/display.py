"""How record text is shown: the storage core's one rule for text that came from a
record (:mod:`gitrun.core.records.text`), published for the outer layers (CLI, UI).

Records travel between machines, so anything printed from one may hold terminal
control sequences or bytes that are not UTF-8: :func:`printable` escapes them,
:func:`readable` shows undecodable bytes as ``\\xHH``, :func:`shell_quote` and
:func:`shell_join` quote a recorded command so that it pastes back exactly.
"""

from __future__ import annotations

from gitrun.core.records.text import printable, readable, shell_join, shell_quote

__all__ = ["printable", "readable", "shell_join", "shell_quote"]
