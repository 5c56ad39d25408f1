"""Reading one git config file the way git parses it (no includes, no other scopes).

gitrun reads a repository's own ``config`` for the settings git itself reads from
there before it trusts a repository: ``core.repositoryformatversion``,
``extensions.*``, ``core.sharedRepository``.  Git's own format check reads exactly
that file, without following ``include.path``, so this parser does not either.
Everything else gitrun needs from the configuration it asks ``git config``.
"""

from __future__ import annotations

_ESCAPES = {"n": "\n", "t": "\t", "b": "\b", "\\": "\\", '"': '"'}


def parse(text: str) -> list[tuple[str, str | None]]:
    """``(key, value)`` pairs in file order; ``key`` is ``section[.subsection].name``.

    Section and variable names are lower-cased (git compares them case-insensitively),
    subsections are kept as written.  A bare ``name`` (no ``=``) has the value None,
    which git reads as boolean true.
    """
    out: list[tuple[str, str | None]] = []
    section = ""
    pos = 0
    end = len(text)
    while pos < end:
        char = text[pos]
        if char in " \t\r\n":
            pos += 1
        elif char in "#;":
            pos = _line_end(text, pos)
        elif char == "[":
            section, pos = _section(text, pos + 1)
        else:
            start = pos
            while pos < end and (text[pos].isalnum() or text[pos] == "-"):
                pos += 1
            name = text[start:pos].lower()
            if not name:  # not a valid line: skip it rather than guess
                pos = _line_end(text, pos)
                continue
            while pos < end and text[pos] in " \t":
                pos += 1
            if pos < end and text[pos] == "=":
                value, pos = _value(text, pos + 1)
                out.append((f"{section}.{name}", value))
            else:
                out.append((f"{section}.{name}", None))
                pos = _line_end(text, pos)
    return out


def _line_end(text: str, pos: int) -> int:
    found = text.find("\n", pos)
    return len(text) if found < 0 else found + 1


def _section(text: str, pos: int) -> tuple[str, int]:
    """A section header after its ``[``: ``name``, ``name "sub"`` or ``name.sub``."""
    end = len(text)
    start = pos
    while pos < end and text[pos] not in ']" \t\n':
        pos += 1
    name = text[start:pos].lower()
    while pos < end and text[pos] in " \t":
        pos += 1
    if pos < end and text[pos] == '"':
        pos += 1
        sub: list[str] = []
        while pos < end and text[pos] not in '"\n':
            if text[pos] == "\\" and pos + 1 < end:
                pos += 1
            sub.append(text[pos])
            pos += 1
        close = text.find("]", pos)
        return f"{name}.{''.join(sub)}", (end if close < 0 else close + 1)
    close = text.find("]", pos)
    # The deprecated ``[section.subsection]`` form: the whole name is lower-cased.
    return name, (end if close < 0 else close + 1)


def _value(text: str, pos: int) -> tuple[str, int]:
    out: list[str] = []
    pending_space = ""
    quoted = False
    end = len(text)
    while pos < end:
        char = text[pos]
        if char == "\n":
            pos += 1
            break
        if char == "\\" and pos + 1 < end:
            nxt = text[pos + 1]
            if nxt == "\n":  # a continuation line
                pos += 2
                continue
            if nxt == "\r" and text[pos + 2 : pos + 3] == "\n":
                pos += 3
                continue
            out.append(pending_space + _ESCAPES.get(nxt, nxt))
            pending_space = ""
            pos += 2
            continue
        if char == '"':
            quoted = not quoted
            pos += 1
            continue
        if not quoted and char in "#;":
            pos = _line_end(text, pos)
            break
        if not quoted and char in " \t\r":
            if out:  # inner whitespace is kept, leading and trailing is not
                pending_space += char
            pos += 1
            continue
        out.append(pending_space + char)
        pending_space = ""
        pos += 1
    return "".join(out), pos


def read_file(path: str) -> list[tuple[str, str | None]]:
    """The entries of one config file; an absent file has none."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except (FileNotFoundError, NotADirectoryError):
        return []
    return parse(data.decode("utf-8", "surrogateescape"))


def last(entries: list[tuple[str, str | None]], key: str) -> str | None:
    """The value git uses for a single-valued ``key`` (the last one wins); "" when absent."""
    found: str | None = ""
    seen = False
    for name, value in entries:
        if name == key:
            found, seen = value, True
    return found if seen else ""


def as_bool(value: str | None) -> bool | None:
    """Git's boolean: a bare key is true; None when the text is not a boolean."""
    if value is None:
        return True
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0", ""):
        return False
    return None
