"""The one rule for text that is not valid Unicode, and for text shown on a terminal.

Python holds bytes that are not valid UTF-8 (in ``sys.argv``, paths, ``os.listdir``
names, environment variables) as *lone surrogates* (PEP 383, ``surrogateescape``).
Neither YAML, SQLite nor a UTF-8 terminal accepts them, so gitrun applies one rule:

* **Values a user passes to the API** (param and tag keys and values, run and
  experiment names, metric keys, descriptions) containing lone surrogates are
  refused at the call (:func:`refuse_surrogates`), as MLflow refuses them.
* **Values gitrun captures itself** (argv, cwd, entry point, host, user, the file
  names of the code snapshot's listings, ``gitrun run``'s command) are recorded
  losslessly: in ``run.yaml`` a string that is not valid UTF-8 becomes the one-key
  mapping ``{bytes: "<text>"}`` (:func:`encode_captured`), where ``<text>`` is the
  bytes decoded as UTF-8 with every undecodable byte written ``%XX`` and ``%``
  itself written ``%25`` (``data-\\xe9.csv`` -> ``{bytes: "data-%E9.csv"}``).
  :func:`decode_captured` gives back the exact bytes, so ``gitrun reproduce --run``
  runs the exact command.  Fields that must be plain strings (tags, ``user_id``)
  get the readable form of :func:`readable` (``data-\\xe9.csv``).
* **Output** for people (:func:`printable`) escapes control characters (C0, DEL,
  C1, bidirectional overrides, line separators) and shows undecodable bytes as
  ``\\xHH``, so a record fetched from someone else cannot drive the terminal.

The YAML emitter never writes a lone surrogate whatever it is given (it writes
U+FFFD instead: a bug upstream, not a record nobody can read).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gitrun.errors import InvalidParameterValue

BYTES_KEY = "bytes"
"""The key of the mapping that records a captured string which is not valid UTF-8."""

_SURROGATE = re.compile("[\ud800-\udfff]")
_PERCENT_OR_SURROGATE = re.compile("[%\udc80-\udcff]")
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# Characters that must never reach a terminal raw: C0 and C1 controls, DEL, the
# bidirectional controls (Trojan Source), line/paragraph separators, BOM, and
# surrogates (not encodable).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def has_surrogates(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate (it cannot be encoded as UTF-8)."""
    return _SURROGATE.search(text) is not None


def refuse_surrogates(value: str, what: str) -> str:
    """Return ``value``, or refuse it when it is not valid Unicode.

    Raises:
        InvalidParameterValue: ``value`` holds a lone surrogate.
    """
    if _SURROGATE.search(value) is not None:
        raise InvalidParameterValue(
            f"Invalid {what} {readable(value)!r}: it is not valid Unicode (it holds bytes that are not "
            "UTF-8, shown as \\xHH). Decode such bytes first, e.g. with "
            "os.fsencode(value).decode('utf-8', 'replace')."
        )
    return value


def _to_bytes(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        # Surrogates that stand for no byte (not from the OS): keep what can be kept.
        return text.encode("utf-8", "surrogatepass")


def escape_bytes(text: str) -> str:
    """The ``%XX`` form of a string holding undecodable bytes (see the module doc)."""
    decoded = _to_bytes(text).decode("utf-8", "surrogateescape")
    return _PERCENT_OR_SURROGATE.sub(
        lambda m: "%25" if m.group() == "%" else f"%{ord(m.group()) - 0xDC00:02X}", decoded
    )


def unescape_bytes(text: str) -> str:
    """Inverse of :func:`escape_bytes`: the original string (surrogate-escaped)."""
    out = bytearray()
    pos = 0
    for match in _PERCENT_ESCAPE.finditer(text):
        out += text[pos : match.start()].encode("utf-8", "surrogateescape")
        out.append(int(match.group(1), 16))
        pos = match.end()
    out += text[pos:].encode("utf-8", "surrogateescape")
    return out.decode("utf-8", "surrogateescape")


def encode_captured(value: Any) -> Any:
    """A captured value ready for a record: strings that are not valid UTF-8 become
    ``{bytes: "<%XX text>"}``; mappings and lists are walked (keys too, as readable text)."""
    if isinstance(value, str):
        return {BYTES_KEY: escape_bytes(value)} if has_surrogates(value) else value
    if isinstance(value, Mapping):
        return {readable(str(k)): encode_captured(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode_captured(v) for v in value]
    return value


def decode_captured(value: Any) -> Any:
    """A recorded value as captured: ``{bytes: ...}`` mappings back to their string."""
    if isinstance(value, Mapping):
        if len(value) == 1 and isinstance(value.get(BYTES_KEY), str):
            return unescape_bytes(value[BYTES_KEY])
        return {k: decode_captured(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_captured(v) for v in value]
    return value


def captured_str(value: Any) -> str | None:
    """One recorded string field (plain or ``{bytes: ...}``) as captured; None if absent
    or of another type."""
    decoded = decode_captured(value)
    return decoded if isinstance(decoded, str) else None


def readable(value: Any) -> str:
    """Text for fields that must be plain Unicode: undecodable bytes as ``\\xHH``."""
    text = captured_str(value)
    if text is None:
        text = "" if value is None else str(value)
    if not has_surrogates(text):
        return text
    return _to_bytes(text).decode("utf-8", "backslashreplace")


def _escape_unsafe(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"  # an undecodable byte
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: Any) -> str:
    """``value`` as text safe to print on a terminal (control characters escaped)."""
    text = readable(value) if not isinstance(value, str) else value
    return _UNSAFE.sub(_escape_unsafe, text)


def is_printable(text: str) -> bool:
    """Whether :func:`printable` would leave ``text`` unchanged."""
    return _UNSAFE.search(text) is None


def shell_quote(arg: str) -> str:
    """``arg`` quoted for a POSIX shell, readable and exact: text that is not valid
    UTF-8 or holds control characters uses bash's ``$'...'`` form (``$'data-\\xe9.csv'``),
    which gives back the exact bytes when pasted into bash or zsh."""
    import shlex

    if _UNSAFE.search(arg) is None:
        return shlex.quote(arg)
    out = []
    for char in arg:
        code = ord(char)
        if char in "\\'":
            out.append("\\" + char)
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif _UNSAFE.match(char):
            out.extend(f"\\x{b:02x}" for b in _to_bytes(char))
        else:
            out.append(char)
    return "$'" + "".join(out) + "'"


def shell_join(argv: list[str]) -> str:
    """A command line for people and shells (see :func:`shell_quote`)."""
    return " ".join(shell_quote(arg) for arg in argv)


def replace_surrogates(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (the emitter's last resort)."""
    return _SURROGATE.sub("\ufffd", text)
