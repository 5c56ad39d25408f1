"""Artifacts with a shared store: configuration, write-through, clones, dedup, memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
import warnings
from pathlib import Path

import pytest

import gitrun
from gitrun import MlflowClient
from gitrun.errors import InvalidParameterValue
from gitrun.tracking.artifacts import transfer
from gitrun.tracking.artifacts.stores import local_store_path, stores_for
from tests.conftest import git
from tests.servers import BUCKET, S3Server

pytestmark = pytest.mark.usefixtures("in_repo")
ROOT = Path(__file__).resolve().parents[2]


def write_config(repo: Path, section: dict[str, object]) -> None:
    (repo / ".gitrun.yaml").write_text(json.dumps({"artifacts": section}))  # JSON is YAML


def s3_section(endpoint: str) -> dict[str, object]:
    return {"remote": f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}", "options": {"endpoint_url": endpoint}}


def sparse_file(path: Path, size: int) -> Path:
    """``size`` bytes, mostly a hole, with distinct data at a few places (fast to make)."""
    with open(path, "wb") as out:
        out.truncate(size)
        for n, offset in enumerate(range(0, size, max(1, size // 8))):
            out.seek(offset)
            out.write(os.urandom(4096) + n.to_bytes(8, "big"))
    return path


def store_bytes(repo: Path) -> int:
    root = Path(repo, ".git", "gitrun", "artifacts", "objects")
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    "options",
    [
        {"key": "AKIA", "secret": "x"},
        {"endpoint_url": "http://x", "aws_secret_access_key": "x"},
        {"client_kwargs": {"aws_session_token": "x"}},
        {"token": "/home/me/creds.json"},
        {"password": "x"},
    ],
)
def test_credentials_in_the_committed_config_are_refused(in_repo: Path, options: dict[str, object]) -> None:
    write_config(in_repo, {"remote": "s3://bucket/prefix", "options": options})
    with gitrun.start_run():
        with pytest.raises(InvalidParameterValue, match="credentials never go into the repository"):
            gitrun.log_text("x", "a.txt")


def test_credentials_in_the_url_are_refused_and_modes_are_not_credentials(in_repo: Path) -> None:
    write_config(in_repo, {"remote": "s3://AKIA:secret@bucket/prefix"})
    with gitrun.start_run(), pytest.raises(InvalidParameterValue, match="user name or password"):
        gitrun.log_text("x", "a.txt")
    from gitrun.core.artifacts.config import load_config

    write_config(in_repo, {"remote": "gs://bucket/p", "options": {"token": "anon", "project": "p"}})
    assert load_config(str(in_repo), str(in_repo / ".git")).options == {"token": "anon", "project": "p"}


def test_write_through_to_a_folder_store_and_env_override(in_repo: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    write_config(in_repo, {"remote": str(shared)})
    with gitrun.start_run() as run:
        gitrun.log_text("to the shared store", "a.txt")
    digest = transfer.referenced_digests(MlflowClient().store, [run.info.run_id]).digests
    [only] = digest
    assert (shared / "objects" / "sha256" / only.hexdigest[:2] / only.hexdigest[2:]).is_file()

    other = tmp_path / "override"
    os.environ["GITRUN_ARTIFACT_STORE"] = str(other)
    try:
        with gitrun.start_run():
            gitrun.log_text("elsewhere", "b.txt")
    finally:
        del os.environ["GITRUN_ARTIFACT_STORE"]
    assert any((other / "objects").rglob("*"))
    assert len([p for p in (shared / "objects").rglob("*") if p.is_file()]) == 1


def test_an_unreachable_remote_warns_once_and_push_uploads_later(in_repo: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be")
    write_config(in_repo, {"remote": str(blocker / "store")})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with gitrun.start_run() as run:
            gitrun.log_text("one", "a.txt")
            gitrun.log_text("two", "b.txt")
    messages = [str(w.message) for w in caught if "could not upload" in str(w.message)]
    assert len(messages) == 1 and "gitrun push" in messages[0]
    assert gitrun.artifacts.load_text(f"runs:/{run.info.run_id}/b.txt") == "two"  # nothing lost

    blocker.unlink()
    report = transfer.push_referenced(MlflowClient().store)
    assert report.ok and len(report.copied) == 2 and report.referenced == 2
    again = transfer.push_referenced(MlflowClient().store)
    assert again.copied == () and again.ok


def test_a_clone_downloads_artifacts_from_the_s3_remote(
    in_repo: Path, tmp_path: Path, s3_endpoint: str, tree_files: Path
) -> None:
    write_config(in_repo, s3_section(s3_endpoint))
    git(in_repo, "add", ".gitrun.yaml")
    git(in_repo, "commit", "-q", "-m", "artifact remote")
    with gitrun.start_run() as run:
        gitrun.log_artifacts(str(tree_files), artifact_path="checkpoints")
        gitrun.log_text("hello", "notes.txt")
    gitrun.flush()

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(in_repo), str(clone))
    git(clone, "fetch", "-q", str(in_repo), "+refs/gitrun/records:refs/gitrun/records")
    client = MlflowClient(str(clone))
    assert not Path(clone, ".git", "gitrun", "artifacts").exists()
    out = Path(client.download_artifacts(run.info.run_id, "checkpoints", str(tmp_path / "dl")))
    assert sorted(p.name for p in out.iterdir()) == ["epoch_0.pt", "epoch_1.pt"]
    assert (out / "epoch_1.pt").read_bytes() == (tree_files / "epoch_1.pt").read_bytes()
    report = transfer.fetch_referenced(client.store)
    assert report.ok and len(report.copied) == 1  # notes.txt; the checkpoints came with the download
    assert transfer.fetch_referenced(client.store).copied == ()


@pytest.fixture
def tree_files(tmp_path: Path) -> Path:
    root = tmp_path / "checkpoints"
    root.mkdir()
    for epoch in range(2):
        (root / f"epoch_{epoch}.pt").write_bytes(os.urandom(1000 + epoch))
    return root


@pytest.mark.slow
def test_one_gigabyte_logged_in_two_runs_is_stored_and_uploaded_once(
    in_repo: Path, tmp_path: Path, s3_server: S3Server
) -> None:
    big = sparse_file(tmp_path / "weights.bin", 2**30)
    write_config(in_repo, s3_section(s3_server.endpoint))
    try:
        with gitrun.start_run():
            gitrun.log_artifact(str(big))
        first = store_bytes(in_repo)
        assert 2**30 <= first < 2**30 + 2**20
        mark = s3_server.mark()
        with gitrun.start_run() as second:
            gitrun.log_artifact(str(big), artifact_path="again")
        assert store_bytes(in_repo) == first  # the bytes are stored once
        sent = [r for r in s3_server.since(mark) if r[0] in ("PUT", "POST")]
        assert sent == []  # the second upload moved nothing
        assert sum(r[2] for r in s3_server.since(mark)) == 0
        listed = MlflowClient().list_artifacts(second.info.run_id, "again")
        assert [(f.path, f.file_size) for f in listed] == [("again/weights.bin", 2**30)]
    finally:
        big.unlink()
        remote = stores_for(MlflowClient().store).remote()
        if remote is not None:  # moto keeps objects in this process's memory
            for digest in list(remote.iter_digests()):
                remote.delete(digest)


PEAK_RSS = textwrap.dedent(
    """
    import os, sys
    import gitrun
    from gitrun.core.artifacts.digest import hash_file

    def peak_mib():
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forked parent.
        with open("/proc/self/status") as status:
            line = next(x for x in status if x.startswith("VmHWM:"))
        return int(line.split()[1]) // 1024

    src, dst = sys.argv[1], sys.argv[2]
    with gitrun.start_run() as run:
        gitrun.log_artifact(src, artifact_path="big")
    after_log = peak_mib()
    path = gitrun.MlflowClient().download_artifacts(run.info.run_id, "big/" + os.path.basename(src), dst)
    after_download = peak_mib()
    same = hash_file(path) == hash_file(src)
    os.remove(path)
    print(after_log, after_download, same)
    """
)


@pytest.mark.slow
def test_two_gigabytes_are_logged_and_downloaded_in_bounded_memory(in_repo: Path, tmp_path: Path) -> None:
    big = sparse_file(tmp_path / "checkpoint.pt", 2 * 2**30)
    try:
        out = subprocess.run(
            [sys.executable, "-c", PEAK_RSS, str(big), str(tmp_path / "dl")],
            cwd=in_repo,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        after_log, peak, same = out.stdout.split()  # MiB
        assert same == "True"
        assert int(after_log) < 200 and int(peak) < 200, out.stdout
    finally:
        big.unlink()
        for obj in Path(local_store_path_for(in_repo)).rglob("*"):
            if obj.is_file() and obj.stat().st_size > 2**30:
                obj.unlink()


def local_store_path_for(repo: Path) -> str:
    return local_store_path(stores_for(MlflowClient(str(repo)).store).repo)


def test_a_gcs_remote_with_anonymous_access_is_written_through(
    in_repo: Path, tmp_path: Path, gcs_endpoint: str, tree_files: Path
) -> None:
    # token: anon names no secret (a gcsfs mode), so it may be committed.
    options = {"endpoint_url": gcs_endpoint, "token": "anon", "project": "test"}
    write_config(in_repo, {"remote": f"gs://{BUCKET}/{uuid.uuid4().hex[:12]}", "options": options})
    with gitrun.start_run() as run:
        gitrun.log_artifacts(str(tree_files), artifact_path="ck")
    gitrun.flush()
    report = transfer.push_referenced(MlflowClient().store)
    assert report.ok and report.copied == () and report.referenced == 3  # already written through

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(in_repo), str(clone))
    git(clone, "fetch", "-q", str(in_repo), "+refs/gitrun/records:refs/gitrun/records")
    write_config(clone, {"remote": report.store, "options": options})  # not committed in this test
    got = MlflowClient(str(clone)).download_artifacts(run.info.run_id, "ck/epoch_0.pt", str(tmp_path / "dl"))
    assert Path(got).read_bytes() == (tree_files / "epoch_0.pt").read_bytes()
