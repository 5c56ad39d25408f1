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
    assert _all_run_ids(in_repo) == [run.info.run_id]  # no second run


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


def _all_run_ids(repo: Path) -> list[str]:
    listing = subprocess.run(
        ["git", "ls-tree", "-r", "-d", "--name-only", "refs/gitrun/records", "runs"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return [p.rsplit("/", 1)[1] for p in listing if p.count("/") == 4]


def test_a_standard_mlflow_script_that_sets_its_experiment_just_works(in_repo: Path) -> None:
    """The script's set_experiment moves the run gitrun run created (item 1)."""
    (in_repo / "train.py").write_text(
        "import gitrun as mlflow\n"
        "mlflow.set_experiment('from-script')\n"
        "with mlflow.start_run(run_name='scripted'):\n"
        "    mlflow.log_param('alpha', 0.5)\n"
        "    mlflow.log_metric('rmse', 0.25)\n"
    )
    proc = gitrun_cli(in_repo, "run", "-n", "wrapper", "--", sys.executable, "train.py")
    assert proc.returncode == 0, proc.stderr
    assert "in experiment from-script (set by the script)" in proc.stderr
    assert "the script named the run 'scripted', replacing -n 'wrapper'" in proc.stderr
    client = MlflowClient()
    run = client.get_run(_run_id(proc))
    experiment = client.get_experiment_by_name("from-script")
    assert experiment is not None and run.info.experiment_id == experiment.experiment_id
    assert run.info.status == "FINISHED" and run.data.params == {"alpha": "0.5"}
    assert run.data.metrics == {"rmse": 0.25} and run.data.tags["gitrun.moved_from_experiment"] == "0"
    assert _all_run_ids(in_repo) == [run.info.run_id]  # one run, nothing left in Default


def test_an_explicit_experiment_that_the_script_contradicts_says_what_to_do(in_repo: Path) -> None:
    (in_repo / "train.py").write_text(
        "import gitrun\ngitrun.set_experiment('other')\nwith gitrun.start_run():\n    pass\n"
    )
    proc = gitrun_cli(in_repo, "run", "-e", "chosen", "--", sys.executable, "train.py")
    assert proc.returncode == 1
    assert "drop -e (the run then follows the script's set_experiment)" in proc.stderr


def test_run_requires_double_dash_and_knows_gitrun_commands(in_repo: Path) -> None:
    proc = gitrun_cli(in_repo, "run", "ls")
    assert proc.returncode == 2
    assert "gitrun run needs `--` before the command to record, e.g. gitrun run -- ls." in proc.stderr
    assert "Did you mean `gitrun runs ls`?" in proc.stderr
    shown = gitrun_cli(in_repo, "run", "show", "abc")
    assert shown.returncode == 2 and "Did you mean `gitrun show abc`?" in shown.stderr
    assert _all_run_ids(in_repo) == []  # nothing recorded


def test_a_command_that_cannot_start_records_nothing(in_repo: Path) -> None:
    missing = gitrun_cli(in_repo, "run", "--", "nonexistent-cmd-xyz", "--flag")
    assert missing.returncode == 1
    assert "command not found: nonexistent-cmd-xyz (nothing was recorded" in missing.stderr
    script = gitrun_cli(in_repo, "run", "--", sys.executable, "no_such_script.py")
    assert script.returncode == 1 and "cannot open no_such_script.py" in script.stderr
    (in_repo / "not-executable.sh").write_text("echo hi\n")
    plain = gitrun_cli(in_repo, "run", "--", "./not-executable.sh")
    assert plain.returncode == 1 and "is not executable" in plain.stderr
    assert _all_run_ids(in_repo) == []


def test_interrupted_run_names_the_signal(in_repo: Path) -> None:
    proc = gitrun_cli(in_repo, "run", "--", "sh", "-c", "kill -INT $$")
    run_id = _run_id(proc)
    assert "KILLED (SIGINT)" in proc.stderr
    show = gitrun_cli(in_repo, "show", run_id)
    assert "status        KILLED (SIGINT)" in show.stdout
