"""A crash while an object is being published never leaves it truncated under its name.

Publishing a staged file must not write its bytes again under the final name (a
crash half-way through such a copy leaves a truncated object that later stores
skip because it "exists").  The child process below stages a file completely; then,
before the store publishes it, the process's file-size limit drops below the file's
size, with SIGXFSZ at its default action: any write of the bytes during publishing
kills the process right there, as a crash would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gitrun.core.artifacts.digest import hash_file
from gitrun.core.artifacts.local import LocalBackend
from gitrun.core.artifacts.progress import Silent
from gitrun.core.artifacts.store import ArtifactStore
from tests.core.artifacts.stores import make_file

ROOT = Path(__file__).resolve().parents[3]

CHILD = r"""
import resource, signal, sys
from gitrun.core.artifacts.local import LocalBackend
from gitrun.core.artifacts.store import ArtifactStore
from tests.core.artifacts.stores import ProgressHook

def limit_after_staging(description, moved, total):
    if description.startswith("storing") and moved >= total:
        # Staged whole: from now on, writing half of it again kills the process.
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_FSIZE, (total // 2, total // 2))

store = ArtifactStore(LocalBackend(sys.argv[1]), progress=ProgressHook(limit_after_staging))
print("STORED", store.put_file(sys.argv[2]), flush=True)
"""


def test_publishing_writes_no_bytes_under_the_final_name(tmp_path: Path) -> None:
    source = make_file(tmp_path / "model.bin", 8 * 2**20, seed=5)
    root = tmp_path / "store"
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(root), str(source)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
    )
    digest, size = hash_file(source)
    store = ArtifactStore(LocalBackend(root), progress=Silent())
    # Whatever happened to the child, an object under its name is whole.
    for present in store.iter_digests():
        assert store.verify(present), f"{present} is visible but not whole"
    assert child.returncode == 0, (
        f"publishing wrote the object's bytes again: {child.returncode} {child.stderr}"
    )
    assert child.stdout.split() == ["STORED", str(digest)]
    assert store.verify(digest) and store.size(digest) == size
    # And a store that finds the object there can rely on it.
    assert store.put_file(source) == digest
    assert store.verify(digest)
