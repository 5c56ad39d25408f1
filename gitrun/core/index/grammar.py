"""The MLflow search grammar: filter strings and order_by clauses, parsed to values.

A run filter is zero or more ``<identifier> <comparator> <value>`` comparisons
joined by ``AND`` (no ``OR``, ``NOT`` or parentheses); an identifier is
``<entity>.<key>``, or a bare attribute key.  Everything MLflow rejects is
rejected here with its message, followed by the position of the problem.  Unlike
MLflow, the comparator is checked against the entity while parsing, so a bad
filter fails even when no run exists to evaluate it against.

search_experiments uses the same syntax with other entities, attributes and
messages; the differences live in one :class:`_Dialect` value per grammar.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from gitrun.core.index.grammar_lexer import (
    RawIdentifier,
    RawValue,
    Scanner,
    shorten,
    split_order_entry,
    syntax_error,
    unquote,
)
from gitrun.errors import InvalidParameterValue

__all__ = [
    "Clause",
    "ClauseValue",
    "Comparator",
    "Entity",
    "OrderKey",
    "like_to_regex",
    "parse_experiment_filter",
    "parse_experiment_order_by",
    "parse_filter",
    "parse_logged_model_filter",
    "parse_logged_model_order_by",
    "parse_order_by",
    "parse_registry_filter",
    "parse_registry_order_by",
]

Entity = Literal["metric", "param", "tag", "attribute", "dataset"]
Comparator = Literal[
    "=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"
]
ClauseValue = float | str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Clause:
    """One comparison of a filter.

    Attributes:
        entity: What the key names: a metric, param, tag, attribute or dataset.
        key: The key, unquoted; attribute aliases are resolved (``created`` is
            ``start_time``, ``Run name`` is ``run_name``).
        comparator: Upper case, single-spaced (``NOT IN``, ``IS NOT NULL``).
        value: A float for metrics and numeric attributes, the text between the
            quotes for strings, a tuple of such texts for ``IN``/``NOT IN``, and
            None for ``IS [NOT] NULL``.
    """

    entity: Entity
    key: str
    comparator: Comparator
    value: ClauseValue


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One order_by entry: sort on ``entity``/``key``, ascending or not."""

    entity: Entity
    key: str
    ascending: bool = True


_NUMERIC_OPS: tuple[Comparator, ...] = ("=", "!=", "<", "<=", ">", ">=")
_TEXT_OPS: tuple[Comparator, ...] = ("=", "!=", "LIKE", "ILIKE")
_LIST_OPS: tuple[Comparator, ...] = ("IN", "NOT IN")
_NULL_OPS: tuple[Comparator, ...] = ("IS NULL", "IS NOT NULL")
_COMPARATORS: dict[str, Comparator] = {op: op for op in _NUMERIC_OPS + _TEXT_OPS + _LIST_OPS + _NULL_OPS}
_DATASET_KEYS = ("name", "digest", "context")
# MLflow's messages say "parameter"/"attributes"; keep its nouns for familiarity.
_NOUNS: dict[Entity, str] = {
    "metric": "metric",
    "param": "parameter",
    "tag": "tag",
    "attribute": "attributes",
    "dataset": "dataset attributes",
}


@dataclass(frozen=True, slots=True)
class _Dialect:
    """What one search grammar (runs or experiments) accepts, and how it refuses."""

    entities: Mapping[str, Entity]
    entity_error: str
    entity_backticks: bool
    filter_attributes: Mapping[str, str]
    order_attributes: Mapping[str, str]
    numeric_attributes: frozenset[str]
    list_attributes: tuple[str, ...]
    null_entities: tuple[Entity, ...]
    null_error: str
    order_entities: tuple[Entity, ...]
    order_entity_error: str


def _canonical(*keys: str) -> dict[str, str]:
    return {key: key for key in keys}


_RUN_ATTRIBUTES = ("run_id", "run_name", "status", "user_id", "artifact_uri")
_RUN_TIMES = ("start_time", "end_time")

