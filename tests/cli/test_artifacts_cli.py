"""``gitrun artifacts``, ``pull``, ``gc``, ``fsck`` and ``config`` on real repositories and stores."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import gitrun
from gitrun import MlflowClient
from gitrun.cli.main import cli
from gitrun.core.artifacts.digest import Digest, hash_bytes, hash_file
from gitrun.errors import CorruptObject, GitrunError, InvalidParameterValue, ResourceDoesNotExist
from gitrun.tracking.artifacts.stores import stores_for
from tests.servers import BUCKET, S3Server

pytestmark = pytest.mark.usefixtures("in_repo")
GITRUN = str(Path(sys.executable).with_name("gitrun"))


def run_cli(*args: str, code: int = 0) -> Result:
    """Invoke like ``gitrun`` does (commands return their exit code)."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, standalone_mode=False)
    assert result.exit_code == 0 and (result.return_value or 0) == code, result.output
    return result


def object_path(repo: Path, digest: Digest) -> Path:
    return (
        repo
        / ".git"
        / "gitrun"
        / "artifacts"
        / "objects"
        / "sha256"
        / digest.hexdigest[:2]
        / digest.hexdigest[2:]
    )


def corrupt(path: Path) -> None:
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[0] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.fixture
def logged(in_repo: Path, tmp_path: Path) -> str:
    folder = tmp_path / "ck"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.pt").write_bytes(b"weights-a")
    (folder / "sub" / "b.pt").write_bytes(b"weights-b")
    with gitrun.start_run() as run:
        gitrun.log_artifacts(str(folder), artifact_path="checkpoints")
        gitrun.log_text("hello", "notes.txt")
    gitrun.flush()
    return run.info.run_id


def test_ls_table_json_and_run_prefixes(logged: str) -> None:
    table = run_cli("artifacts", "ls", logged).output
    assert "checkpoints/" in table and "notes.txt" in table and "5 B" in table
    listed = json.loads(run_cli("artifacts", "ls", logged[:10], "checkpoints", "--json").output)
    import hashlib

    assert listed == [
        {
            "path": "checkpoints/a.pt",
            "is_dir": False,
            "file_size": 9,
            "digest": "sha256:" + hashlib.sha256(b"weights-a").hexdigest(),
        },
        {"path": "checkpoints/sub", "is_dir": True, "file_size": None, "digest": None},
    ]
    top = {item["path"]: item for item in json.loads(run_cli("artifacts", "ls", logged, "--json").output)}
    assert top["checkpoints"]["digest"].startswith("sha256:")  # a folder logged whole: its manifest
    with pytest.raises(
        ResourceDoesNotExist, match=r"has no artifact or folder 'nope' \(top level: checkpoints/"
    ):
        run_cli("artifacts", "ls", logged, "nope")
    with pytest.raises(ResourceDoesNotExist):
        run_cli("artifacts", "ls", "f" * 32)


def test_get_downloads_verified_files_and_folders(logged: str, in_repo: Path, tmp_path: Path) -> None:
    out = run_cli("artifacts", "get", logged, "checkpoints", "-o", str(tmp_path / "dl")).output.strip()
    assert Path(out) == tmp_path / "dl" / "checkpoints"
    assert (Path(out) / "sub" / "b.pt").read_bytes() == b"weights-b"
    out = run_cli("artifacts", "get", logged, "notes.txt", "-o", str(tmp_path / "dl")).output.strip()
    assert Path(out).read_text() == "hello"
    with pytest.raises(InvalidParameterValue, match="invalid artifact path"):
        run_cli("artifacts", "get", logged, "../../etc/passwd", "-o", str(tmp_path / "evil"))
    assert not (tmp_path / "evil").exists()


