"""Records fetched from someone else cannot drive the terminal: control characters,
escape sequences (clear screen, window title, OSC 8 links), C1 controls and
bidirectional overrides are escaped in every CLI output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gitrun import MlflowClient
from tests.reliability.conftest import cli

CLEAR = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;pwned\x07"
LINK = "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"
C1 = "\x9b31m"
BIDI = "\u202etxt.exe"
HOSTILE = f"a{CLEAR}b{TITLE}c{LINK}d{C1}e{BIDI}\rf\udcff"
FORBIDDEN = [b"\x1b]", b"\x1b[2J", b"\x1b[H", b"\x07", "\x9b".encode(), "\u202e".encode(), b"\r"]


@pytest.fixture
def hostile_runs(in_repo: Path) -> tuple[str, str]:
    """Two runs whose name, params, tags, experiment, code listing and artifacts hold
    terminal sequences (as a record pushed by someone else could)."""
    (in_repo / f"x{CLEAR}y.py").write_text("print(1)\n")  # an untracked file in the snapshot
    client = MlflowClient()
    hostile = HOSTILE.replace("\udcff", "")  # the API refuses undecodable text; the CLI escapes it too
    experiment = client.create_experiment(f"exp{hostile}")
    ids = []
    for i in range(2):
        run = client.create_run(experiment, run_name=f"run{i}{hostile}")
        client.log_param(run.info.run_id, "p", f"{i}{hostile}")
        client.set_tag(run.info.run_id, f"t{i}", hostile)
        client.log_metric(run.info.run_id, "m", float(i))
        client.log_text(run.info.run_id, "x", f"a{CLEAR}.txt")
        client.set_terminated(run.info.run_id)
        ids.append(run.info.run_id)
    client.flush()
    return ids[0], ids[1]


def _check(output: bytes, *, color: bool) -> None:
    for sequence in FORBIDDEN:
        assert sequence not in output, (sequence, output[:2000])
    if not color:
        assert b"\x1b" not in output


def test_no_cli_output_carries_a_record_s_control_sequences(
    in_repo: Path, hostile_runs: tuple[str, str]
) -> None:
    first, second = hostile_runs
    plain = [
        ["runs", "ls", "--all"],
        ["runs", "ls", "--json"],
        ["runs", "ls", "--csv"],
        ["show", first],
        ["show", first, "--json"],
        ["compare", first, second],
        ["experiments", "ls"],
        ["metrics", first],
        ["artifacts", "ls", first],
        ["show", "nonexistent-" + CLEAR],  # an error message quoting the input
    ]
    coloured = [
        ["runs", "ls", "--columns", "run_name,params.p,tags.t0"],
        ["show", first],
        ["compare", first, second],
    ]
    for color, commands in ((False, plain), (True, coloured)):
        flag = "--color" if color else "--no-color"
        for args in commands:
            proc = cli(in_repo, flag, *args)
            assert proc.returncode in (0, 1), (args, proc.stderr)
            _check(proc.stdout + proc.stderr, color=color)
    # JSON stays valid JSON and exact: the escapes decode to the recorded values.
    data = json.loads(cli(in_repo, "show", first, "--json").stdout)
    assert data["params"]["p"] == "0" + HOSTILE.replace("\udcff", "")
    shown = cli(in_repo, "--no-color", "show", first).stdout
    assert b"\\x1b]0;pwned\\x07" in shown and b"\\u202e" in shown  # visible, not executed
