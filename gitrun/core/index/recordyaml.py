"""A fast reader for the YAML that :mod:`gitrun.core.records.yamlfmt` writes.

Building the index reads four small YAML files per run; PyYAML's C loader spends
~1 ms on them, which makes a first build at 100k runs take minutes.  The emitter
only ever writes block mappings indented by two spaces, block sequences of
scalars, and scalars in a handful of shapes, so those are parsed here directly.
Anything else (a hand-edited record, a list of mappings, a YAML escape JSON does
not know) makes :func:`load` fall back to the safe loader, so the result is always
what :func:`gitrun.core.records.yamlfmt.load` returns.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gitrun.core.records import yamlfmt

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./\-]*\Z")
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"-?[0-9]+\.[0-9]*(?:e[-+][0-9]+)?\Z")
_WORDS: dict[str, Any] = {
    "null": None, "true": True, "false": False, ".nan": float("nan"), ".inf": float("inf"),
    "-.inf": float("-inf"), "{}": {}, "[]": [],
}
_RESERVED = frozenset("y n yes no on off true false null ~".split())
_NUMERIC_START = frozenset("-0123456789")
# One line of a block mapping: indentation, a JSON-quoted or plain key, and the
# scalar after ": " (absent when a nested block follows).
_LINE = re.compile(r'( *)(?:("(?:[^"\\]|\\.)*")|([A-Za-z_][A-Za-z0-9_./\-]*)):(?: (\S.*))?\Z')
_decoder = json.JSONDecoder()


class _Unsupported(Exception):
    """Text outside the emitter's subset: let PyYAML read it."""


def load(data: bytes, where: str) -> Any:
    """Parse one record file; same result as ``yamlfmt.load(data, where)``."""
    try:
        text = data.decode("utf-8")
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if not lines:
            raise _Unsupported
        value, end = _block(lines, 0, 0)
        if end != len(lines):
            raise _Unsupported
        return value
    except (_Unsupported, ValueError, IndexError):
        return yamlfmt.load(data, where)


def _scalar(token: str) -> Any:
    first = token[:1]
    if first == '"':
        # JSON's escapes are a subset of YAML's double-quoted ones, except \x.
        if "\\x" in token or not token.endswith('"'):
            raise _Unsupported
        return json.loads(token)
    if first in _NUMERIC_START:
        if _INT.match(token):
            return int(token)
        if _FLOAT.match(token):
            return float(token)
    if token in _WORDS:
        value = _WORDS[token]
        return {} if value == {} else [] if value == [] else value
    if _PLAIN.match(token) and token.lower() not in _RESERVED:
        return token
    raise _Unsupported


def _block(lines: list[str], pos: int, indent: int) -> tuple[Any, int]:
    """Parse the mapping or sequence starting at ``lines[pos]``, indented by ``indent``."""
    if lines[pos].startswith("- ", indent):
        return _sequence(lines, pos, indent)
    out: dict[str, Any] = {}
    count = len(lines)
    while pos < count:
        match = _LINE.match(lines[pos])
        if match is None:
            if lines[pos].startswith(" " * indent + "- "):
                break  # the parent's list
            raise _Unsupported
        spaces, quoted, plain, rest = match.groups()
        width = len(spaces)
        if width < indent:
            break  # the parent's next key
        if width > indent:
            raise _Unsupported  # deeper than any block the emitter writes here
        if quoted is not None:
            if "\\x" in quoted:
                raise _Unsupported
            key = json.loads(quoted)
        elif plain.lower() in _RESERVED:
            raise _Unsupported
        else:
            key = plain
        if key in out:
            raise _Unsupported
        pos += 1
        if rest is not None:
            out[key] = _scalar(rest)
        elif pos < count and lines[pos].startswith(" " * (indent + 2)):
            out[key], pos = _block(lines, pos, indent + 2)
        elif pos < count and lines[pos].startswith(" " * indent + "- "):
            out[key], pos = _sequence(lines, pos, indent)
        else:
            out[key] = None
    return out, pos


def _sequence(lines: list[str], pos: int, indent: int) -> tuple[list[Any], int]:
    prefix = " " * indent + "- "
    items: list[Any] = []
    while pos < len(lines) and lines[pos].startswith(prefix):
        # A nested mapping or list is no scalar shape: _scalar refuses it.
        items.append(_scalar(lines[pos][len(prefix) :]))
        pos += 1
    return items, pos
