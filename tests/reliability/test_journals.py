"""Journals: damaged ones never block anything, replay is never stale, a journal never
grows with the run, and a kill at any point (recovery included) loses nothing that
was returned."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import gitrun
from gitrun import MlflowClient
from gitrun.core.records import journal as jnl
from gitrun.errors import DamagedRecordWarning
from gitrun.tracking import session as tracking_session
from tests.reliability.conftest import cli, trials

SLOW_FLUSH = {"GITRUN_FLUSH_INTERVAL": "3600"}

VICTIM = """
import sys, time, gitrun
run = gitrun.start_run(run_name="victim")
gitrun.log_param("before", "flush")
gitrun.flush()
gitrun.log_params({"a": 1, "b": "two"})
gitrun.set_tag("phase", "after-flush")
for step in range(3000):
    gitrun.log_metric("loss", step * 0.5, step=step)
print(run.info.run_id, flush=True)
time.sleep(600)
"""


def _spawn(cwd: Path, code: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **SLOW_FLUSH, **(env or {})},
    )


def _kill_after_line(proc: subprocess.Popen[bytes]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline().decode().strip()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert line, proc.stderr.read().decode() if proc.stderr else ""
    return line


def _journal_dir(repo: Path) -> Path:
    return repo / ".git" / "gitrun" / "journal"


def _reopen() -> MlflowClient:
    tracking_session.close_all()  # the next store recovers dead journals
    return MlflowClient()


def test_damaged_journals_are_quarantined_and_the_rest_replayed(in_repo: Path) -> None:
    run_id = _kill_after_line(_spawn(in_repo, VICTIM))
    folder = _journal_dir(in_repo)
    [victim] = [p for p in folder.iterdir() if p.suffix == ".jnl"]
    # One record of the victim's journal becomes garbage (its framing intact).
    contents = jnl.read_records(str(victim))
    params_at = next(
        off for off, kind, _ in contents.records if kind == jnl.PARAMS and off >= contents.flushed
    )
    with open(victim, "r+b") as fh:
        fh.seek(params_at + 5)
        fh.write(b"\xff{not json")
    # What a power cut, a full disk or a kill during creation can leave behind.
    (folder / "zeros.jnl").write_bytes(bytes(1 << 20))
    (folder / "empty.jnl").write_bytes(b"")
    (folder / "short.jnl").write_bytes(jnl.MAGIC + b"\x01\x00\x00\x00\x00\x00")
    tracking_session.close_all()
    with pytest.warns(DamagedRecordWarning) as caught:
        client = MlflowClient()
        run = client.get_run(run_id)
    messages = " ".join(str(w.message) for w in caught)
    for name in ("zeros.jnl", "empty.jnl", "short.jnl", victim.name):
        assert name in messages
    assert "zero-filled" in messages and "not a JSON object" in messages
    # Everything else of the damaged journal was replayed.
    assert run.info.status == "KILLED"
    assert run.data.params == {"before": "flush"}  # the garbage record held a and b
    assert run.data.tags["phase"] == "after-flush"
    assert [m.value for m in client.get_metric_history(run_id, "loss")] == [s * 0.5 for s in range(3000)]
    assert sorted(p.name.split(".jnl")[0] for p in (folder / "damaged").iterdir()) == sorted(
        ["zeros", "empty", "short", victim.stem]
    )
    assert not [p for p in folder.iterdir() if p.suffix == ".jnl"]
    listed = cli(in_repo, "runs", "ls")
    assert listed.returncode == 0 and b"damaged" not in listed.stderr  # said once, then kept aside


STALE_VICTIM = """
import sys, time, gitrun
run = gitrun.start_run(run_id=sys.argv[1] if len(sys.argv) > 1 else None)
gitrun.flush()
gitrun.set_tag("common", "from-dead")
gitrun.set_tag("unique", "u")
print(run.info.run_id, flush=True)
time.sleep(600)
"""


def test_replay_never_overwrites_a_value_committed_later(in_repo: Path) -> None:
    proc = _spawn(in_repo, STALE_VICTIM)
    assert proc.stdout is not None
    run_id = proc.stdout.readline().decode().strip()
    client = MlflowClient()
    client.set_tag(run_id, "common", "from-live")  # after the dead one's write
    client.flush()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    run = _reopen().get_run(run_id)
    assert run.data.tags["common"] == "from-live"
    assert run.data.tags["unique"] == "u"
    assert run.info.status == "KILLED"


def test_replay_keeps_a_dead_value_newer_than_what_it_had_seen(in_repo: Path) -> None:
    client = MlflowClient()
    run_id = client.create_run("0").info.run_id
    client.set_tag(run_id, "common", "from-live")
    client.flush()
    proc = subprocess.Popen(
        [sys.executable, "-c", STALE_VICTIM, run_id],
        cwd=in_repo,
        stdout=subprocess.PIPE,
        env={**os.environ, **SLOW_FLUSH},
    )
    _kill_after_line(proc)
    run = _reopen().get_run(run_id)
    assert run.data.tags["common"] == "from-dead"
    assert run.data.tags["unique"] == "u"


ROTATING = """
import sys, time, gitrun
from gitrun.entities import Metric
from pathlib import Path
run = gitrun.start_run()
folder = Path(".git/gitrun/journal")
biggest = 0
for block in range(15):
    points = [Metric("x", float(s), 0, s) for s in range(block * 20000, (block + 1) * 20000)]
    gitrun.MlflowClient().log_batch(run.info.run_id, metrics=points)
    gitrun.flush()
    biggest = max([biggest] + [p.stat().st_size for p in folder.glob("*.jnl")])
