"""Reading the record files of many runs through one ``git cat-file --batch`` process.

A first build reads four small files in each of 100k runs: half a million object
reads, each resolving a delta chain in gitrun's pure-Python pack reader.  One
``git cat-file --batch`` process does the same in C and streams the contents back;
it also resolves ``<tree>:<file>`` itself, so the run trees are never read here.
Used when many runs changed and ``git`` is installed; the results are the same as
reading through :class:`~gitrun.core.git.repo.Repository`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import IO

from gitrun.core.git.cli import batch_git, git_executable
from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from gitrun.core.records.values import RECORD_FILES
from gitrun.errors import GitrunError

MIN_RUNS = 300
"""Below this many runs the process start costs more than it saves."""


def available() -> bool:
    try:
        git_executable()
    except GitrunError:
        return False
    return True


def record_files(
    repo: Repository, runs: Sequence[tuple[str, Oid]]
) -> Iterator[tuple[str, Oid, dict[str, bytes]]]:
    """``(run_id, tree, {file name: contents})`` for every run, in order.

    Raises:
        GitrunError: git stopped answering (the caller falls back to the Python reader).
    """

    def feed(requests: IO[bytes]) -> None:
        # A thread, so that git never blocks on a full stdout while we write.
        try:
            for _, tree in runs:
                requests.write("".join(f"{tree}:{name}\n" for name in RECORD_FILES).encode())
            requests.close()
        except (BrokenPipeError, ValueError):
            pass  # the reader stopped early

    feeder: threading.Thread | None = None
    try:
        # Leaving the block kills git, which unblocks a feeder still writing.
        with batch_git(["cat-file", "--batch"], git_dir=repo.common_dir) as (requests, out):
            feeder = threading.Thread(target=feed, args=(requests,), name="gitrun-index-feed", daemon=True)
            feeder.start()
            for run_id, tree in runs:
                files: dict[str, bytes] = {}
                for name in RECORD_FILES:
                    header = out.readline()
                    if not header:
                        raise GitrunError("git cat-file --batch stopped before answering every request")
                    if header.endswith(b" missing\n"):
                        continue
                    _, kind, size = header.split()
                    data = out.read(int(size))
                    out.read(1)  # the newline after each object
                    if kind == b"blob":
                        files[name] = data
                yield run_id, tree, files
    finally:
        if feeder is not None:
            feeder.join(timeout=5)
