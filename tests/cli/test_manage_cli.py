"""Managing runs and experiments from the command line; config listing; gitrun help."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import gitrun
from gitrun.cli.main import cli
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from tests.cli.test_runs_cli import run_cli


def test_runs_rm_restore_tag_rename(in_repo: Path) -> None:
    with gitrun.start_run(run_name="parent") as parent:
        with gitrun.start_run(run_name="child", nested=True) as child:
            pass
    gitrun.flush()
    client = gitrun.MlflowClient()
    out = run_cli("runs", "tag", "parent", "team=red", "note=first try").output
    assert "team=red" in out and client.get_run(parent.info.run_id).data.tags["note"] == "first try"
    run_cli("runs", "tag", "parent", "--delete", "note")
    assert "note" not in client.get_run(parent.info.run_id).data.tags
    with pytest.raises(InvalidParameterValue, match="has no tag 'note'"):
        run_cli("runs", "tag", "parent", "--delete", "note")
    with pytest.raises(InvalidParameterValue, match="tags are KEY=VALUE"):
        run_cli("runs", "tag", "parent", "oops")
    assert "parent -> baseline" in run_cli("runs", "rename", "parent", "baseline").output
    assert client.get_run(parent.info.run_id).info.run_name == "baseline"
    out = run_cli("runs", "rm", "baseline", "--children").output
    assert out.count("deleted ") == 2
    assert client.get_run(child.info.run_id).info.lifecycle_stage == "deleted"
    assert run_cli("runs", "list", "-q").output == ""  # `runs list` is `runs ls`
    deleted = run_cli("runs", "ls", "--deleted", "-q").output.split()
    assert sorted(deleted) == sorted([parent.info.run_id, child.info.run_id])
    run_cli("runs", "restore", parent.info.run_id[:8])
    assert client.get_run(parent.info.run_id).info.lifecycle_stage == "active"
    with pytest.raises(InvalidParameterValue, match="is not deleted"):
        run_cli("runs", "restore", parent.info.run_id)


def test_experiments_create_rename_rm_restore_and_counts(in_repo: Path) -> None:
    assert "created experiment vision" in run_cli("experiments", "create", "vision").output
    gitrun.set_experiment("vision")
    for _ in range(3):
        with gitrun.start_run():
            pass
    gitrun.flush()
    listing = run_cli("experiments", "ls").output.splitlines()
    assert listing[0].split()[:3] == ["name", "runs", "id"]
    row = next(line.split() for line in listing if line.startswith("vision"))
    assert row[1] == "3"
    run_cli("experiments", "rename", "vision", "vision-v2")
    data = {e["name"]: e for e in json.loads(run_cli("experiments", "ls", "--json").output)}
    assert data["vision-v2"]["runs"] == 3
    run_cli("experiments", "rm", "vision-v2")
    assert "vision-v2" not in run_cli("experiments", "ls").output
    every = run_cli("experiments", "ls", "--all").output
    assert "deleted" in every and "0 (+3 deleted)" in every
    run_cli("experiments", "restore", "vision-v2")
    assert json.loads(run_cli("experiments", "ls", "--json").output)[0]["runs"] == 3
    with pytest.raises(ResourceDoesNotExist, match="did you mean 'vision-v2'"):
        run_cli("experiments", "rm", "vision-v3")
    with pytest.raises(InvalidParameterValue, match="Default experiment"):
        run_cli("experiments", "rm", "Default")


def test_config_without_a_key_lists_settings(in_repo: Path, tmp_path: Path) -> None:
    assert "no settings" in run_cli("config").output
    run_cli("config", "artifacts.remote", str(tmp_path / "store"))
    run_cli("config", "artifacts.options.auto_mkdir", "true")
    assert run_cli("config").output.splitlines() == [
        f"artifacts.remote = {tmp_path / 'store'}",
        "artifacts.options.auto_mkdir = true",
    ]


def test_help_command() -> None:
    top = run_cli("help").output
    assert "Usage: gitrun" in top and "runs" in top and "plot" in top
    sub = run_cli("help", "runs", "ls").output
    assert sub.startswith("Usage: gitrun runs ls") and "--best-child" in sub
    bad = CliRunner().invoke(cli, ["help", "nope"])
    assert bad.exit_code == 2 and "no such command: nope" in bad.output
