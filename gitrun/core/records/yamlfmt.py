"""YAML for records: a small deterministic emitter and a safe loader.

The emitter writes block-style YAML that PyYAML's safe loader reads back exactly
(tested property), without importing PyYAML: writing a record is on the path of
every tracked script, and importing yaml costs 40-60 ms here.  Reading always goes
through PyYAML's safe loader (the C one when present).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from gitrun.errors import InvalidRecord

# Plain (unquoted) only when YAML 1.1 cannot read the text as anything but a string.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./\-]*\Z")
_RESERVED = frozenset("y n yes no on off true false null".split())
# Characters YAML requires escaped inside a double-quoted scalar, beyond what JSON does.
_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]")


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


def load(text: str | bytes, where: str = "record") -> Any:
    """Parse YAML with the safe loader; errors name the record."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise InvalidRecord(f"{where} is not valid YAML: {exc}") from None
