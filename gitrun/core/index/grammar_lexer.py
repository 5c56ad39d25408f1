"""Cutting search-filter text into identifiers, comparators and values.

:mod:`gitrun.core.index.grammar` decides what each piece *means*; this module only
finds where a piece ends and remembers where it started, so that every error can
say where the problem is.  The token rules mirror the SQL lexing MLflow inherits
from sqlparse: a quoted run may contain a doubled or backslashed quote of its own
kind, and the text between the quotes is kept raw (no escape processing).
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

from gitrun.errors import InvalidParameterValue

_SQ = r"'(?:''|\\'|[^'])*'"
_DQ = r'"(?:""|\\"|[^"])*"'
_BQ = r"`(?:``|[^`])*`"

# Every reader below also consumes the whitespace after its token, so the
# cursor always rests on the next token (or the end); this halves the regex
# calls on the hot path.
_SPACE = re.compile(r"\s*")
_WORD = re.compile(r"(\w+)\s*")
_AND = re.compile(r"(?i:AND)(?!\w)\s*")
_OPERATOR = re.compile(r"([=<>!~]+)\s*")
# Written so that no two branches can match the same digits: a long run of digits
# followed by garbage then fails in linear time instead of quadratic.
_NUMBER = re.compile(r"(-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.])\s*")
_STRING = re.compile(f"({_SQ}|{_DQ})\\s*")
_IDENTIFIER_BODY = rf"(?P<head>\w+|{_BQ}|{_DQ})(?:\.(?P<key>{_BQ}|{_DQ}|{_SQ}|\w+(?:\.\w+)*))?"
# ``glued`` catches a quote or dot stuck to the identifier (``tags."a".b``).
_IDENTIFIER = re.compile(rf"{_IDENTIFIER_BODY}(?P<glued>[.'\"`])?\s*")
_UNQUOTED = re.compile(rf"((?:\w+|{_BQ})(?:\.(?:\w+|{_BQ}|{_DQ}|{_SQ}))*)\s*")
_ORDER_ENTRY = re.compile(rf"{_IDENTIFIER_BODY}(?:\s+(?P<direction>\w+))?")
_LEXEME = re.compile(r"[(),;]|[^\s(),;]{1,40}")

# SQL comparison words users try; they get "Invalid comparator" rather than the
# vaguer "Invalid clause(s)" so the message names the real mistake.
_FOREIGN_COMPARATORS = frozenset({"RLIKE", "REGEXP", "GLOB", "MATCH"})
_LITERAL_STARTS = frozenset("0123456789-.'")

_EMPTY_LIST = (
    "While parsing a list in the query, expected a non-empty list of string values, but got empty list"
)
_ILL_FORMED_LIST = (
    "While parsing a list in the query, expected a non-empty list of string values, but got ill-formed list"
)
_WRONG_TYPE_IN_LIST = (
    "While parsing a list in the query, expected string value, punctuation, or"
    " whitespace, but got different type in list"
)

ValueKind = Literal["number", "string", "list", "unquoted"]


class RawIdentifier(NamedTuple):
    """An identifier as written: ``head`` alone, or ``head.key``.

    ``head`` and ``key`` keep their quotes; ``key`` is everything after the first
    dot.  Positions index the filter text.
    """

    head: str
    key: str | None
    pos: int
    key_pos: int


class RawValue(NamedTuple):
    """A value as written (``text``) and what it holds (``payload``).

    ``payload`` is a float for numbers, the text between the quotes for strings,
    a tuple of such texts for lists, and None for unquoted words.
    """

    kind: ValueKind
    text: str
    pos: int
    payload: float | str | tuple[str, ...] | None


def syntax_error(message: str, pos: int) -> InvalidParameterValue:
    """Build the error for ``message``, naming the 0-based position it concerns."""
    return InvalidParameterValue(f"{message} (at position {pos})")


def shorten(text: str, limit: int = 80) -> str:
    """Cut ``text`` for an error message, so a huge value cannot flood a log."""
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def unquote(text: str) -> str:
    """Trim one pair of quotes or backticks; the lexer guarantees they pair up."""
    if text[:1] in ("'", '"', "`"):
        return text[1:-1]
    return text


def _after_space(text: str, pos: int) -> int:
    match = _SPACE.match(text, pos)
    return match.end() if match else pos


def split_order_entry(entry: str) -> tuple[RawIdentifier, bool]:
    """Split an order_by entry into its identifier and whether it sorts ascending.

    The entry must be exactly ``<identifier>[<whitespace><ASC|DESC>]``: MLflow
    refuses leading or trailing whitespace and extra words.

    Args:
        entry: One order_by entry.

    Returns:
        The identifier as written, and True unless the direction is DESC.

    Raises:
        InvalidParameterValue: The entry does not have that shape.
    """
    match = _ORDER_ENTRY.match(entry)
    if match is None or match.end() != len(entry):
        where = match.end() if match else 0
        raise syntax_error(f"Invalid order_by clause '{entry}'. Could not be parsed", where)
    raw = RawIdentifier(match.group("head"), match.group("key"), 0, match.start("key"))
    direction = match.group("direction")
    if direction is None:
        return raw, True
    if direction.lower() not in ("asc", "desc"):
        raise syntax_error(f"Invalid ordering key in order_by clause '{entry}'", match.start("direction"))
    return raw, direction.lower() == "asc"


class Scanner:
    """A cursor over one filter string; it always rests on a token or the end."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = _after_space(text, 0)

    def at_end(self) -> bool:
        """Tell whether the whole text has been read."""
        return self.pos >= len(self.text)

    def peek(self) -> str:
        """Return the next character, or "" at the end."""
        return self.text[self.pos : self.pos + 1]

    def error(self, message: str, pos: int | None = None) -> InvalidParameterValue:
        """Build the error for ``message`` at ``pos`` (default: here)."""
        return syntax_error(message, self.pos if pos is None else pos)

    def unexpected(self, expected: str) -> InvalidParameterValue:
        """Build the error for text that does not fit the clause structure."""
        match = _LEXEME.match(self.text, self.pos)
        found = f"'{match.group()}'" if match else "end of filter"
        return self.error(f"Invalid clause(s) in filter string: {found}, expected {expected}")

    def and_keyword(self) -> bool:
        """Consume ``AND`` (any case) if it comes next."""
        match = _AND.match(self.text, self.pos)
        if match is None:
            return False
        self.pos = match.end()
        return True

    def keyword(self, name: str) -> bool:
        """Consume the word ``name`` (any case) if it comes next."""
        match = _WORD.match(self.text, self.pos)
        if match is None or match.group(1).upper() != name:
            return False
        self.pos = match.end()
        return True

    def literal(self) -> str | None:
        """Return the number or quoted string starting here, without consuming it.

        Used at the start of a clause, where such a literal means the user wrote
        the comparison the wrong way round (``1.0 > metrics.acc``).
        """
        if self.peek() not in _LITERAL_STARTS:
            return None
        match = _NUMBER.match(self.text, self.pos) or _STRING.match(self.text, self.pos)
        return shorten(match.group(1)) if match else None

    def identifier(self) -> RawIdentifier | None:
        """Consume an identifier (``head`` or ``head.key``), if one starts here."""
        match = _IDENTIFIER.match(self.text, self.pos)
        if match is None:
            return None
        head, key, glued = match.group("head", "key", "glued")
        if glued:
            self.pos = match.start("glued")
            raise self.unexpected("a comparator")
        start, self.pos = match.span()
        return RawIdentifier(head, key, start, match.start("key"))

    def comparator(self) -> tuple[str, int]:
        """Read a comparator; words come back upper case, ``NOT IN`` single-spaced.

        Unknown operators (``==``, ``<>``) and foreign words (``RLIKE``) are
        returned as written so the caller can name them; anything else that
        cannot start a comparator is a clause-structure error.
        """
        start = self.pos
        match = _OPERATOR.match(self.text, start) or _WORD.match(self.text, start)
        if match is None:
            raise self.unexpected("a comparator")
        op = match.group(1)
        if op[0].isalnum() or op[0] == "_":
            op = op.upper()
            if op not in ("LIKE", "ILIKE", "IN", "NOT", "IS") and op not in _FOREIGN_COMPARATORS:
                raise self.unexpected("a comparator")
        self.pos = match.end()
        if op == "NOT":
            if self.keyword("IN"):
                return "NOT IN", start
            raise self.unexpected("IN after NOT")
        if op == "IS":
            negated = self.keyword("NOT")
            if self.keyword("NULL"):
                return ("IS NOT NULL" if negated else "IS NULL"), start
            raise self.unexpected("NULL or NOT NULL after IS")
        return op, start

    def scalar(self) -> RawValue:
        """Read a number, a quoted string, or an unquoted word (kept for messages)."""
        text, start = self.text, self.pos
        first = text[start : start + 1]
        if first in ("'", '"'):
            match = _STRING.match(text, start)
            if match is None:
                raise self.unexpected("a value (the quoted string is not closed)")
            self.pos = match.end()
            quoted = match.group(1)
            return RawValue("string", quoted, start, quoted[1:-1])
        match = _NUMBER.match(text, start)
        if match is not None:
            self.pos = match.end()
            return RawValue("number", match.group(1), start, float(match.group(1)))
        match = _UNQUOTED.match(text, start)
        if match is not None:
            self.pos = match.end()
            return RawValue("unquoted", match.group(1), start, None)
        if first == "(":
            raise self.unexpected("a value (a list is only allowed after IN or NOT IN)")
        raise self.unexpected("a value")

    def string_list(self) -> RawValue:
        """Read a parenthesised, comma-separated, non-empty list of quoted strings."""
        text, start = self.text, self.pos
        if text[start : start + 1] != "(":
            raise self.unexpected("a parenthesised list after IN")
        self.pos = _after_space(text, start + 1)
        if self.peek() == ")":
            raise self.error(_EMPTY_LIST, start)
        items: list[str] = []
        while True:
            match = _STRING.match(text, self.pos)
            if match is None:
                if self.peek() in ("", ",", ")", "'", '"'):
                    raise self.error(_ILL_FORMED_LIST)
                found = _LEXEME.match(text, self.pos)
                shown = found.group() if found else ""
                raise self.error(f"{_WRONG_TYPE_IN_LIST}: {shorten(shown)}")
            items.append(match.group(1)[1:-1])
            self.pos = match.end()
            separator = self.peek()
            if separator not in (",", ")"):
                raise self.error(_ILL_FORMED_LIST)
            self.pos = _after_space(text, self.pos + 1)
            if separator == ")":
                return RawValue("list", text[start : self.pos].rstrip(), start, tuple(items))
