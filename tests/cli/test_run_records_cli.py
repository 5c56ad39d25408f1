"""One truth about a run's commit after linking; commit messages that name runs; the
pre-push hook's messages are plain lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gitrun
from tests.cli.test_run_cli import gitrun_cli
from tests.conftest import git


def test_show_runs_ls_and_json_agree_after_post_commit_linking(in_repo: Path) -> None:
    assert gitrun_cli(in_repo, "hooks", "install").returncode == 0
    recorded_on = git(in_repo, "rev-parse", "HEAD").strip()
    (in_repo / "model.py").write_text("DEPTH = 3\n")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import gitrun\nwith gitrun.start_run(run_name='r') as r:\n    print(r.info.run_id)",
        ],
        cwd=in_repo,
        capture_output=True,
        text=True,
        check=True,
    )
    run_id = out.stdout.strip()
    before = gitrun_cli(in_repo, "show", run_id).stdout
    assert f"Code: commit {recorded_on} + uncommitted changes recorded" in before
    git(in_repo, "add", "model.py")
    git(in_repo, "commit", "-q", "-m", "model")
    head = git(in_repo, "rev-parse", "HEAD").strip()
    after = gitrun_cli(in_repo, "show", run_id).stdout
    code_line = next(line for line in after.splitlines() if line.startswith("Code: "))
    assert code_line.startswith(
        f"Code: commit {head} (committed after the run; recorded on {recorded_on[:12]}"
    )
    assert "+ uncommitted changes recorded" not in code_line
    data = json.loads(gitrun_cli(in_repo, "show", run_id, "--json").stdout)["code"]
    assert data["commit"] == head and data["dirty"] is False
    assert data["recorded_commit"] == recorded_on and data["linked"] is True
    listed = gitrun_cli(
        in_repo, "runs", "ls", "--columns", "run_id,tags.mlflow.source.git.commit", "--csv"
    ).stdout
    assert listed.splitlines()[1] == f"{run_id},{head}"


def test_records_commits_name_their_runs(in_repo: Path) -> None:
    with gitrun.start_run(run_name="baseline") as run:
        gitrun.log_metric("m", 1.0)
    gitrun.flush()
    log = git(in_repo, "log", "--format=%B%x00", "refs/gitrun/records")
    messages = [m.strip() for m in log.split("\x00") if m.strip()]
    ending = next(m for m in messages if "FINISHED" in m)
    subject, _, body = ending.partition("\n\n")
    assert subject == "gitrun: record 1 run: baseline"
    lines, _, trailer = body.partition("\n\n")
    assert lines == f"{run.info.run_id} baseline FINISHED"
    assert trailer.startswith("Gitrun-Writer: ")  # recovery tells a dead writer's commits by it
