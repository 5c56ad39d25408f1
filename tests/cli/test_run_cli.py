"""`gitrun run -- COMMAND` with real child processes."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from gitrun import MlflowClient

GITRUN = [sys.executable, "-m", "gitrun.cli"]


def gitrun_cli(repo: Path, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GITRUN, *args], cwd=repo, capture_output=True, text=True, check=check, timeout=120
    )


def _run_id(proc: subprocess.CompletedProcess[str]) -> str:
    line = next(line for line in proc.stderr.splitlines() if line.startswith("gitrun: run "))
    return line.split()[2]


def test_child_logs_into_the_same_run(in_repo: Path) -> None:
    (in_repo / "train.py").write_text(
        "import os, sys, json, gitrun\n"
        "params = json.loads(os.environ['GITRUN_PARAMS'])\n"
        "with gitrun.start_run() as run:\n"
        "    gitrun.log_metric('loss', float(params['lr']) * 2)\n"
        "    gitrun.log_param('from_child', os.environ['GITRUN_PARAM_LR'])\n"
        "print('argv', sys.argv[1:], flush=True)\n"
        "print('to stderr', file=sys.stderr)\n"
    )
    proc = gitrun_cli(
        in_repo,
        "run",
        "-e",
        "cli-exp",
        "-n",
        "wrapped",
        "-P",
        "lr=0.25",
        "-t",
        "team=a",
        "--",
        sys.executable,
        "train.py",
        "--lr",
        "{lr}",
    )
    assert proc.returncode == 0, proc.stderr
    assert "argv ['--lr', '0.25']" in proc.stdout and "to stderr" in proc.stderr
    client = MlflowClient()
    run = client.get_run(_run_id(proc))
    assert run.info.status == "FINISHED" and run.info.run_name == "wrapped"
    assert run.data.params == {"lr": "0.25", "from_child": "0.25"}
    assert run.data.metrics == {"loss": 0.5}
    assert run.data.tags["team"] == "a" and run.data.tags["gitrun.exit_code"] == "0"
    assert run.data.tags["mlflow.source.name"] == "train.py"
    assert run.record["command"][-3:] == ["train.py", "--lr", "0.25"]
    experiment = client.get_experiment_by_name("cli-exp")
    assert experiment is not None and run.info.experiment_id == experiment.experiment_id
    runs_dir = subprocess.run(
        ["git", "ls-tree", "-r", "-d", "--name-only", "refs/gitrun/records", "runs"],
        cwd=in_repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert len([p for p in runs_dir if p.count("/") == 4]) == 1  # no second run


def test_failing_command_is_failed(in_repo: Path) -> None:
    proc = gitrun_cli(in_repo, "run", "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert proc.returncode == 3
    run = MlflowClient().get_run(_run_id(proc))
    assert run.info.status == "FAILED" and run.data.tags["gitrun.exit_code"] == "3"


def test_killed_command_is_killed(in_repo: Path) -> None:
    proc = gitrun_cli(in_repo, "run", "--", "sh", "-c", "kill -9 $$")
    assert proc.returncode == 128 + signal.SIGKILL
    assert MlflowClient().get_run(_run_id(proc)).info.status == "KILLED"


def test_interrupting_gitrun_interrupts_the_command(in_repo: Path) -> None:
    proc = subprocess.Popen(
        [*GITRUN, "run", "--", sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"],
        cwd=in_repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "up"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    run_id = next(line for line in err.splitlines() if line.startswith("gitrun: run ")).split()[2]
    assert MlflowClient().get_run(run_id).info.status in ("KILLED", "FAILED")


def test_params_file_and_bad_input(in_repo: Path) -> None:
    (in_repo / "params.yaml").write_text("model:\n  depth: 4\n  name: rf\nseed: 1\n")
    proc = gitrun_cli(in_repo, "run", "--params-file", "params.yaml", "-P", "seed=2", "--", "true")
    assert proc.returncode == 0, proc.stderr
    assert MlflowClient().get_run(_run_id(proc)).data.params == {
        "model.depth": "4",
        "model.name": "rf",
        "seed": "2",
    }
    bad = gitrun_cli(in_repo, "run", "-P", "novalue", "--", "true")
    assert bad.returncode == 1 and "expects key=value" in bad.stderr
    missing = gitrun_cli(in_repo, "run", "--", "no-such-command-xyz")
    assert missing.returncode == 1 and "command not found" in missing.stderr
