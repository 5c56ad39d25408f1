"""`gitrun metrics RUN... [KEY...]`: series of several runs in long format."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import gitrun
from tests.cli.test_run_cli import gitrun_cli


def _two_runs() -> tuple[str, str]:
    with gitrun.start_run(run_name="first") as a:
        for step in range(3):
            gitrun.log_metric("loss", 1 / (step + 1), step=step, timestamp=1000 + step)
        gitrun.log_metric("nan", float("nan"))
    with gitrun.start_run(run_name="second") as b:
        gitrun.log_metric("loss", 0.25, step=0, timestamp=5000)
        gitrun.log_metric("val_acc", 0.5, step=0, timestamp=5000)
    gitrun.flush()
    return a.info.run_id, b.info.run_id


def test_table_has_a_header_readable_times_and_exact_values(in_repo: Path) -> None:
    a, _ = _two_runs()
    text = gitrun_cli(in_repo, "metrics", a[:8], "loss")
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].split() == ["run", "name", "key", "step", "time", "value"]
    assert len(lines) == 4 and all(line.startswith(a[:8]) for line in lines[1:])
    assert time.strftime("%Y-%m-%d", time.localtime(1)) in lines[1] and ".001" in lines[2]
    assert lines[3].endswith("0.3333333333333333")


def test_several_runs_and_keys_as_csv_and_json(in_repo: Path) -> None:
    a, b = _two_runs()
    out = gitrun_cli(in_repo, "metrics", "first", "second", "loss", "--csv")
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert list(rows[0]) == ["run_id", "run_name", "key", "step", "timestamp", "time", "value"]
    assert [(r["run_id"], r["step"], r["value"]) for r in rows] == [
        (a, "0", "1.0"),
        (a, "1", "0.5"),
        (a, "2", "0.3333333333333333"),
        (b, "0", "0.25"),
    ]
    assert rows[0]["time"] == "1970-01-01T00:00:01.000Z" and rows[0]["timestamp"] == "1000"
    every = json.loads(gitrun_cli(in_repo, "metrics", "@", "@~1", "--json").stdout)
    assert {(p["run_name"], p["key"]) for p in every} == {
        ("first", "loss"),
        ("first", "nan"),
        ("second", "loss"),
        ("second", "val_acc"),
    }
    assert next(p for p in every if p["key"] == "nan")["value"] == "NaN"


def test_mistakes_exit_1_with_a_specific_message(in_repo: Path) -> None:
    a, _ = _two_runs()
    nope = gitrun_cli(in_repo, "metrics", a, "nope")
    assert nope.returncode == 1
    assert nope.stderr.startswith("gitrun: error: no metric 'nope' in the run (metrics: loss, nan)")
    typo = gitrun_cli(in_repo, "metrics", a, "los")
    assert typo.returncode == 1 and "did you mean loss?" in typo.stderr
    prefixed = gitrun_cli(in_repo, "metrics", a, "metrics.loss")
    assert prefixed.returncode == 1 and "use loss" in prefixed.stderr
    both = gitrun_cli(in_repo, "metrics", a, "--json", "--csv")
    assert both.returncode == 2 and "choose one output format" in both.stderr
    missing = gitrun_cli(in_repo, "metrics", "ffffffff")
    assert missing.returncode == 1 and "no run id starts with" in missing.stderr


def test_follow_prints_points_of_a_running_run_until_it_ends(in_repo: Path) -> None:
    import subprocess
    import sys

    client = gitrun.MlflowClient()
    run = client.create_run("0", run_name="live")
    client.log_metric(run.info.run_id, "loss", 1.0, step=0)
    client.flush()
    follower = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gitrun.cli",
            "metrics",
            run.info.run_id,
            "loss",
            "--follow",
            "--interval",
            "0.2",
        ],
        cwd=in_repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert follower.stdout is not None
    assert follower.stdout.readline().split()[:3] == ["run", "name", "key"]
    assert follower.stdout.readline().split()[-1] == "1.0"  # it is following now
    client.log_metric(run.info.run_id, "loss", 0.5, step=1)
    client.flush()
    assert follower.stdout.readline().split()[-1] == "0.5"  # the new point, once
    client.set_terminated(run.info.run_id)
    client.flush()
    rest, err = follower.communicate(timeout=60)
    assert follower.returncode == 0, err
    assert rest == "" and "every followed run has ended" in err


def test_a_running_run_shows_points_its_process_has_not_committed(in_repo: Path) -> None:
    """No waiting for the writer's flush interval: the live journal is read (item 14)."""
    import subprocess
    import sys

    script = (
        "import sys, time, gitrun\n"
        "run = gitrun.start_run(run_name='live')\n"
        "gitrun.log_metric('loss', 1.0, step=0)\n"
        "gitrun.flush()\n"
        "for step in (1, 2):\n"
        "    gitrun.log_metric('loss', 1.0 / (step + 1), step=step)\n"
        "print(run.info.run_id, flush=True)\n"
        "sys.stdin.read()\n"
    )
    env = {**__import__("os").environ, "GITRUN_FLUSH_INTERVAL": "3600"}
    writer = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=in_repo,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert writer.stdout is not None
        run_id = writer.stdout.readline().strip()
        committed = gitrun.MlflowClient().get_metric_history(run_id, "loss")
        assert [m.step for m in committed] == [0]  # git has only the first point
        out = gitrun_cli(in_repo, "metrics", run_id, "loss", "--csv")
        assert out.returncode == 0, out.stderr
        assert [row.split(",")[3] for row in out.stdout.splitlines()[1:]] == ["0", "1", "2"]
        shown = gitrun_cli(in_repo, "show", run_id).stdout
        assert "duration" in shown and "+ so far" in shown  # a running run's duration so far
        assert gitrun.MlflowClient().get_metric_history(run_id, "loss") == committed  # reads never write
    finally:
        writer.communicate("", timeout=60)