_RUNS = _Dialect(
    entities={
        "metric": "metric",
        "metrics": "metric",
        "param": "param",
        "params": "param",
        "parameter": "param",
        "parameters": "param",
        "tag": "tag",
        "tags": "tag",
        "attribute": "attribute",
        "attributes": "attribute",
        "attr": "attribute",
        "run": "attribute",
        "dataset": "dataset",
        "datasets": "dataset",
    },
    entity_error="Invalid entity type '{}'. Valid values are"
    " ['metric', 'parameter', 'tag', 'attribute', 'dataset']",
    entity_backticks=True,
    filter_attributes={
        **_canonical(*_RUN_ATTRIBUTES, *_RUN_TIMES),
        **dict.fromkeys(("created", "Created"), "start_time"),
        **dict.fromkeys(("run name", "Run name", "Run Name"), "run_name"),
    },
    # MLflow accepts the ``created`` alias in order_by but not ``Run name``.
    order_attributes={
        **_canonical(*_RUN_ATTRIBUTES, *_RUN_TIMES),
        **dict.fromkeys(("created", "Created"), "start_time"),
    },
    numeric_attributes=frozenset(_RUN_TIMES),
    list_attributes=("run_id",),
    null_entities=("param", "tag"),
    null_error="IS NULL / IS NOT NULL is only supported for tags and params",
    order_entities=("metric", "param", "tag", "attribute"),
    order_entity_error="Invalid entity type '{}' for order_by. Valid values are"
    " ['metric', 'parameter', 'tag', 'attribute']",
)

_EXPERIMENT_TIMES = ("creation_time", "last_update_time")

_EXPERIMENTS = _Dialect(
    entities={
        "attribute": "attribute",
        "attributes": "attribute",
        "tag": "tag",
        "tags": "tag",
    },
    entity_error="Invalid entity type '{}'. Valid entity types are"
    " ('attribute', 'attributes', 'tag', 'tags')",
    entity_backticks=False,
    filter_attributes=_canonical("name", "experiment_id", *_EXPERIMENT_TIMES),
    order_attributes=_canonical("name", "experiment_id", *_EXPERIMENT_TIMES),
    numeric_attributes=frozenset(_EXPERIMENT_TIMES),
    list_attributes=("experiment_id",),
    null_entities=("tag",),
    null_error="IS NULL / IS NOT NULL is only supported for tags",
    order_entities=("attribute",),
    order_entity_error="Invalid order_by entity: {}",
)


_MODEL_TIMES = ("creation_timestamp", "last_updated_timestamp")

_LOGGED_MODELS = _Dialect(
    entities={
        "metric": "metric",
        "metrics": "metric",
        "param": "param",
        "params": "param",
        "tag": "tag",
        "tags": "tag",
        "attribute": "attribute",
        "attributes": "attribute",
    },
    entity_error="Invalid entity type '{}'. Valid values are ['metric', 'param', 'tag', 'attribute']",
    entity_backticks=True,
    filter_attributes={
        **_canonical(
            "name", "model_id", "source_run_id", "status", "model_type", "experiment_id", *_MODEL_TIMES
        ),
        "creation_time": "creation_timestamp",
        "last_updated_time": "last_updated_timestamp",
    },
    order_attributes={
        **_canonical("name", "model_id", "experiment_id", *_MODEL_TIMES),
        "creation_time": "creation_timestamp",
    },
    numeric_attributes=frozenset(_MODEL_TIMES),
    list_attributes=("model_id", "source_run_id", "name"),
    null_entities=("param", "tag"),
    null_error="IS NULL / IS NOT NULL is only supported for tags and params",
    order_entities=("metric", "param", "tag", "attribute"),
    order_entity_error="Invalid entity type '{}' for order_by. Valid values are"
    " ['metric', 'param', 'tag', 'attribute']",
)


