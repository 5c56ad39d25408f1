"""Record formats: the YAML emitter, metric series chunks, key encoding."""

from __future__ import annotations

import math
import subprocess
import sys
from array import array
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gitrun.core.records import layout, series, yamlfmt
from gitrun.errors import InvalidRecord
from tests.conftest import git

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=20), documents, max_size=6))
def test_emitter_round_trips_through_the_safe_loader(doc: dict[str, object]) -> None:
    text = yamlfmt.dump(doc)
    assert _same(yaml.safe_load(text) or {}, doc)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=20), documents, max_size=6))
def test_a_record_read_back_serialises_to_the_same_bytes(doc: dict[str, object]) -> None:
    # Why gitrun has its own emitter: an unchanged record keeps its bytes, hence its blob id.
    text = yamlfmt.dump(doc)
    for reader in (yamlfmt.load, yamlfmt.safe_load):
        again = reader(text.encode(), "t") or {}
        assert yamlfmt.dump(again) == text
        assert _same(again, doc)


def test_emitter_output_is_readable() -> None:
    text = yamlfmt.dump(
        {
            "run_id": "abc",
            "status": "FINISHED",
            "count": 3,
            "lr": 1e-05,
            "ok": True,
            "tags": {"mlflow.runName": "x y"},
            "argv": ["train.py", "--lr", "0.1"],
        }
    )
    assert text == (
        'run_id: abc\nstatus: FINISHED\ncount: 3\nlr: 1.0e-05\nok: true\ntags:\n  mlflow.runName: "x y"\n'
        'argv:\n- train.py\n- "--lr"\n- "0.1"\n'
    )


def test_safe_loader_refuses_python_objects() -> None:
    with pytest.raises(InvalidRecord):
        yamlfmt.load("a: !!python/object/apply:os.system ['true']", "evil.yaml")


def test_series_chunks_are_exact() -> None:
    steps = array("q", [0, -5, 2**63 - 1, -(2**63)])
    timestamps = array("q", [0, 1, 1700000000000, 2**62])
    values = array("d", [float("nan"), float("inf"), float("-inf"), 5e-324])
    blob = series.encode_chunk("train/loss", steps, timestamps, values)
    header = blob.split(b"\n---\n")[0]
    assert yaml.safe_load(header)["count"] == 4  # the header is readable YAML
    s, t, v = series.decode_chunk(blob, "chunk")
    assert list(s) == list(steps) and list(t) == list(timestamps)
    assert math.isnan(v[0]) and list(v[1:]) == list(values[1:])
    assert series.chunk_count(blob) == 4


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b.replace(b"gitrun-series/1", b"gitrun-series/9"),
        lambda b: b.replace(b"count: 2", b"count: 3"),
        lambda b: b.replace(b"\n---\n", b"\n"),
        lambda b: b[:-10],
        lambda b: b"",
    ],
)
def test_malformed_chunks_are_refused(mangle) -> None:  # type: ignore[no-untyped-def]
    blob = series.encode_chunk("k", array("q", [1, 2]), array("q", [3, 4]), array("d", [5.0, 6.0]))
    with pytest.raises(InvalidRecord, match="metric series chunk"):
        series.decode_chunk(mangle(blob), "runs/x/metrics/k/c")


@pytest.mark.parametrize("key", ["a/b", ".git", "%", "a%2Fb", ".hidden/x", "plain"])
def test_key_encoding_round_trips(key: str) -> None:
    name = layout.encode_key(key)
    assert "/" not in name and not name.startswith(".")
    assert layout.decode_key(name) == key


def test_run_dirs_fan_out() -> None:
    assert layout.run_dir("1af3c0ffee") == "runs/1/a/f/1af3c0ffee"
    assert layout.run_dir("ab") == "runs/a/b/_/ab"


def test_start_run_does_not_import_pyyaml(work_repo: Path) -> None:
    script = (
        "import sys, gitrun\n"
        "with gitrun.start_run():\n"
        "    gitrun.log_param('p', 1)\n"
        "    gitrun.log_metric('m', 1.0)\n"
        "with gitrun.start_run():\n"  # the second one reads the records written by the first
        "    pass\n"
        "gitrun.flush()\n"
        "print(sorted(m for m in sys.modules if m == 'yaml' or m.startswith('yaml.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=work_repo, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stderr
    assert git(work_repo, "rev-parse", "--verify", "-q", "refs/gitrun/records").strip()
