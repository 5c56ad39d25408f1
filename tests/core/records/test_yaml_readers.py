"""The fast record readers (yamlfmt.load & co) return exactly what PyYAML's safe loader returns."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gitrun.core.records import yamlfmt

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
_keys = st.one_of(_text, st.sampled_from(["on", "yes", "null", "a", "a.b", "x/y", "-", "_k", "1"]))
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=True),
    _text,
    st.sampled_from(["true", "No", "0.5", "1e3", ".inf", "~", "a: b", "- x", '"q"', "\x85", "\u2028"]),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(_scalars, max_size=4), st.dictionaries(_keys, inner, max_size=4)),
    max_leaves=12,
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@settings(max_examples=300)
@given(st.dictionaries(_keys, _values, max_size=6))
def test_load_matches_pyyaml(data: dict[str, Any]) -> None:
    text = yamlfmt.dump(data).encode()
    assert _same(yamlfmt.load(text, "t"), yamlfmt.safe_load(text, "t"))


@settings(max_examples=300)
@given(st.dictionaries(_keys, _values, max_size=6))
def test_top_scalars_match_pyyaml(data: dict[str, Any]) -> None:
    text = yamlfmt.dump(data).encode()
    full = yamlfmt.safe_load(text, "t") or {}
    expected = {k: v for k, v in full.items() if not isinstance(v, (dict, list))}
    assert _same(yamlfmt.load_top_scalars(text, "t"), expected)


@settings(max_examples=300)
@given(st.dictionaries(_keys, _text, max_size=8))
def test_flat_mappings_match_pyyaml(data: dict[str, str]) -> None:
    text = yamlfmt.dump(data).encode()
    assert _same(yamlfmt.load_flat(text, "t"), yamlfmt.safe_load(text, "t") or {})


@settings(max_examples=300)
@given(
    st.dictionaries(
        _keys, st.tuples(st.integers(-(2**63), 2**63), st.integers(0, 2**62), st.floats()), max_size=8
    )
)
def test_latest_metrics_match_pyyaml(points: dict[str, tuple[int, int, float]]) -> None:
    data = {k: {"step": s, "timestamp": t, "value": v} for k, (s, t, v) in points.items()}
    text = yamlfmt.dump(data).encode()
    expected = {k: float(p["value"]) for k, p in (yamlfmt.safe_load(text, "t") or {}).items()}
    assert _same(yamlfmt.load_latest(text, "t"), expected)


def test_hand_written_yaml_falls_back_to_pyyaml() -> None:
    for text in (b"a: 1 # comment\n", b"{a: 1, b: [1, 2]}\n", b"a:\n  - x: 1\n", b"---\na: 1\n", b"a: 'x'\n"):
        assert yamlfmt.load(text, "t") == yamlfmt.safe_load(text, "t")
    assert yamlfmt.load_flat(b"a: 1\nb: yes\n", "t") == {"a": 1, "b": True}
    assert yamlfmt.load_top_scalars(b"a: 1\nb:\n  c: 2\n", "t") == {"a": 1}
