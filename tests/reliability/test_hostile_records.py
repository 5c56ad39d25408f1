"""Records from a remote are data, never instructions: packages are checked before
they reach requirements.txt, a record cannot pass for another run, wrongly typed
fields give a clear error, damaged packs are named, and credentials never go into
the committed config."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gitrun import MlflowClient
from gitrun.core.artifacts import config as cfg
from gitrun.core.git.repo import Repository
from gitrun.core.records import layout, yamlfmt
from gitrun.core.records.store import RecordStore
from gitrun.errors import CorruptObject, DamagedRecordWarning, InvalidParameterValue, InvalidRecord
from gitrun.tracking import session as tracking_session
from tests.conftest import git
from tests.reliability.conftest import cli, replace_record_file


def _run(client: MlflowClient) -> str:
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "p", "1")
    client.set_terminated(run_id)
    client.flush()
    return run_id


def test_crafted_packages_never_reach_requirements_txt(in_repo: Path, tmp_path: Path) -> None:
    run_id = _run(MlflowClient())
    crafted = {
        "python": {"version": "3.11.7"},
        "packages": {
            "numpy": "1.26.4",
            "evil": "1.0\n--extra-index-url https://evil.example/simple",
            "--extra-index-url https://evil.example/simple": "1",
            "torch": "2.13.0+cpu",
            "x; os_name == 'posix'": "1",
        },
    }
    replace_record_file(in_repo, run_id, layout.ENVIRONMENT_FILE, yamlfmt.dump(crafted).encode())
    tracking_session.close_all()
    proc = cli(in_repo, "checkout", run_id, "--dir", str(tmp_path / "co"))
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "co" / ".gitrun-reproduce" / "requirements.txt").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == ["numpy==1.26.4", "torch==2.13.0+cpu"]
    assert "evil.example" not in text and "3 recorded package entries" in text


def test_a_record_cannot_pass_for_another_run(in_repo: Path) -> None:
    client = MlflowClient()
    real, victim = _run(client), _run(client)
    repo = Repository.at(str(in_repo))
    assert repo is not None
    entry = RecordStore(repo).entry(f"{layout.run_dir(real)}/{layout.RUN_FILE}")
    assert entry is not None
    replace_record_file(in_repo, victim, layout.RUN_FILE, repo.read_blob(entry.oid))  # names `real`
    tracking_session.close_all()
    client = MlflowClient()
    with pytest.raises(InvalidRecord, match="names another run"):
        client.get_run(victim)
    with pytest.warns(DamagedRecordWarning, match=f"leaves out run {victim}"):
        assert [r.info.run_id for r in client.search_runs(["0"])] == [real]
    shown = cli(in_repo, "show", victim)
    assert shown.returncode == 1 and b"names another run" in shown.stderr


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("status", "5", "status"),
        ("start_time", '"yesterday"', "start_time"),
        ("experiment_id", "[1, 2]", "experiment_id"),
    ],
)
def test_wrongly_typed_fields_give_a_clear_error(in_repo: Path, field: str, value: str, message: str) -> None:
    run_id = _run(MlflowClient())
    repo = Repository.at(str(in_repo))
    assert repo is not None
    entry = RecordStore(repo).entry(f"{layout.run_dir(run_id)}/{layout.RUN_FILE}")
    assert entry is not None
    lines = [
        f"{field}: {value}" if line.startswith(f"{field}:") else line
        for line in repo.read_blob(entry.oid).decode().splitlines()
    ]
    replace_record_file(in_repo, run_id, layout.RUN_FILE, ("\n".join(lines) + "\n").encode())
    tracking_session.close_all()
    with pytest.raises(InvalidRecord, match=message):
        MlflowClient().get_run(run_id)
    shown = cli(in_repo, "show", run_id)
    assert shown.returncode == 1, shown.stderr  # a clear error, not a crash (exit 3)
    assert message.encode() in shown.stderr and b"unexpected" not in shown.stderr


def test_a_damaged_pack_error_names_the_object_and_the_pack(in_repo: Path) -> None:
    run_id = _run(MlflowClient())
    tracking_session.close_all()
    git(in_repo, "gc", "-q", "--aggressive")
    git(in_repo, "prune-packed")
    [pack] = list((in_repo / ".git" / "objects" / "pack").glob("*.pack"))
    blob = git(
        in_repo, "rev-parse", f"refs/gitrun/records:{layout.run_dir(run_id)}/{layout.RUN_FILE}"
    ).strip()
    offset = next(
        int(line.split()[-1])
        for line in subprocess.run(
            ["git", "verify-pack", "-v", str(pack.with_suffix(".idx"))],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        if line.startswith(blob)
    )
    os.chmod(pack, 0o644)
    with open(pack, "r+b") as fh:
        fh.seek(offset + 3)
        fh.write(b"\xff\xff\xff\xff")
    repo = Repository.at(str(in_repo))
    assert repo is not None
    with pytest.raises(CorruptObject) as caught:
        repo.read_blob(blob)  # type: ignore[arg-type]
    assert blob in caught.value.message and pack.name in caught.value.message
    shown = cli(in_repo, "show", run_id)
    assert shown.returncode == 1 and pack.name.encode() in shown.stderr


def test_ctrl_c_on_a_run_started_without_with_ends_killed(in_repo: Path) -> None:
    code = (
        "import time, gitrun\nrun = gitrun.start_run()\nprint(run.info.run_id, flush=True)\ntime.sleep(60)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=in_repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    run_id = proc.stdout.readline().decode().strip()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    assert MlflowClient().get_run(run_id).info.status == "KILLED"


@pytest.mark.parametrize(
    "options",
    [
        {"endpoint_url": "https://user:pw@minio.example:9000"},
        {"apikey": "x"},
        {"accessKey": "x"},
        {"sessiontoken": "x"},
        {"passphrase": "x"},
        {"pw": "x"},
        {"client_kwargs": {"proxies": {"https": "http://user:pw@proxy:3128"}}},
        {"config_kwargs": {"proxies": ["http://u:p@proxy:8080"]}},
    ],
)
def test_credentials_are_refused_anywhere_in_the_committed_config(
    in_repo: Path, options: dict[str, object]
) -> None:
    with pytest.raises(InvalidParameterValue, match="credentials"):
        cfg.save_remote(str(in_repo), str(in_repo / ".git"), "s3://bucket/prefix", options)
    assert not (in_repo / cfg.REPO_CONFIG_FILE).exists()
    (in_repo / cfg.REPO_CONFIG_FILE).write_text(
        yamlfmt.dump({"artifacts": {"remote": "s3://b/p", "options": options}})
    )
    with pytest.raises(InvalidParameterValue, match="credentials"):
        cfg.load_config(str(in_repo), str(in_repo / ".git"), environ={})


def test_config_values_keep_their_yaml_types(in_repo: Path) -> None:
    assert cli(in_repo, "config", "artifacts.remote", "s3://bucket/prefix").returncode == 0
    for key, value in (
        ("anon", "false"),
        ("max_concurrency", "4"),
        ("endpoint_url", "http://127.0.0.1:9000"),
    ):
        assert cli(in_repo, "config", f"artifacts.options.{key}", value).returncode == 0
    loaded = cfg.load_config(str(in_repo), str(in_repo / ".git"), environ={})
    assert loaded.options == {"anon": False, "max_concurrency": 4, "endpoint_url": "http://127.0.0.1:9000"}
