"""Where a filter value is malformed, the error says what was expected there."""

from __future__ import annotations

import pytest

from gitrun.core.index.grammar import parse_filter
from gitrun.errors import InvalidParameterValue

LIST_HINT = "a list is only allowed after IN or NOT IN"


@pytest.mark.parametrize(
    ("filter_string", "found", "position", "hint"),
    [
        ("metrics.a = (1)", "'('", 12, True),
        ("params.a = ('x', 'y')", "'('", 11, True),
        ("metrics.a > *", "'*'", 12, False),
        ("params.a = )", "')'", 11, False),
        ("params.a = @x", "'@x'", 11, False),
        ("params.a = ", "end of filter", 11, False),
    ],
)
def test_a_malformed_value_names_what_was_found_and_expected(
    filter_string: str, found: str, position: int, hint: bool
) -> None:
    with pytest.raises(InvalidParameterValue) as excinfo:
        parse_filter(filter_string)
    message = excinfo.value.message
    assert f"{found}, expected a value" in message and f"(at position {position})" in message
    assert (LIST_HINT in message) is hint
