"""`gitrun gc --grace 0` while runs log artifacts never deletes what a live writer, an
unreplayed journal or an upload in progress needs; what killed writers left is
cleaned up (local temporary files, abandoned S3 multipart uploads)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gitrun import MlflowClient
from gitrun.core.artifacts import layout
from tests.reliability.conftest import GITRUN, cli, trials
from tests.servers import BUCKET

WRITER = """
import os, sys, gitrun
tag = sys.argv[1]
os.makedirs(f"out-{tag}/dir", exist_ok=True)
for i in range(int(sys.argv[2])):
    with gitrun.start_run() as run:
        gitrun.log_text(f"{tag} text {i}", "notes/a.txt")
        with open(f"out-{tag}/file.bin", "wb") as fh:
            fh.write(os.urandom(200_000))
        gitrun.log_artifact(f"out-{tag}/file.bin")
        with open(f"out-{tag}/dir/x.txt", "w") as fh:
            fh.write(f"{tag}-{i}")
        gitrun.log_artifacts(f"out-{tag}/dir", "folder")
    print(run.info.run_id, flush=True)
"""
COLLECTOR = """
import os, subprocess, sys
while not os.path.exists("stop"):
    subprocess.run([*sys.argv[1:], "gc", "--grace", "0"], capture_output=True)
"""


@pytest.mark.parametrize("trial", range(trials(1, 8)))
def test_gc_grace_zero_during_writes_deletes_nothing_in_use(in_repo: Path, trial: int) -> None:
    collector = subprocess.Popen([sys.executable, "-c", COLLECTOR, *GITRUN], cwd=in_repo)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, tag, "6"],
            cwd=in_repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "GITRUN_FLUSH_INTERVAL": "1"},
        )
        for tag in ("a", "b")
    ]
    results = [w.communicate(timeout=600) for w in writers]
    (in_repo / "stop").touch()
    collector.wait(timeout=300)
    client = MlflowClient()
    for writer, (out, err) in zip(writers, results, strict=True):
        assert writer.returncode == 0, err.decode()
        assert b"not reachable" not in err
        for run_id in out.decode().split():
            # Every artifact of every run is still there, verified on the way out.
            target = Path(client.download_artifacts(run_id, "", str(in_repo / "check" / run_id)))
            assert " text " in (target / "notes" / "a.txt").read_text()
            assert (target / "file.bin").stat().st_size == 200_000
            assert (target / "folder" / "x.txt").exists()
    done = cli(in_repo, "gc", "--grace", "0")
    assert done.returncode == 0, done.stderr
    assert cli(in_repo, "fsck").returncode == 0


LIVE = """
import time, gitrun
with open("big.bin", "wb") as fh:
    fh.write(b"live" * 100_000)
run = gitrun.start_run()
gitrun.log_artifact("big.bin")
print(run.info.run_id, flush=True)  # journaled only: nothing committed yet
time.sleep(600)
"""


def test_gc_keeps_objects_only_a_journal_references(in_repo: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", LIVE],
        cwd=in_repo,
        stdout=subprocess.PIPE,
        env={**os.environ, "GITRUN_FLUSH_INTERVAL": "3600"},
    )
    assert writer.stdout is not None
    run_id = writer.stdout.readline().decode().strip()
    assert cli(in_repo, "gc", "--grace", "0").returncode == 0  # the writer is alive
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    # The dead writer's journal is the only reference until the next command recovers it.
    proc = subprocess.run(
        [*GITRUN, "gc", "--grace", "0"], cwd=in_repo, capture_output=True, check=False, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    got = Path(MlflowClient().download_artifacts(run_id, "big.bin", str(in_repo / "back")))
    assert got.read_bytes() == b"live" * 100_000


HOLD_STAGED = """
import sys, time
from gitrun.core.artifacts.local import LocalBackend
staged = LocalBackend(sys.argv[1]).open_staging()
staged.write(memoryview(b"partial upload"))
print(staged.path, flush=True)
time.sleep(600)
"""


def test_temporary_files_of_live_writers_are_kept_and_of_dead_ones_removed(in_repo: Path) -> None:
    with open("x.txt", "w") as fh:
        fh.write("x")
    client = MlflowClient()
    run_id = client.create_run("0").info.run_id
    client.log_artifact(run_id, "x.txt")
    client.flush()
    store = in_repo / ".git" / "gitrun" / "artifacts"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_STAGED, str(store)], cwd=in_repo, stdout=subprocess.PIPE
    )
    assert holder.stdout is not None
    staged = Path(holder.stdout.readline().decode().strip())
    old = time.time() - 7200
    os.utime(staged, (old, old))
    dead = store / layout.OBJECTS / "sha256" / "ab" / f"{layout.TEMP_PREFIX}killed"
    dead.parent.mkdir(parents=True, exist_ok=True)
    dead.write_bytes(b"x" * 1000)
    os.utime(dead, (old, old))
    try:
        assert cli(in_repo, "gc", "--grace", "0").returncode == 0
        assert staged.exists(), "an upload in progress was deleted"
        assert not dead.exists(), "a killed upload's temporary file was left"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert cli(in_repo, "gc", "--grace", "0").returncode == 0
    assert not staged.exists()


def test_abandoned_s3_multipart_uploads_are_aborted(in_repo: Path, s3_endpoint: str) -> None:
    import s3fs

    prefix = f"gc-{os.getpid()}-{time.time_ns()}"
    (in_repo / ".gitrun.yaml").write_text(
        f"artifacts:\n  remote: s3://{BUCKET}/{prefix}\n  options:\n    endpoint_url: {s3_endpoint}\n"
    )
    fs = s3fs.S3FileSystem(endpoint_url=s3_endpoint, key="testing", secret="testing")
    key = f"{prefix}/{layout.OBJECTS}/sha256/ab/cdef"
    upload = fs.call_s3("create_multipart_upload", Bucket=BUCKET, Key=key)
    fs.call_s3(
        "upload_part", Bucket=BUCKET, Key=key, UploadId=upload["UploadId"], PartNumber=1, Body=b"x" * 1024
    )

    def listed() -> list[str]:
        found = fs.call_s3("list_multipart_uploads", Bucket=BUCKET, Prefix=f"{prefix}/")
        return [u["UploadId"] for u in found.get("Uploads", [])]

    assert listed() == [upload["UploadId"]]
    # (moto reports every upload as started in 2010, so the default age of 24 hours
    # cannot be seen at work here; real S3 reports the real time.)
    done = cli(in_repo, "gc", env={"GITRUN_ABANDONED_UPLOAD_HOURS": "0"})
    assert done.returncode == 0, done.stderr
    assert listed() == []
