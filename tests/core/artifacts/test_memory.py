"""Storing and fetching a 2 GB file never holds it in memory."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SIZE = 2 * 10**9
RSS_LIMIT = 200 * 2**20

CHILD = r"""
import json, resource, sys, time
from gitrun.core.artifacts.local import LocalBackend
from gitrun.core.artifacts.progress import Silent
from gitrun.core.artifacts.store import ArtifactStore

source, store_dir, dest = sys.argv[1:4]
store = ArtifactStore(LocalBackend(store_dir), progress=Silent())
started = time.perf_counter()
digest = store.put_file(source)
stored = time.perf_counter()
store.get_file(digest, dest)
fetched = time.perf_counter()
print(json.dumps({
    "digest": str(digest),
    "max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "put_seconds": stored - started,
    "get_seconds": fetched - stored,
}))
"""


def sparse_ish_file(path: Path, size: int) -> Path:
    """Mostly holes, with a random MiB every 100 MB so the content matters."""
    rng = random.Random(7)
    with open(path, "wb") as out:
        out.truncate(size)
        for offset in range(0, size - 2**20, 100 * 10**6):
            out.seek(offset)
            out.write(rng.randbytes(2**20))
    return path


# Linux keeps a process's peak RSS across exec, and a child starts from its
# parent's: a child of the (large) pytest process would report pytest's peak.
# So the measured process is a grandchild, started from a small launcher.
LAUNCHER = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"


@pytest.mark.slow
def test_put_and_get_of_2gb_stay_under_200mb_rss(tmp_path: Path) -> None:
    source = sparse_ish_file(tmp_path / "big.bin", SIZE)
    dest = tmp_path / "out" / "big.bin"
    child = [sys.executable, "-c", CHILD, str(source), str(tmp_path / "store"), str(dest)]
    result = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *child],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(result.stdout)
    assert report["max_rss"] < RSS_LIMIT, report
    assert dest.stat().st_size == SIZE
    put, get, rss = report["put_seconds"], report["get_seconds"], report["max_rss"] >> 20
    print(f"2 GB: put {put:.1f} s, get {get:.1f} s, peak RSS {rss} MiB")
