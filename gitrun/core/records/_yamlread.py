"""The fast half of :mod:`.yamlfmt`'s reader (private: use ``yamlfmt.load`` & co).

Building the index reads four small YAML files per run; PyYAML's C loader spends
~1 ms on them, which makes a first build at 100k runs take minutes.  The emitter
only ever writes block mappings indented by two spaces, block sequences of
scalars, and scalars in a handful of shapes, so those are parsed here directly.
Anything else (a hand-edited record, a list of mappings, a YAML escape JSON does
not know) makes the readers fall back to the safe loader, so the result is always
what :func:`.yamlfmt.safe_load` returns.  The grammar constants (what may be plain)
are the emitter's own, imported from :mod:`.yamlfmt`, so writer and reader cannot drift.

Three shapes are so common that they get a whole-document regex each (one pass in
C instead of Python per line): flat mappings of strings (``params.yaml``,
``tags.yaml``), the latest-point mapping of ``metrics.yaml``, and the top-level
scalars of ``run.yaml``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from gitrun.core.records import yamlfmt
from gitrun.core.records.text import has_surrogates
from gitrun.core.records.yamlfmt import _PLAIN, _RESERVED
from gitrun.errors import InvalidRecord

_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"-?[0-9]+\.[0-9]*(?:e[-+][0-9]+)?\Z")
_WORDS: dict[str, Any] = {
    "null": None,
    "true": True,
    "false": False,
    ".nan": float("nan"),
    ".inf": float("inf"),
    "-.inf": float("-inf"),
    "{}": {},
    "[]": [],
}
_NUMERIC_START = frozenset("-0123456789")
# One line of a block mapping: indentation, a JSON-quoted or plain key, and the
# scalar after ": " (absent when a nested block follows).
_LINE = re.compile(r'( *)(?:("(?:[^"\\]|\\.)*")|([A-Za-z_][A-Za-z0-9_./\-]*)):(?: (\S.*))?\Z')
_KEY = r'"(?:[^"\\\n]|\\.)*"|[A-Za-z_][A-Za-z0-9_./\-]*'
_FLAT = re.compile(rf"(?:(?:{_KEY}): (?:{_KEY})\n)*")
_FLAT_PAIR = re.compile(rf"({_KEY}): ({_KEY})\n")
_LATEST_NUMBER = r"-?[0-9]+\.[0-9]*(?:e[-+][0-9]+)?|-?\.inf|\.nan"
_LATEST_ENTRY = rf"({_KEY}):\n  step: -?[0-9]+\n  timestamp: -?[0-9]+\n  value: ({_LATEST_NUMBER})\n"
_LATEST = re.compile(
    rf"(?:(?:{_KEY}):\n  step: -?[0-9]+\n  timestamp: -?[0-9]+\n  value: (?:{_LATEST_NUMBER})\n)*"
)
_LATEST_PAIR = re.compile(_LATEST_ENTRY)
_EMPTY = ("", "\n", "{}\n")  # what the emitter writes for an empty mapping
_SPECIAL_FLOATS = {".nan": float("nan"), ".inf": float("inf"), "-.inf": float("-inf")}


class _Unsupported(Exception):
    """Text outside the emitter's subset: let PyYAML read it."""


def load(data: bytes | str, where: str) -> Any:
    """Parse one record file; same result as ``yamlfmt.safe_load(data, where)``."""
    try:
        return _document(data.decode("utf-8") if isinstance(data, bytes) else data)
    except (_Unsupported, ValueError, IndexError):
        return yamlfmt.safe_load(data, where)


def _quoted(token: str) -> str:
    """A JSON-quoted string; YAML-only escapes and lone surrogates (which JSON accepts
    and YAML refuses) are left to the safe loader, so both readers agree."""
    if "\\x" in token:
        raise _Unsupported
    value = json.loads(token)
    if not isinstance(value, str) or ("\\u" in token and has_surrogates(value)):
        raise _Unsupported
    return value


