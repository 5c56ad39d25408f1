"""`gitrun metrics RUN [KEY]` prints series as text."""

from __future__ import annotations

from pathlib import Path

import gitrun
from tests.cli.test_run_cli import gitrun_cli


def test_metrics_as_text_and_csv(in_repo: Path) -> None:
    with gitrun.start_run() as run:
        for step in range(3):
            gitrun.log_metric("loss", 1 / (step + 1), step=step, timestamp=1000 + step)
        gitrun.log_metric("nan", float("nan"))
    gitrun.flush()
    text = gitrun_cli(in_repo, "metrics", run.info.run_id[:8], "loss")
    assert text.returncode == 0, text.stderr
    assert "loss (3 points)" in text.stdout and "0.3333333333333333" in text.stdout
    csv = gitrun_cli(in_repo, "metrics", run.info.run_id, "--csv")
    assert csv.stdout.splitlines() == [
        "key,step,timestamp,value",
        "loss,0,1000,1.0",
        "loss,1,1001,0.5",
        "loss,2,1002,0.3333333333333333",
        f"nan,0,{csv.stdout.splitlines()[-1].split(',')[2]},nan",
    ]
    missing = gitrun_cli(in_repo, "metrics", "ffffffff")
    assert missing.returncode == 1 and "no run id starts with" in missing.stderr