_REGISTRY = _Dialect(
    entities={"tag": "tag", "tags": "tag", "attribute": "attribute", "attributes": "attribute"},
    entity_error="Invalid entity type '{}'. Valid values are ['tag', 'attribute']",
    entity_backticks=True,
    filter_attributes=_canonical(
        "name", "run_id", "version_number", "source_path", "model_id", "user_id", "current_stage"
    ),
    order_attributes=_canonical("name", "version_number", "creation_timestamp", "last_updated_timestamp"),
    numeric_attributes=frozenset(("version_number", "creation_timestamp", "last_updated_timestamp")),
    list_attributes=("name", "run_id", "model_id"),
    null_entities=("tag",),
    null_error="IS NULL / IS NOT NULL is only supported for tags",
    order_entities=("attribute",),
    order_entity_error="Invalid order_by entity: {}",
)


def parse_registry_filter(filter_string: str | None) -> tuple[Clause, ...]:
    """Parse a search_registered_models / search_model_versions filter (``name``, ``tags.x``, ...)."""
    return _parse_filter(filter_string, _REGISTRY)


def parse_registry_order_by(items: Sequence[str] | None) -> tuple[OrderKey, ...]:
    return _parse_order_by(items, _REGISTRY)


def parse_logged_model_filter(filter_string: str | None) -> tuple[Clause, ...]:
    """Parse a search_logged_models filter (``name``, ``params.x``, ``metrics.x``, ``tags.x``, ...)."""
    return _parse_filter(filter_string, _LOGGED_MODELS)


def parse_logged_model_order_by(items: Sequence[str] | None) -> tuple[OrderKey, ...]:
    """Parse search_logged_models' ``order_by`` strings."""
    return _parse_order_by(items, _LOGGED_MODELS)


def parse_filter(filter_string: str | None) -> tuple[Clause, ...]:
    """Parse a search_runs filter into its clauses.

    Args:
        filter_string: The filter; None, empty or blank means "all runs".

    Returns:
        The AND-ed clauses, in the order written.

    Raises:
        InvalidParameterValue: The filter is malformed or names something that
            cannot be searched; the message says at which position.
    """
    return _parse_filter(filter_string, _RUNS)


def parse_experiment_filter(filter_string: str | None) -> tuple[Clause, ...]:
    """Parse a search_experiments filter (attributes and tags only).

    Args:
        filter_string: The filter; None, empty or blank means "all experiments".

    Returns:
        The AND-ed clauses; every entity is ``attribute`` or ``tag``.

    Raises:
        InvalidParameterValue: The filter is malformed or names something that
            cannot be searched; the message says at which position.
    """
    return _parse_filter(filter_string, _EXPERIMENTS)


def parse_order_by(items: Sequence[str] | None) -> tuple[OrderKey, ...]:
    """Parse search_runs order_by entries (``"<identifier> [ASC|DESC]"``).

    Args:
        items: The entries; None or empty means the default order.

    Returns:
        One key per entry, in order; a repeated key is kept once, at its first
        place, since a later copy can never change the order.

    Raises:
        InvalidParameterValue: An entry is malformed or names something that
            cannot be ordered on.
    """
    return _parse_order_by(items, _RUNS)


def parse_experiment_order_by(items: Sequence[str] | None) -> tuple[OrderKey, ...]:
    """Parse search_experiments order_by entries (attributes only).

    Args:
        items: The entries; None or empty means the default order.

    Returns:
        One key per distinct entry, in order; every entity is ``attribute``.

    Raises:
        InvalidParameterValue: An entry is malformed, names a tag, or names an
            attribute that cannot be ordered on.
    """
    return _parse_order_by(items, _EXPERIMENTS)


