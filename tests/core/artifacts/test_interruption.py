"""A store killed in the middle of a write leaves no object under the hash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gitrun.core.artifacts.digest import hash_file
from gitrun.core.artifacts.progress import Silent
from gitrun.core.artifacts.store import ArtifactStore
from tests.core.artifacts.stores import StoreSpec, make_file

ROOT = Path(__file__).resolve().parents[3]

# The child stores the file with a progress reporter that, halfway through
# the write, says so and then hangs: the parent SIGKILLs it at that point.
CHILD = r"""
import sys, time
from gitrun.core.artifacts.store import ArtifactStore
from tests.core.artifacts.stores import ProgressHook, StoreSpec

def stop_halfway(description, moved, total):
    if description.split()[0] in ("storing", "uploading") and moved >= total // 2:
        print("HALFWAY", description, moved, flush=True)
        time.sleep(600)

spec = StoreSpec.from_json(sys.argv[1])
ArtifactStore(spec.open(), progress=ProgressHook(stop_halfway)).put_file(sys.argv[2])
print("FINISHED", flush=True)
"""


def test_sigkill_mid_write_leaves_no_object_and_a_retry_completes(
    store_spec: StoreSpec, tmp_path: Path
) -> None:
    if store_spec.name == "memory":
        pytest.skip("a memory:// store dies with the process that holds it")
    if store_spec.name == "fsspec-file":
        pytest.skip("fsspec's file:// put_file reports no progress, so the test cannot stop it halfway")
    source = make_file(tmp_path / "checkpoint.pt", 64 * 2**20, seed=11)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, store_spec.to_json(), str(source)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.startswith("HALFWAY"), line
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    store = ArtifactStore(store_spec.open(), progress=Silent())
    digest, _ = hash_file(source)
    assert not store.has(digest)
    assert list(store.iter_digests()) == []

    assert store.put_file(source) == digest
    assert store.verify(digest)
    assert store.get_file(digest, tmp_path / "back.pt").read_bytes() == source.read_bytes()
