"""Shared helpers of the reliability tests: scripts in real processes, file-system
fingerprints, small file systems mounted as root, and every object of a remote.

The short variants run in CI; ``GITRUN_RELIABILITY_LONG=1`` makes the randomised
tests try many more times (``bench/bench_reliability.py`` prints their figures).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import git

LONG = os.environ.get("GITRUN_RELIABILITY_LONG") == "1"
GITRUN = [sys.executable, "-m", "gitrun.cli"]


def trials(short: int, long: int) -> int:
    """How many times a randomised test tries (more with GITRUN_RELIABILITY_LONG=1)."""
    return long if LONG else short


def script(
    cwd: Path | str,
    code: str,
    *args: str | bytes,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float = 180,
) -> subprocess.CompletedProcess[bytes]:
    """Run Python ``code`` in a new process (argv may hold raw bytes)."""
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"script failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')}")
    return proc


def cli(
    cwd: Path | str, *args: str | bytes, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The ``gitrun`` command in a new process; output as bytes (exactly what a terminal gets)."""
    return subprocess.run(
        [*GITRUN, *args],
        cwd=cwd,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=180,
        check=False,
    )


def tree_fingerprint(top: Path) -> dict[str, str]:
    """Every file, folder and link below ``top`` with its content hash and mode."""
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            path = Path(folder, name)
            st = path.lstat()
            key = str(path.relative_to(top))
            if path.is_symlink():
                found[key] = f"link {os.readlink(path)}"
            elif path.is_dir():
                found[key] = f"dir {st.st_mode:o}"
            else:
                found[key] = f"file {st.st_mode:o} {hashlib.sha256(path.read_bytes()).hexdigest()}"
    return found


def all_objects(git_dir: Path) -> list[tuple[str, str, bytes]]:
    """``(oid, type, content)`` of every object in a repository (loose and packed)."""
    listing = subprocess.run(
        ["git", "--git-dir", str(git_dir), "cat-file", "--batch-all-objects", "--batch-check"],
        capture_output=True,
        check=True,
    ).stdout.split(b"\n")
    oids = [line.split()[0] for line in listing if line]
    batch = subprocess.run(
        ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
        input=b"\n".join(oids) + b"\n",
        capture_output=True,
        check=True,
    ).stdout
    out, pos = [], 0
    while pos < len(batch):
        header_end = batch.index(b"\n", pos)
        oid, kind, size = batch[pos:header_end].split()
        start = header_end + 1
        out.append((oid.decode(), kind.decode(), batch[start : start + int(size)]))
        pos = start + int(size) + 1
    return out


def reachable_names_and_blobs(git_dir: Path) -> tuple[set[bytes], list[bytes]]:
    """Every tree entry name and every blob reachable from any ref of ``git_dir``."""
    listing = subprocess.run(
        ["git", "--git-dir", str(git_dir), "rev-list", "--objects", "--all"],
        capture_output=True,
        check=True,
    ).stdout
    reachable = {line.split(b" ", 1)[0].decode() for line in listing.split(b"\n") if line}
    names: set[bytes] = set()
    blobs: list[bytes] = []
    for oid, kind, data in all_objects(git_dir):
        if oid not in reachable:
            continue
        if kind == "blob":
            blobs.append(data)
        elif kind == "tree":
            pos = 0
            while pos < len(data):
                nul = data.index(b"\0", pos)
                names.add(data[pos:nul].split(b" ", 1)[1])
                pos = nul + 21
    return names, blobs


@contextlib.contextmanager
def mounted_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (as root); skips the test when not allowed."""
    where.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, check=False
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {proc.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


@contextlib.contextmanager
def read_only_bind(path: Path) -> Iterator[Path]:
    """``path`` bind-mounted read-only onto itself (as root); skips when not allowed."""
    first = subprocess.run(["mount", "--bind", str(path), str(path)], capture_output=True, check=False)
    if first.returncode != 0:
        pytest.skip(f"cannot bind-mount here (needs root): {first.stderr.decode(errors='replace').strip()}")
    try:
        second = subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(path)], capture_output=True, check=False
        )
        if second.returncode != 0:
            pytest.skip(f"cannot remount read-only: {second.stderr.decode(errors='replace').strip()}")
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def replace_record_file(repo_path: Path, run_id: str, name: str, data: bytes) -> None:
    """Commit ``data`` as a run's record file, as a record fetched from elsewhere could be."""
    from gitrun.core.git.objects import MODE_BLOB
    from gitrun.core.git.repo import Repository
    from gitrun.core.records import layout
    from gitrun.core.records.store import Edit, RecordStore

    repo = Repository.at(str(repo_path))
    assert repo is not None
    store = RecordStore(repo)
    path = f"{layout.run_dir(run_id)}/{name}"
    entry = store.entry(path)
    store.commit({path: Edit(repo.write_blob(data), MODE_BLOB, entry.oid if entry else None)}, "crafted")


def make_repo(path: Path) -> Path:
    """A git work tree with one commit."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    (path / "train.py").write_text("print('train')\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "initial")
    return path


def unique() -> str:
    return uuid.uuid4().hex[:8]