def _key(token: str) -> str:
    if token.startswith('"'):
        return _quoted(token)
    if token.lower() in _RESERVED:
        raise _Unsupported
    return token


def _keys(tokens: Iterable[str]) -> list[str]:
    """Plain or JSON-quoted strings; the quoted ones decoded in one call."""
    out = list(tokens)
    quoted = [i for i, token in enumerate(out) if token.startswith('"')]
    if any(not token.startswith('"') and token.lower() in _RESERVED for token in out):
        raise _Unsupported
    if quoted:
        joined = ",".join(out[i] for i in quoted)
        if "\\x" in joined:
            raise _Unsupported
        values = json.loads(f"[{joined}]")
        if "\\u" in joined and any(has_surrogates(value) for value in values):
            raise _Unsupported
        for i, value in zip(quoted, values, strict=True):
            out[i] = value
    return out


def load_flat(data: bytes, where: str) -> dict[str, Any]:
    """A mapping of strings to strings (``params.yaml``, ``tags.yaml``)."""
    try:
        text = data.decode("utf-8")
        if text in _EMPTY:
            return {}
        if _FLAT.fullmatch(text):
            tokens = _FLAT_PAIR.findall(text)
            return dict(zip(_keys(t[0] for t in tokens), _keys(t[1] for t in tokens), strict=True))
    except (_Unsupported, ValueError):
        pass
    return _mapping(data, where)


def load_latest(data: bytes, where: str) -> dict[str, float]:
    """The latest value of every metric in ``metrics.yaml``."""
    try:
        text = data.decode("utf-8")
        if text in _EMPTY:
            return {}
        if _LATEST.fullmatch(text):
            out = {}
            for key, value in _LATEST_PAIR.findall(text):
                number = _SPECIAL_FLOATS.get(value)
                out[_key(key)] = float(value) if number is None else number
            return out
    except (_Unsupported, ValueError):
        pass
    try:
        return {str(k): float(v["value"]) for k, v in _mapping(data, where).items()}
    except (TypeError, KeyError, ValueError):
        raise InvalidRecord(f"{where}: every metric needs a numeric latest value") from None


def load_top_scalars(data: bytes, where: str) -> dict[str, Any]:
    """The top-level scalar fields of a mapping (``run.yaml``); nested values left out."""
    try:
        return _top_scalars(data.decode("utf-8"))
    except (_Unsupported, ValueError, IndexError):
        full = _mapping(data, where)
        return {k: v for k, v in full.items() if not isinstance(v, (dict, list))}


def _top_scalars(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nested = False  # the last top-level key opened a block: indented lines belong to it
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith(("  ", "- ")):
            if not nested:
                raise _Unsupported
            continue
        match = _LINE.match(line)
        if match is None or match.group(1):
            raise _Unsupported
        _, quoted, plain, rest = match.groups()
        key = _key(quoted if quoted is not None else plain)
        if key in out:
            raise _Unsupported
        nested = rest is None
        if not nested and rest not in ("[]", "{}"):  # empty containers are not scalars either
            out[key] = _scalar(rest)
    if not text.endswith("\n"):
        raise _Unsupported
    return out


def load_mapping(data: bytes, where: str) -> dict[str, Any]:
    """A record file that holds a mapping (``inputs.yaml``, ...); empty for an empty file."""
    return _mapping(data, where)


def _mapping(data: bytes, where: str) -> dict[str, Any]:
    value = load(data, where)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRecord(f"{where} should hold a mapping, found {type(value).__name__}")
    return value


def _document(text: str) -> Any:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise _Unsupported
    value, end = _block(lines, 0, 0)
    if end != len(lines):
        raise _Unsupported
    return value


def _scalar(token: str) -> Any:
    first = token[:1]
    if first == '"':
        # JSON's escapes are a subset of YAML's double-quoted ones, except \x.
        if not token.endswith('"'):
            raise _Unsupported
        return _quoted(token)
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
            key = _quoted(quoted)
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