@functools.lru_cache(maxsize=512)
def like_to_regex(pattern: str, case_insensitive: bool) -> re.Pattern[str]:
    """Compile a SQL LIKE pattern into a regex that matches the same strings.

    ``%`` matches any run of characters (newlines included), ``_`` exactly one,
    and the pattern must cover the whole string; there is no escape character.

    Args:
        pattern: The LIKE pattern.
        case_insensitive: True for ILIKE.

    Returns:
        A compiled pattern; use ``.match()`` (it is anchored at the end).
    """
    segments = [
        "".join("." if part == "_" else re.escape(part) for part in re.split("(_)", s))
        for s in pattern.split("%")
    ]
    if len(segments) == 1:
        body = segments[0]
    else:
        # Each middle segment has a fixed length, so its leftmost occurrence is
        # always a good choice.  Committing to it (a lookahead is never re-entered,
        # the backreference then consumes what it saw: an atomic group that also
        # works before Python 3.11) keeps matching linear, where nested ``.*``
        # would backtrack polynomially.
        middle = "".join(
            f"(?=(?P<s{i}>.*?{segment}))(?P=s{i})" for i, segment in enumerate(segments[1:-1]) if segment
        )
        body = f"{segments[0]}{middle}.*{segments[-1]}"
    flags = re.DOTALL | (re.IGNORECASE if case_insensitive else 0)
    return re.compile(rf"{body}\Z", flags)


def _parse_filter(filter_string: str | None, dialect: _Dialect) -> tuple[Clause, ...]:
    if filter_string is None:
        return ()
    if not isinstance(filter_string, str):
        raise InvalidParameterValue(f"filter_string must be a string, not {type(filter_string).__name__}")
    scanner = Scanner(filter_string)
    clauses: list[Clause] = []
    while not scanner.at_end():
        clauses.append(_parse_clause(scanner, dialect))
        # MLflow ignores a trailing AND; code relying on that keeps working.
        if scanner.at_end() or scanner.and_keyword():
            continue
        if scanner.peek() == ";" and filter_string[scanner.pos + 1 :].strip():
            raise scanner.error(
                f"Search filter contained multiple expression '{shorten(filter_string, 200)}'."
                " Provide AND-ed expression list"
            )
        raise scanner.unexpected("AND or end of filter")
    return tuple(clauses)


def _parse_clause(scanner: Scanner, dialect: _Dialect) -> Clause:
    literal = scanner.literal()
    if literal is not None:
        raise scanner.error(f"Invalid comparison clause. Expected 'Identifier' found '{literal}'")
    raw = scanner.identifier()
    if raw is None:
        raise scanner.unexpected("an identifier")
    if raw.key is None and raw.head.upper() in ("AND", "OR", "NOT"):
        raise scanner.error(f"Invalid clause(s) in filter string: '{raw.head}'", raw.pos)
    entity, key, written = _resolve(raw, dialect, dialect.filter_attributes)
    allowed = _allowed_comparators(entity, key, dialect)

    op, op_pos = scanner.comparator()
    comparator = _COMPARATORS.get(op)
    if comparator is None:
        raise _comparator_error(op, op_pos, allowed, entity, key)
    if comparator in _NULL_OPS:
        if entity not in dialect.null_entities:
            raise syntax_error(dialect.null_error, op_pos)
        return Clause(entity, key, comparator, None)

    raw_value = scanner.string_list() if comparator in _LIST_OPS else scanner.scalar()
    value = _check_value(raw_value, entity, key, written, dialect)
    # Checked after the value, as MLflow does, so a wrong value type is reported
    # first; MLflow only finds a wrong comparator when evaluating.
    if comparator not in allowed:
        raise _comparator_error(comparator, op_pos, allowed, entity, key)
    return Clause(entity, key, comparator, value)


