"""`gitrun metrics RUN... [KEY...]`: series of several runs in long format."""

from __future__ import annotations

import csv
import io
import json
import threading
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
    client = gitrun.MlflowClient()
    run = client.create_run("0", run_name="live")
    client.log_metric(run.info.run_id, "loss", 1.0, step=0)
    client.flush()
    result: dict[str, object] = {}

    def follow() -> None:
        result["proc"] = gitrun_cli(
            in_repo, "metrics", run.info.run_id, "loss", "--follow", "--interval", "0.2"
        )

    thread = threading.Thread(target=follow)
    thread.start()
    time.sleep(2.0)
    client.log_metric(run.info.run_id, "loss", 0.5, step=1)
    client.flush()
    time.sleep(1.5)
    client.set_terminated(run.info.run_id)
    client.flush()
    thread.join(timeout=60)
    proc = result["proc"]
    assert proc.returncode == 0, proc.stderr  # type: ignore[attr-defined]
    values = [line.split()[-1] for line in proc.stdout.splitlines()[1:]]  # type: ignore[attr-defined]
    assert values == ["1.0", "0.5"]  # each point once, the new one as it came
    assert "every followed run has ended" in proc.stderr  # type: ignore[attr-defined]
