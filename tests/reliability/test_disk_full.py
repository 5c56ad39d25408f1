"""A full disk, a file size limit or a read-only repository: a catchable gitrun error
(never SIGBUS, never a raw OSError), and nothing already returned is lost.

The disk-full cases mount a small tmpfs (as root) and skip, saying why, where mounting
is not permitted.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

from gitrun import MlflowClient
from gitrun.tracking import session as tracking_session
from tests.reliability.conftest import cli, make_repo, mounted_tmpfs, read_only_bind

FILL_AND_LOG = r"""
import errno, os, sys, gitrun
from gitrun.errors import NoSpace

def fill(leave):
    # Take every free block but `leave` bytes.
    st = os.statvfs(".")
    size = st.f_bavail * st.f_frsize - leave
    with open(f"filler-{len(os.listdir('.'))}", "wb") as fh:
        if size > 0:
            os.posix_fallocate(fh.fileno(), 0, size)

def empty():
    for name in os.listdir("."):
        if name.startswith("filler-"):
            os.unlink(name)

run = gitrun.start_run()
n = 0
for _ in range(20000):
    gitrun.log_metric("m", float(n), step=n); n += 1
fill(0)
try:
    gitrun.flush()  # git objects: no room
    sys.exit("flush did not fail")
except NoSpace as exc:
    assert isinstance(exc.__cause__, OSError) and exc.__cause__.errno == errno.ENOSPC, exc.__cause__
    print("flush-refused", flush=True)
for _ in range(1000):  # the journal still has room: logging goes on
    gitrun.log_metric("m", float(n), step=n); n += 1
empty()
gitrun.flush()
fill(64 * 1024)
try:
    while True:  # the journal needs a new block: no room
        gitrun.log_metric("m", float(n), step=n); n += 1
except NoSpace as exc:
    print("log-refused", n, exc.__cause__.errno, flush=True)
empty()
gitrun.log_metric("m", float(n), step=n); n += 1
print("returned", run.info.run_id, n, flush=True)
"""


def test_full_disk_raises_no_space_and_loses_nothing(tmp_path: Path) -> None:
    with mounted_tmpfs(tmp_path / "small", "24m") as fs:
        repo = make_repo(fs / "repo")
        proc = subprocess.run(
            [sys.executable, "-c", FILL_AND_LOG],
            cwd=repo,
            capture_output=True,
            env={**os.environ, "GITRUN_FLUSH_INTERVAL": "3600"},
            timeout=300,
            check=False,
        )
        out = proc.stdout.decode()
        assert proc.returncode == 0, (proc.returncode, out, proc.stderr.decode())  # not 135 (SIGBUS)
        assert "flush-refused" in out
        refused = next(line.split() for line in out.splitlines() if line.startswith("log-refused"))
        assert refused[2] == str(28)  # ENOSPC as the cause
        _, run_id, returned = next(line.split() for line in out.splitlines() if line.startswith("returned"))
        tracking_session.close_all()
        os.chdir(repo)
        try:
            client = MlflowClient()
            steps = [m.step for m in client.get_metric_history(run_id, "m")]
            assert steps == list(range(int(returned)))
            assert client.get_run(run_id).info.status == "FINISHED"
        finally:
            tracking_session.close_all()
            os.chdir(tmp_path)


ULIMIT = r"""
import gitrun
from gitrun.errors import NoSpace
run = gitrun.start_run()
n = 0
try:
    while True:
        gitrun.log_metric("m", float(n), step=n); n += 1
except NoSpace as exc:
    print(run.info.run_id, n, exc.__cause__.errno, "|", exc, flush=True)
"""


def test_file_size_limit_raises_no_space(in_repo: Path) -> None:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (3 << 20, 3 << 20))

    proc = subprocess.run(
        [sys.executable, "-c", ULIMIT],
        cwd=in_repo,
        capture_output=True,
        preexec_fn=limit,
        env={**os.environ, "GITRUN_FLUSH_INTERVAL": "3600"},
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    head, message = proc.stdout.decode().split("|", 1)
    run_id, returned, cause = head.split()
    assert cause == "27"  # EFBIG
    assert "file size limit" in message
    # The points that went in before the limit are all there (the journal held them).
    steps = [m.step for m in MlflowClient().get_metric_history(run_id, "m")]
    assert steps == list(range(int(returned)))


def test_read_only_repository_gives_a_clear_error_and_reads_still_work(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "ro")
    done = cli(repo, "run", "--", sys.executable, "-c", "print('first')")
    assert done.returncode == 0, done.stderr
    with read_only_bind(repo / ".git"):
        started = subprocess.run(
            [sys.executable, "-c", "import gitrun\ngitrun.start_run()"],
            cwd=repo,
            capture_output=True,
            timeout=120,
            check=False,
        )
        err = started.stderr.decode()
        assert started.returncode == 1
        assert "StoreUnavailable" in err and "read-only" in err and "OSError" not in err.split("\n")[-2]
        run = cli(repo, "run", "--", sys.executable, "-c", "print(1)")
        assert run.returncode == 1 and b"read-only" in run.stderr and b"unexpected error" not in run.stderr
        listed = cli(repo, "runs", "ls")
        assert listed.returncode == 0, listed.stderr
        assert b"FINISHED" in listed.stdout