def _resolve(raw: RawIdentifier, dialect: _Dialect, attributes: Mapping[str, str]) -> tuple[Entity, str, str]:
    """Validate an identifier; return its entity, canonical key and key as written."""
    entity: Entity | None
    if raw.key is None:
        entity, written, key_pos = "attribute", unquote(raw.head), raw.pos
    else:
        name = raw.head
        if dialect.entity_backticks and name.startswith("`"):
            name = name[1:-1]
        entity = dialect.entities.get(name)
        if entity is None:
            raise syntax_error(dialect.entity_error.format(name), raw.pos)
        written, key_pos = unquote(raw.key), raw.key_pos
    key = written
    if entity == "attribute":
        canonical = attributes.get(written)
        if canonical is None:
            raise syntax_error(
                f"Invalid attribute key '{written}' specified."
                f" Valid keys are {sorted(set(attributes.values()))}",
                key_pos,
            )
        key = canonical
    elif entity == "dataset" and written not in _DATASET_KEYS:
        raise syntax_error(
            f"Invalid dataset key '{written}' specified. Valid keys are {list(_DATASET_KEYS)}",
            key_pos,
        )
    return entity, key, written


def _is_numeric(entity: Entity, key: str, dialect: _Dialect) -> bool:
    return entity == "metric" or (entity == "attribute" and key in dialect.numeric_attributes)


def _allowed_comparators(entity: Entity, key: str, dialect: _Dialect) -> tuple[Comparator, ...]:
    if _is_numeric(entity, key, dialect):
        return _NUMERIC_OPS
    if entity in ("param", "tag"):
        return _TEXT_OPS + _NULL_OPS
    return _TEXT_OPS + _LIST_OPS


def _comparator_error(
    op: str, pos: int, allowed: tuple[Comparator, ...], entity: Entity, key: str
) -> InvalidParameterValue:
    return syntax_error(
        f"Invalid comparator '{op}' not one of {list(allowed)} for {entity} '{key}'",
        pos,
    )


def _check_value(raw: RawValue, entity: Entity, key: str, written: str, dialect: _Dialect) -> ClauseValue:
    """Check the value's type against the entity (MLflow's messages, in its order)."""
    kind, shown = raw.kind, shorten(raw.text)
    if _is_numeric(entity, key, dialect):
        if kind == "number":
            return raw.payload
        what = "metric" if entity == "metric" else f"numeric attribute: {written}"
        message = f"Expected numeric value type for {what}. Found {shown}"
    elif kind == "string" or (kind == "list" and entity == "dataset"):
        return raw.payload
    elif kind == "unquoted":
        message = (
            "Parameter value is either not quoted or unidentified quote types used"
            f" for string value {shown}. Use either single or double quotes"
        )
    elif kind == "list" and entity == "attribute":
        if key in dialect.list_attributes:
            return raw.payload
        message = (
            f"Only {list(dialect.list_attributes)} attributes support comparison"
            " with a list of quoted string values"
        )
    else:
        example = " (e.g. 'my-value')" if entity in ("param", "tag") else ""
        message = f"Expected a quoted string value for {_NOUNS[entity]}{example}. Got value {shown}"
    raise syntax_error(message, raw.pos)


def _parse_order_by(items: Sequence[str] | None, dialect: _Dialect) -> tuple[OrderKey, ...]:
    if items is None:
        return ()
    if isinstance(items, str) or not isinstance(items, Iterable):
        # A bare string is a Sequence[str] too; iterating it would yield letters.
        raise InvalidParameterValue(f"order_by must be a list of strings, not {items!r}")
    keys: dict[tuple[Entity, str], OrderKey] = {}
    for item in items:
        order_key = _parse_order_item(item, dialect)
        keys.setdefault((order_key.entity, order_key.key), order_key)
    return tuple(keys.values())


def _parse_order_item(item: object, dialect: _Dialect) -> OrderKey:
    if not isinstance(item, str):
        raise InvalidParameterValue(f"Invalid order_by clause {item!r}: expected a string")
    raw, ascending = split_order_entry(item)
    entity, key, _ = _resolve(raw, dialect, dialect.order_attributes)
    if entity not in dialect.order_entities:
        raise syntax_error(dialect.order_entity_error.format(entity), raw.pos)
    return OrderKey(entity, key, ascending)