def test_pull_by_digest_prefix_and_manifest(logged: str, in_repo: Path, tmp_path: Path) -> None:
    digest = hash_bytes(b"weights-a")
    out = run_cli("pull", str(digest), "-o", str(tmp_path / "a.pt")).output
    assert (tmp_path / "a.pt").read_bytes() == b"weights-a" and "a.pt" in out
    run_cli("-C", str(in_repo), "pull", digest.hexdigest[:10])
    assert (in_repo / digest.hexdigest[:12]).read_bytes() == b"weights-a"
    import yaml

    from gitrun.core.records import layout

    record = yaml.safe_load(
        subprocess.run(
            ["git", "show", f"refs/gitrun/records:{layout.run_dir(logged)}/artifacts.yaml"],
            cwd=in_repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    manifest = record["checkpoints"]["digest"]
    out = run_cli("pull", manifest, "-o", str(tmp_path / "tree")).output
    assert "2 files" in out
    assert (tmp_path / "tree" / "sub" / "b.pt").read_bytes() == b"weights-b"
    with pytest.raises(InvalidParameterValue, match="too short"):
        run_cli("pull", "abc")
    with pytest.raises(InvalidParameterValue, match="not a digest"):
        run_cli("pull", "md5:abcdef0123")
    with pytest.raises(ResourceDoesNotExist, match="no object in the local store"):
        run_cli("pull", "00000000000")
    with pytest.raises(ResourceDoesNotExist, match="no artifact remote"):
        run_cli("pull", "sha256:" + "0" * 64)


def test_corruption_fails_pull_download_and_fsck_loudly(logged: str, in_repo: Path, tmp_path: Path) -> None:
    digest = hash_bytes(b"weights-b")
    corrupt(object_path(in_repo, digest))
    with pytest.raises(CorruptObject, match=str(digest)):
        run_cli("pull", str(digest), "-o", str(tmp_path / "b.pt"))
    assert not (tmp_path / "b.pt").exists()
    with pytest.raises(CorruptObject):
        run_cli("artifacts", "get", logged, "checkpoints", "-o", str(tmp_path / "dl"))
    assert not (tmp_path / "dl").exists()

    # As a real command: a short message, exit 1, the object quarantined.
    proc = subprocess.run([GITRUN, "fsck"], cwd=in_repo, capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"corrupt: {digest}" in proc.stderr and "quarantined" in proc.stderr
    assert not object_path(in_repo, digest).exists()
    assert list((in_repo / ".git" / "gitrun" / "artifacts" / "quarantine").rglob(f"{digest.hexdigest}*"))
    again = subprocess.run([GITRUN, "fsck"], cwd=in_repo, capture_output=True, text=True, check=False)
    assert again.returncode == 0 and "0 corrupt" in again.stdout
    pulled = subprocess.run(
        [GITRUN, "pull", str(digest)], cwd=in_repo, capture_output=True, text=True, check=False
    )
    assert pulled.returncode == 1 and pulled.stderr.startswith("gitrun: error:") and "not in" in pulled.stderr


def test_gc_removes_only_unreferenced_old_objects(logged: str, in_repo: Path, tmp_path: Path) -> None:
    stray = tmp_path / "stray.bin"
    stray.write_bytes(b"nobody references me")
    stores = stores_for(MlflowClient().store)
    orphan = stores.local.put_file(stray)
    temp = in_repo / ".git" / "gitrun" / "artifacts" / "tmp" / ".tmp-deadbeef"
    temp.parent.mkdir(parents=True, exist_ok=True)
    temp.write_bytes(b"partial")
    old = time.time() - 7200
    os.utime(temp, (old, old))

    checked = run_cli("fsck").output
    out = run_cli("gc").output  # the orphan is younger than the grace period; the temp file is not
    assert "removed 0 (0 B), kept 5 (4 referenced, 1 recent); 1 temporary file(s) removed" in out
    # gc and fsck count the same objects: those in the store.
    assert out.split(": ")[1].split()[0] == checked.split("checked ")[1].split()[0] == "5"
    assert not temp.exists()
    out = run_cli("gc", "--dry-run", "--grace", "0").output
    assert "5 object(s); would remove 1 (" in out and str(orphan) in out
    assert object_path(in_repo, orphan).exists()
    out = run_cli("gc", "--grace", "0").output
    assert "5 object(s); removed 1 (" in out and "kept 4 (4 referenced)" in out
    assert not object_path(in_repo, orphan).exists()
    # Everything the run references is still there and verifies.
    assert "0 corrupt" in run_cli("fsck").output
    got = run_cli("artifacts", "get", logged, "checkpoints", "-o", str(tmp_path / "dl")).output.strip()
    assert (Path(got) / "a.pt").read_bytes() == b"weights-a"
    # Re-using an old object makes it recent again: gc keeps it during the grace period.
    os.utime(object_path(in_repo, hash_bytes(b"weights-a")), (old, old))
    with gitrun.start_run():
        gitrun.log_text("weights-a", "same-bytes.txt")
    assert object_path(in_repo, hash_bytes(b"weights-a")).stat().st_mtime > old + 3600
    with pytest.raises(GitrunError, match="no artifact remote"):
        run_cli("gc", "--remote")


def test_config_writes_the_committed_file_and_refuses_credentials(in_repo: Path) -> None:
    assert run_cli("config", "artifacts.remote", code=1).output == ""
    out = run_cli("config", "artifacts.remote", "s3://bucket/prefix").output
    assert ".gitrun.yaml" in out and "commit it" in out
    run_cli("config", "artifacts.options.endpoint_url", "http://127.0.0.1:9000")
    assert run_cli("config", "artifacts.remote").output.strip() == "s3://bucket/prefix"
    assert run_cli("config", "artifacts.options.endpoint_url").output.strip() == "http://127.0.0.1:9000"
    import yaml

    assert yaml.safe_load((in_repo / ".gitrun.yaml").read_text()) == {
        "artifacts": {"remote": "s3://bucket/prefix", "options": {"endpoint_url": "http://127.0.0.1:9000"}}
    }
    with pytest.raises(InvalidParameterValue, match="credentials"):
        run_cli("config", "artifacts.options.aws_secret_access_key", "hunter2")
    with pytest.raises(InvalidParameterValue, match="user name or password"):
        run_cli("config", "artifacts.remote", "https://user:pw@example.com/store")
    assert "hunter2" not in (in_repo / ".gitrun.yaml").read_text()
    run_cli("config", "artifacts.options.endpoint_url", "--unset")
    run_cli("config", "artifacts.remote", "--unset")
    assert (in_repo / ".gitrun.yaml").read_text() == ""
    result = CliRunner().invoke(cli, ["config", "nope.key", "x"])
    assert result.exit_code == 2 and "unknown key" in result.output


def s3_env(server: S3Server) -> dict[str, str]:
    return {
        "GITRUN_ARTIFACT_STORE": f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}",
        "GITRUN_ARTIFACT_STORE_OPTIONS": json.dumps({"endpoint_url": server.endpoint}),
    }


def test_push_and_fetch_move_only_missing_objects(
    logged: str, in_repo: Path, tmp_path: Path, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in s3_env(s3_server).items():
        monkeypatch.setenv(key, value)
    out = run_cli("artifacts", "push").output
    assert "pushed 4 of 4 referenced object(s)" in out  # 2 files, their manifest, notes.txt
    mark = s3_server.mark()
    assert "pushed 0 of 4" in run_cli("artifacts", "push").output
    assert [r for r in s3_server.since(mark) if r[0] in ("PUT", "POST")] == []

    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(in_repo), str(clone)], check=True)
    subprocess.run(
        ["git", "fetch", "-q", str(in_repo), "+refs/gitrun/records:refs/gitrun/records"],
        cwd=clone,
        check=True,
    )
    out = run_cli("-C", str(clone), "artifacts", "fetch", logged[:8]).output
    assert "fetched 4 of 4" in out
    assert object_path(clone, hash_bytes(b"weights-b")).exists()


def test_push_without_a_remote_is_a_usage_error(logged: str) -> None:
    result = CliRunner().invoke(cli, ["artifacts", "push"])
    assert result.exit_code == 2 and "no artifact remote" in result.output


@pytest.mark.slow
def test_a_killed_push_leaves_no_object_and_the_next_push_completes(
    in_repo: Path, tmp_path: Path, s3_server: S3Server
) -> None:
    big = tmp_path / "checkpoint.pt"
    with open(big, "wb") as out:
        for n in range(24):
            out.write(os.urandom(2**20) * 8)  # 192 MiB, 24 upload parts of 8 MiB
    with gitrun.start_run():
        gitrun.log_artifact(str(big))
    gitrun.flush()
    digest, _ = hash_file(big)
    env = {**os.environ, **s3_env(s3_server)}
    mark = s3_server.mark()
    child = subprocess.Popen([GITRUN, "artifacts", "push"], cwd=in_repo, env=env, stdout=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while sum(1 for r in s3_server.since(mark) if r[0] == "PUT" and r[2] > 0) < 2:
            assert child.poll() is None, "the push finished before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    import s3fs

    fs = s3fs.S3FileSystem(endpoint_url=s3_server.endpoint)
    remote_root = env["GITRUN_ARTIFACT_STORE"].removeprefix("s3://")
    key = f"{remote_root}/objects/sha256/{digest.hexdigest[:2]}/{digest.hexdigest[2:]}"
    fs.invalidate_cache()
    assert not fs.exists(key)

    done = subprocess.run([GITRUN, "artifacts", "push"], cwd=in_repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "pushed 1 of 1" in done.stdout
    fs.invalidate_cache()
    assert fs.size(key) == big.stat().st_size
    checked = subprocess.run(
        [GITRUN, "fsck", "--remote"], cwd=in_repo, env=env, capture_output=True, text=True
    )
    assert checked.returncode == 0 and "1 object(s), 0 corrupt" in checked.stdout
    fs.rm(remote_root, recursive=True)
    big.unlink()


def test_gitrun_push_uploads_artifacts_of_new_runs_before_records(
    logged: str, in_repo: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    shared = tmp_path / "shared-store"
    run_cli("config", "artifacts.remote", str(shared))
    out = run_cli("push", str(bare)).output
    assert out.startswith("1 run pushed to ") and "4 artifact object(s) uploaded" in out
    stored = {p.name for p in (shared / "objects").rglob("*") if p.is_file()}
    assert hash_bytes(b"weights-b").hexdigest[2:] in stored and len(stored) == 4
    # A later push only looks at runs that changed since: a run whose objects vanished
    # everywhere stops the push before any record leaves.
    with gitrun.start_run() as run:
        gitrun.log_text("lost", "lost.txt")
    gitrun.flush()
    lost = hash_bytes(b"lost")
    for path in (
        object_path(in_repo, lost),
        shared / "objects" / "sha256" / lost.hexdigest[:2] / lost.hexdigest[2:],
    ):
        path.chmod(0o644)
        path.unlink()
    before = subprocess.run(
        ["git", "rev-parse", "refs/gitrun/records"], cwd=bare, capture_output=True, text=True
    )
    with pytest.raises(GitrunError, match="in no store"):
        run_cli("push", str(bare))
    after = subprocess.run(
        ["git", "rev-parse", "refs/gitrun/records"], cwd=bare, capture_output=True, text=True
    )
    assert before.stdout == after.stdout
    del run
