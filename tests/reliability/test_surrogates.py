"""Bytes that are not UTF-8 (Python's lone surrogates) never poison a repository.

One rule (gitrun/core/records/text.py): user values holding them are refused at the
call; text gitrun captures itself is recorded exactly ({bytes: "%XX"}) and shown
readably; the reader and writer agree; a record nobody can read is left out of
searches with a warning every time, and never stops recovery.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import gitrun
from gitrun import MlflowClient
from gitrun.core.records import layout
from gitrun.core.records.text import decode_captured
from gitrun.errors import DamagedRecordWarning, InvalidParameterValue
from tests.conftest import git
from tests.reliability.conftest import cli, make_repo, replace_record_file, script

KILLED_AFTER_FLUSH = """
import os, gitrun
run = gitrun.start_run()
print(run.info.run_id, flush=True)
gitrun.log_metric("a", 1.0, step=0)
gitrun.flush()
gitrun.log_metric("a", 2.0, step=1)
os.kill(os.getpid(), 9)
"""


def _run_ids(repo: Path) -> list[str]:
    listing = git(repo, "ls-tree", "-r", "-d", "--name-only", "refs/gitrun/records", "runs")
    return [p.rsplit("/", 1)[1] for p in listing.split() if p.count("/") == 4]


def test_killed_run_with_undecodable_argv_is_recovered_and_searchable(in_repo: Path) -> None:
    """The issue's case (a): SIGKILL after a flush, argv holding b'\\xff'."""
    proc = script(in_repo, KILLED_AFTER_FLUSH, b"\xff", b"data-\xe9.csv", check=False)
    assert proc.returncode == -9
    run_id = proc.stdout.decode().split()[0]
    client = MlflowClient()
    run = client.get_run(run_id)  # the next gitrun call recovers it
    assert run.info.status == "KILLED"
    assert [m.value for m in client.get_metric_history(run_id, "a")] == [1.0, 2.0]
    argv = decode_captured(run.record["source"]["argv"])
    assert [os.fsencode(a) for a in argv[1:]] == [b"\xff", b"data-\xe9.csv"]
    assert run.record["source"]["argv"][1] == {"bytes": "%FF"}
    assert [r.info.run_id for r in gitrun.search_runs(output_format="list")] == [run_id]
    listed = cli(in_repo, "runs", "ls")
    assert listed.returncode == 0 and run_id[:8].encode() in listed.stdout
    shown = cli(in_repo, "show", run_id, "--json")
    assert shown.returncode == 0, shown.stderr


