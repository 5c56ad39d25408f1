"""The record format, both directions: one deterministic YAML emitter and its readers.

Why gitrun writes its own YAML: records are git blobs, and a blob's id is the hash
of its bytes.  The same record must always serialise to the same bytes (whatever
the PyYAML version, its C extension, or the dict's history), so that a run whose
record did not change keeps its blob id: a commit then rewrites only the trees
along the changed paths, stays small, and merges and syncs compare ids instead of
contents.  The emitter also keeps PyYAML off the write path (importing it costs
40-60 ms, on every tracked script).

Reading: :func:`load` (and the shape-specific :func:`load_flat`,
:func:`load_latest`, :func:`load_top_scalars`, :func:`load_mapping`) parse the
emitter's own subset directly (a private helper, ``_yamlread``) and hand anything
else (a hand-edited record) to :func:`safe_load`: PyYAML's *safe* loader only, with
limits on size, depth and aliases.  No code path loads YAML unsafely.  Both readers
return the same data (tested properties), so the fast one is only a speed-up.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from gitrun.core.records.text import has_surrogates, replace_surrogates
from gitrun.errors import InvalidRecord

# Plain (unquoted) only when YAML 1.1 cannot read the text as anything but a string.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./\-]*\Z")
# Words YAML 1.1 reads as something other than a string, in any case ("~" is null).
_RESERVED = frozenset("y n yes no on off true false null ~".split())
# Characters YAML requires escaped inside a double-quoted scalar, beyond what JSON does.
# (Lone surrogates never get here: YAML has no escape for them, see scalar().)
_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def scalar(value: Any) -> str:
    """One YAML scalar for a str, int, float, bool or None."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, str):
        if _PLAIN.match(value) and value.lower() not in _RESERVED:
            return value
        if has_surrogates(value):
            # No YAML reader accepts a lone surrogate, escaped or not: writing one would
            # make the whole record unreadable. Callers encode captured text first
            # (text.encode_captured) and refuse user text; this is the last resort.
            value = replace_surrogates(value)
        return _UNPRINTABLE.sub(_escape, json.dumps(value, ensure_ascii=False))
    raise TypeError(f"cannot write {type(value).__name__} into a record")


def float_text(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    # YAML 1.1 floats need a dot and a signed exponent: 1e-05 -> 1.0e-05.
    if "e" in text:
        mantissa, _, exponent = text.partition("e")
        if "." not in mantissa:
            mantissa += ".0"
        if exponent[0] not in "+-":
            exponent = "+" + exponent
        text = f"{mantissa}e{exponent}"
    return text


def dump(data: Mapping[str, Any]) -> str:
    """Serialise a mapping of mappings/lists/scalars to block YAML."""
    lines: list[str] = []
    _mapping(data, "", lines)
    return "\n".join(lines) + "\n"


def _mapping(data: Mapping[str, Any], indent: str, lines: list[str]) -> None:
    for key, value in data.items():
        head = f"{indent}{scalar(str(key))}:"
        _value(value, head, indent, lines)


def _value(value: Any, head: str, indent: str, lines: list[str]) -> None:
    if isinstance(value, Mapping):
        if value:
            lines.append(head)
            _mapping(value, indent + "  ", lines)
        else:
            lines.append(head + " {}")
    elif isinstance(value, (list, tuple)):
        if not value:
            lines.append(head + " []")
        elif all(not isinstance(v, (Mapping, list, tuple)) for v in value):
            lines.append(head)
            lines.extend(f"{indent}- {scalar(v)}" for v in value)
        else:
            lines.append(head)
            for item in value:
                if isinstance(item, Mapping) and item:
                    sub: list[str] = []
                    _mapping(item, indent + "  ", sub)
                    sub[0] = f"{indent}- " + sub[0][len(indent) + 2 :]
                    lines.extend(sub)
                else:
                    _value(item, f"{indent}-", indent + "  ", lines)
    else:
        lines.append(f"{head} {scalar(value)}")


MAX_RECORD_BYTES = 128 * 2**20
"""Largest YAML document gitrun parses (a record of 100k artifacts is ~10 MB)."""
MAX_DEPTH = 64
"""Deepest nesting accepted (the emitter writes at most a few levels)."""


def load(text: str | bytes, where: str = "record") -> Any:
    """Parse a record (the fast reader, else :func:`safe_load`); errors name the record."""
    if len(text) > MAX_RECORD_BYTES:
        raise InvalidRecord(f"{where} is too large to be a record ({len(text)} bytes)")
    # Imported on first read: compiling its patterns is a visible part of a cold
    # process, and a search on an up-to-date index parses no YAML at all.
    from gitrun.core.records import _yamlread

    return _yamlread.load(text, where)


def load_flat(data: bytes, where: str) -> dict[str, Any]:
    """A mapping of strings to strings (``params.yaml``, ``tags.yaml``)."""
    from gitrun.core.records import _yamlread

    return _yamlread.load_flat(data, where)


def load_latest(data: bytes, where: str) -> dict[str, float]:
    """The latest value of every metric in ``metrics.yaml``."""
    from gitrun.core.records import _yamlread

    return _yamlread.load_latest(data, where)


def load_top_scalars(data: bytes, where: str) -> dict[str, Any]:
    """The top-level scalar fields of a mapping (``run.yaml``); nested values left out."""
    from gitrun.core.records import _yamlread

    return _yamlread.load_top_scalars(data, where)


def load_mapping(data: bytes, where: str) -> dict[str, Any]:
    """A record file that holds a mapping; empty for an empty file."""
    from gitrun.core.records import _yamlread

    return _yamlread.load_mapping(data, where)


def safe_load(text: str | bytes, where: str = "record") -> Any:
    """Parse YAML with PyYAML's safe loader; errors name the record.

    Records come from other machines too, so whatever the bytes, this returns plain
    data or raises :class:`InvalidRecord`: documents over :data:`MAX_RECORD_BYTES`,
    nested deeper than :data:`MAX_DEPTH`, or using anchors and aliases (which the
    emitter never writes, and which can expand exponentially: "billion laughs") are
    refused.
    """
    import yaml

    if len(text) > MAX_RECORD_BYTES:
        raise InvalidRecord(f"{where} is too large to be a record ({len(text)} bytes)")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise InvalidRecord(f"{where} is not valid YAML: {exc}") from None
    except (RecursionError, MemoryError, ValueError, OverflowError) as exc:
        # Deep nesting, or a scalar the constructor cannot build (a huge !!int, a bad date).
        raise InvalidRecord(f"{where} is not a usable record: {type(exc).__name__}") from None
    _check_plain(data, where)
    return data


def _check_plain(data: Any, where: str) -> None:
    """Refuse shared containers (aliases) and deep nesting, without recursion."""
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if id(value) in seen:
                raise InvalidRecord(f"{where} uses YAML aliases, which records never do")
            if depth > MAX_DEPTH:
                raise InvalidRecord(f"{where} is nested too deeply to be a record")
            seen.add(id(value))
            items = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in items)
