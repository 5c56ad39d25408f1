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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
with atheris.instrument_imports():
    from tests.reliability.fuzz_targets import (
        journal_bytes,
        parse_filters,
        read_journal,
        read_manifest,
        read_record,
    )

_JOURNAL = os.path.join(tempfile.mkdtemp(prefix="gitrun-fuzz-"), "x.jnl")


def fuzz_filter(data: bytes) -> None:
    parse_filters(atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(len(data)))


def fuzz_manifest(data: bytes) -> None:
    read_manifest(b'{"gitrun_manifest":' + data)


def fuzz_journal(data: bytes) -> None:
    with open(_JOURNAL, "wb") as fh:
        fh.write(journal_bytes(data))
    read_journal(_JOURNAL)


TARGETS = {"filter": fuzz_filter, "yaml": read_record, "manifest": fuzz_manifest, "journal": fuzz_journal}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: python bench/fuzz_records.py {{{','.join(TARGETS)}}} [libFuzzer options]")
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
