"""Reading the record files of many runs through one ``git cat-file --batch`` process.

A first build reads four small files in each of 100k runs: half a million object
reads, each resolving a delta chain in gitrun's pure-Python pack reader.  One
``git cat-file --batch`` process does the same in C and streams the contents back;
it also resolves ``<tree>:<file>`` itself, so the run trees are never read here.
Used when many runs changed and ``git`` is installed; the results are the same as
reading through :class:`~gitrun.core.git.repo.Repository`.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator, Sequence

from gitrun.core.git.cli import clean_env, git_executable
from gitrun.core.git.objects import Oid
from gitrun.core.git.repo import Repository
from gitrun.core.index.rows import RECORD_FILES
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
    proc = subprocess.Popen(
        [git_executable(), f"--git-dir={repo.common_dir}", "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=clean_env(),
    )
    assert proc.stdin is not None and proc.stdout is not None
    requests = proc.stdin

    def feed() -> None:
        # A thread, so that git never blocks on a full stdout while we write.
        try:
            for _, tree in runs:
                requests.write("".join(f"{tree}:{name}\n" for name in RECORD_FILES).encode())
            requests.close()
        except (BrokenPipeError, ValueError):
            pass  # the reader stopped early

    feeder = threading.Thread(target=feed, name="gitrun-index-feed", daemon=True)
    feeder.start()
    out = proc.stdout
    try:
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
        out.close()
        proc.kill()
        proc.wait()
        feeder.join(timeout=5)
