"""Coverage-guided fuzzing (atheris) of what gitrun reads from outside: the filter
parser, the YAML record readers, manifests and journals.  Any exception other than
gitrun's own is a finding (atheris stops and saves the input).

    pip install atheris
    python bench/fuzz_records.py filter -max_total_time=60
    python bench/fuzz_records.py yaml -max_total_time=60 -rss_limit_mb=512
    python bench/fuzz_records.py manifest -max_total_time=60
    python bench/fuzz_records.py journal -max_total_time=60

``-rss_limit_mb`` bounds memory (a YAML alias bomb that expanded would trip it) and
``-timeout`` (default 30 s per input) catches hangs.  The hypothesis tests in
tests/reliability/test_fuzz.py cover the same targets in CI.
"""

from __future__ import annotations

import os
import sys
import tempfile

import atheris

with atheris.instrument_imports():
    from gitrun.core.artifacts.manifest import Manifest
    from gitrun.core.index import recordyaml, rows
    from gitrun.core.index.grammar import parse_experiment_filter, parse_filter, parse_order_by
    from gitrun.core.records import journal as jnl
    from gitrun.core.records import series, yamlfmt
    from gitrun.errors import GitrunError

_JOURNAL = os.path.join(tempfile.mkdtemp(prefix="gitrun-fuzz-"), "x.jnl")


def fuzz_filter(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(len(data))
    for parse in (parse_filter, parse_experiment_filter, lambda t: parse_order_by([t])):
        try:
            parse(text)
        except GitrunError:
            pass


def fuzz_yaml(data: bytes) -> None:
    for reader in (
        yamlfmt.load,
        recordyaml.load,
        recordyaml.load_flat,
        recordyaml.load_latest,
        recordyaml.load_top_scalars,
    ):
        try:
            reader(data, "fuzz")
        except GitrunError:
            pass
    try:
        rows.parse_run("a" * 32, dict.fromkeys(rows.RECORD_FILES, data))
    except GitrunError:
        pass
    try:
        series.decode_chunk(data, "fuzz")
    except GitrunError:
        pass


def fuzz_manifest(data: bytes) -> None:
    try:
        Manifest.from_bytes(b'{"gitrun_manifest":' + data)
    except GitrunError:
        pass


def fuzz_journal(data: bytes) -> None:
    header = jnl.HEADER.pack(jnl.MAGIC, 1, jnl.HEADER_SIZE, 1, b"fuzzfuzz").ljust(jnl.HEADER_SIZE, b"\0")
    with open(_JOURNAL, "wb") as fh:
        fh.write(header + data)
    jnl.read_records(_JOURNAL)  # never raises


TARGETS = {"filter": fuzz_filter, "yaml": fuzz_yaml, "manifest": fuzz_manifest, "journal": fuzz_journal}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: python bench/fuzz_records.py {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