for s in range(300000, 300100):
    gitrun.log_metric("x", float(s), step=s, timestamp=0)
gitrun.set_tag("after", "rotation")
print(run.info.run_id, biggest, flush=True)
time.sleep(600)
"""


def test_journal_is_rotated_and_what_it_carries_over_is_recovered(in_repo: Path) -> None:
    line = _kill_after_line(_spawn(in_repo, ROTATING))
    run_id, biggest = line.split()
    # 300k points (8.7 MB of journal records) never needed more than 2 MiB of journal.
    assert int(biggest) <= 2 << 20
    client = _reopen()
    history = client.get_metric_history(run_id, "x")
    assert [m.step for m in history] == list(range(300100))
    assert client.get_run(run_id).data.tags["after"] == "rotation"


CRASHER = """
import sys, random, gitrun
from gitrun.entities import Metric
rng = random.Random(int(sys.argv[1]))
client = gitrun.MlflowClient()
gitrun.set_experiment("crash")
step = 0
while True:
    run = gitrun.start_run()
    gitrun.log_param("seed", sys.argv[1])
    for _ in range(rng.randrange(1, 40)):
        if rng.random() < 0.5:
            gitrun.log_metric("m", float(step), step=step)
            step += 1
        else:
            n = rng.randrange(1, 300)
            points = [Metric("m", float(s), 0, s) for s in range(step, step + n)]
            client.log_batch(run.info.run_id, metrics=points)
            step += n
        print(run.info.run_id, step, flush=True)
    gitrun.end_run()
    print(run.info.run_id, step, "ended", flush=True)
"""


def kill_at_random_point(cwd: Path, seed: int, env: dict[str, str]) -> dict[str, int]:
    """Run CRASHER, SIGKILL it at a random point after its first call returned, and
    return how many points of ``m`` had been returned when each run's last printed call
    returned (also used by bench/bench_reliability.py)."""
    rng = random.Random(seed)
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASHER, str(seed)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        env={**os.environ, "GITRUN_FLUSH_INTERVAL": str(rng.choice([0.05, 0.5, 3600])), **env},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # a call has returned: the kill comes at a random point after
    time.sleep(rng.uniform(0.0, 3.0))
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate()
    out = first + rest
    lines = out.decode(errors="replace").splitlines()
    upto: dict[str, int] = {}
    for line in lines if out.endswith(b"\n") else lines[:-1]:
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 32:
            upto[parts[0]] = int(parts[1])
    return upto


def points_kept(client: MlflowClient, returned: dict[str, int]) -> int:
    """Points of ``m`` in git for the runs of :func:`kill_at_random_point`, checking that
    the series run on without a gap or a duplicate."""
    start = 0
    for run_id in returned:
        steps = [m.step for m in client.get_metric_history(run_id, "m")]
        assert steps == list(range(start, start + len(steps))), "a gap or a duplicate"
        start += len(steps)
    return start


@pytest.mark.parametrize("seed", range(trials(3, 100)))
def test_kill_at_a_random_point_loses_nothing_returned(in_repo: Path, seed: int) -> None:
    returned = kill_at_random_point(in_repo, seed, {})
    assert returned
    assert points_kept(_reopen(), returned) >= max(returned.values()), "a returned point was lost"
    assert not [p for p in _journal_dir(in_repo).glob("*.jnl")]


def test_kills_during_recovery_lose_nothing(in_repo: Path) -> None:
    big = (
        "import time, gitrun\n"
        "from gitrun.entities import Metric\n"
        "run = gitrun.start_run()\n"
        "for b in range(10):\n"
        "    gitrun.MlflowClient().log_batch(run.info.run_id,"
        " metrics=[Metric('m', float(s), 0, s) for s in range(b * 20000, (b + 1) * 20000)])\n"
        "    gitrun.set_tag(f't{b}', str(b))\n"
        "print(run.info.run_id, flush=True)\n"
        "time.sleep(600)\n"
    )
    run_id = _kill_after_line(_spawn(in_repo, big))
    rng = random.Random(7)
    recovering = "import gitrun; gitrun.search_runs()"
    for _ in range(trials(4, 40)):
        proc = subprocess.Popen([sys.executable, "-c", recovering], cwd=in_repo)
        time.sleep(rng.uniform(0.2, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    client = _reopen()
    assert [m.step for m in client.get_metric_history(run_id, "m")] == list(range(200000))
    run = client.get_run(run_id)
    assert run.info.status == "KILLED"
    assert {k: v for k, v in run.data.tags.items() if k.startswith("t") and k[1:].isdigit()} == {
        f"t{b}": str(b) for b in range(10)
    }
    assert not [p for p in _journal_dir(in_repo).glob("*.jnl")]
    assert gitrun.search_runs(output_format="list")