def test_undecodable_cwd_and_file_names_are_recorded_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "work")
    folder = Path(os.fsdecode(bytes(repo) + b"/donn\xe9es"))
    folder.mkdir()
    (folder / os.fsdecode(b"caf\xe9.csv")).write_text("1,2\n")
    proc = script(
        folder,
        "import gitrun\nwith gitrun.start_run() as r:\n    gitrun.log_param('x', 1)\nprint(r.info.run_id)",
    )
    run_id = proc.stdout.decode().split()[0]
    assert b"untracked file" in proc.stderr  # the one-line summary at run start
    monkeypatch.chdir(repo)
    run = MlflowClient().get_run(run_id)
    assert decode_captured(run.record["source"]["cwd"]) == str(folder)
    changed = [decode_captured(p) for p in run.record["code"]["changed"]]
    assert os.fsdecode(b"donn\xe9es/caf\xe9.csv") in changed
    # The snapshot tree holds the exact bytes of the name.
    raw = subprocess.run(
        ["git", "ls-tree", "-r", "-z", "--name-only", run.record["code"]["tree"]],
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout
    assert b"donn\xe9es/caf\xe9.csv" in raw.split(b"\0")
    shown = cli(repo, "show", run_id)
    assert shown.returncode == 0, shown.stderr
    assert b"donn\\xe9es/caf\\xe9.csv" in shown.stdout  # readable, never raw


REFUSED_CALLS = [
    lambda c, r: c.set_tag(r, "file", "donn\udce9es.csv"),
    lambda c, r: c.set_tag(r, "k\udcff", "v"),
    lambda c, r: c.log_param(r, "p", "x\udcff"),
    lambda c, r: c.log_metric(r, "m\udcff", 1.0),
    lambda c, r: c.update_run(r, name="n\udce9"),
    lambda c, r: c.create_experiment("exp\udce9"),
    lambda c, r: c.set_experiment_tag("0", "t", "v\udce9"),
    lambda c, r: c.create_run("0", run_name="run\udce9"),
    lambda c, r: gitrun.start_run(run_name="x\udce9"),
    lambda c, r: gitrun.start_run(description="d\udce9"),
]


def test_user_values_that_are_not_unicode_are_refused_and_nothing_breaks(in_repo: Path) -> None:
    client = MlflowClient()
    run_id = client.create_run("0").info.run_id
    client.set_tag(run_id, "kept", "yes")
    for call in REFUSED_CALLS:
        with pytest.raises(InvalidParameterValue, match="not valid Unicode"):
            call(client, run_id)
        assert gitrun.active_run() is None
    client.flush()
    found = client.search_runs(["0"])
    assert [r.info.run_id for r in found] == [run_id]
    assert found[0].data.tags["kept"] == "yes"
    assert [e.name for e in client.search_experiments()] == ["Default"]
    assert cli(in_repo, "runs", "ls").returncode == 0


def test_hostile_record_is_left_out_with_a_warning_on_every_search(in_repo: Path) -> None:
    """A record committed by someone else with a surrogate escape in it: YAML refuses it,
    so it is damaged; every other run is still searchable, and every search says so."""
    client = MlflowClient()
    good = client.create_run("0").info.run_id
    bad = client.create_run("0").info.run_id
    client.flush()
    replace_record_file(in_repo, bad, layout.TAGS_FILE, b'file: "donn\\udce9es.csv"\n')
    for _ in range(2):
        with pytest.warns(DamagedRecordWarning, match=f"leaves out run {bad}"):
            assert [r.info.run_id for r in client.search_runs(["0"])] == [good]
    listed = cli(in_repo, "runs", "ls")
    assert listed.returncode == 0
    assert good[:8].encode() in listed.stdout
    assert f"leaves out run {bad}".encode() in listed.stderr


GITRUN_RUN_ARGV = """
import sys
with open("argv.bin", "wb") as fh:
    fh.write(b"\\0".join(a.encode("utf-8", "surrogateescape") for a in sys.argv[1:]))
"""


def test_gitrun_run_and_reproduce_rerun_the_exact_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "work")
    (repo / "show_argv.py").write_text(GITRUN_RUN_ARGV)
    git(repo, "add", "show_argv.py")
    git(repo, "commit", "-q", "-m", "argv")
    weird = b"data-\xe9.csv"
    proc = cli(repo, "run", "--", sys.executable, "show_argv.py", weird, "it's")
    assert proc.returncode == 0, proc.stderr
    assert (repo / "argv.bin").read_bytes() == b"data-\xe9.csv\0it's"
    run_id = proc.stderr.decode().split("gitrun: run ")[1].split()[0]
    monkeypatch.chdir(repo)
    run = MlflowClient().get_run(run_id)
    assert run.data.tags["gitrun.command"].endswith("show_argv.py $'data-\\xe9.csv' 'it'\"'\"'s'")
    again = cli(repo, "reproduce", run_id, "--run", "--dir", str(tmp_path / "again"))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "argv.bin").read_bytes() == b"data-\xe9.csv\0it's"


def test_push_and_fetch_carry_undecodable_text_to_a_second_clone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "one")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    git(repo, "push", "-q", "origin", "HEAD:refs/heads/main")
    (repo / os.fsdecode(b"r\xe9sum\xe9.txt")).write_text("x")
    proc = script(repo, KILLED_AFTER_FLUSH, b"--in=\xff", check=False)
    run_id = proc.stdout.decode().split()[0]
    assert cli(repo, "push").returncode == 0
    other = tmp_path / "two"
    git(tmp_path, "clone", "-q", str(remote), str(other))
    fetched = cli(other, "fetch")
    assert fetched.returncode == 0, fetched.stderr
    listed = cli(other, "runs", "ls", "--json")
    assert listed.returncode == 0 and run_id.encode() in listed.stdout
    monkeypatch.chdir(other)
    run = MlflowClient().get_run(run_id)
    assert os.fsencode(decode_captured(run.record["source"]["argv"])[1]) == b"--in=\xff"
    assert os.fsdecode(b"r\xe9sum\xe9.txt") in [decode_captured(p) for p in run.record["code"]["changed"]]
