"""What the CLI writes to a terminal: never a control sequence taken from a record.

Run names, params, tags and paths come from records fetched from other people's
machines.  Printed raw, ``ESC`` and ``OSC`` sequences in them could clear the screen,
set the window title, forge hyperlinks, or reorder text (bidirectional overrides).
Values are escaped where they are formatted (:func:`gitrun.tracking.display.printable`);
as a second line of defence :func:`install` wraps stdout and stderr so that whatever
reaches them is escaped the same way, except the colour sequences gitrun itself
writes (SGR, ``ESC [ ... m``) and, on stderr, what progress bars use (``\\r``, cursor
up, erase line).  The raw byte stream (``sys.stdout.buffer``, used to relay the
output of a command run by ``gitrun run``) is left alone: it is the user's own program.
"""

from __future__ import annotations

import re
import sys
import warnings
from typing import Any, TextIO

from gitrun.tracking.display import printable

_STDOUT_UNSAFE = re.compile(
    "(\x1b\\[[0-9;]*m)|[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
    "\u2066-\u2069\ufeff\ud800-\udfff]"
)
_STDERR_UNSAFE = re.compile(
    "(\x1b\\[[0-9;]*[mAK])|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
    "\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def _escape(pattern: re.Pattern[str], text: str) -> str:
    return pattern.sub(lambda m: m.group(1) or printable(m.group()), text)


class SafeTextOutput:
    """A text stream that escapes control characters in everything written to it."""

    def __init__(self, stream: TextIO, pattern: re.Pattern[str]) -> None:
        self._stream = stream
        self._pattern = pattern

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError("write() argument must be str")  # so click sees a text stream
        self._stream.write(_escape(self._pattern, text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def install() -> None:
    """Wrap ``sys.stdout`` and ``sys.stderr``; show warnings as ``gitrun: warning: ...``."""
    if not isinstance(sys.stdout, SafeTextOutput) and sys.stdout is not None:
        sys.stdout = SafeTextOutput(sys.stdout, _STDOUT_UNSAFE)
    if not isinstance(sys.stderr, SafeTextOutput) and sys.stderr is not None:
        sys.stderr = SafeTextOutput(sys.stderr, _STDERR_UNSAFE)
    warnings.showwarning = _show_warning


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    text = str(message)
    text = text.removeprefix("gitrun: ")
    print(f"gitrun: warning: {safe_message(text)}", file=file or sys.stderr)


def safe_message(text: str) -> str:
    """A message (possibly several lines) with every line made printable."""
    return "\n".join(printable(line) for line in text.split("\n"))
