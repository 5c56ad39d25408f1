"""The figures behind docs/reliability.md: kills at random points (recovery included),
prunes and gcs during writes, full disks.  Prints one table; nothing is timed.

    python bench/bench_reliability.py                  # every scenario, ~15-30 min
    python bench/bench_reliability.py --kills 200      # more kills
    python bench/bench_reliability.py --only kill prune

Each scenario counts what matters: points (or runs, or artifacts) returned to the
caller before the disturbance, and how many of them git held afterwards.  A single
lost point, a gap or a duplicate makes the script exit 1.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

from bench.common import IDENTITY, machine_load  # noqa: E402
from tests.reliability.test_gc_during_writes import COLLECTOR  # noqa: E402
from tests.reliability.test_gc_during_writes import WRITER as ARTIFACT_WRITER  # noqa: E402
from tests.reliability.test_journals import kill_at_random_point  # noqa: E402
from tests.reliability.test_prune import PRUNER  # noqa: E402
from tests.reliability.test_prune import WRITER as PRUNE_WRITER  # noqa: E402

GITRUN = [sys.executable, "-m", "gitrun.cli"]


@dataclass
class Row:
    scenario: str
    trials: int
    returned: int
    kept: int
    note: str = ""

    @property
    def lost(self) -> int:
        return self.returned - self.kept


def _repo(top: Path) -> Path:
    repo = top / "repo"
    repo.mkdir()
    env = {**os.environ, **IDENTITY}
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True, env=env)
    (repo / "train.py").write_text("print(1)\n")
    subprocess.run(["git", "add", "."], cwd=repo, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "i"], cwd=repo, check=True, env=env)
    return repo


def _history(repo: Path, run_ids: list[str], key: str) -> dict[str, list[int]]:
    code = (
        "import sys, json, gitrun\n"
        "c = gitrun.MlflowClient()\n"
        f"print(json.dumps({{r: [m.step for m in c.get_metric_history(r, {key!r})] for r in sys.argv[1:]}}))"
    )
    out = subprocess.run([sys.executable, "-c", code, *run_ids], cwd=repo, capture_output=True, check=True)
    import json

    return {k: list(v) for k, v in json.loads(out.stdout).items()}


def kills(count: int) -> Row:
    """SIGKILL at a random moment of a process logging points and batches and ending runs."""
    returned = kept = 0
    for trial in range(count):
        with tempfile.TemporaryDirectory() as top:
            repo = _repo(Path(top))
            upto = kill_at_random_point(repo, trial, IDENTITY)
            code = (
                "import sys, json, gitrun\n"
                "from tests.reliability.test_journals import points_kept\n"
                "print(points_kept(gitrun.MlflowClient(), json.loads(sys.argv[1])))"
            )
            import json

            out = subprocess.run(
                [sys.executable, "-c", code, json.dumps(upto)], cwd=repo, capture_output=True, check=False
            )
            if out.returncode != 0:
                raise SystemExit(f"trial {trial}: {out.stderr.decode()}")  # a gap or a duplicate
            returned += max(upto.values())
            kept += min(max(upto.values()), int(out.stdout))
    return Row("SIGKILL at a random point (points)", count, returned, kept, "no gap, no duplicate")


def recovery_kills(count: int) -> Row:
    """SIGKILL of the processes recovering a dead journal of 200k points, again and again."""
    victim = (
        "import time, gitrun\nfrom gitrun.entities import Metric\nrun = gitrun.start_run()\n"
        "for b in range(10):\n"
        "    gitrun.MlflowClient().log_batch(run.info.run_id, metrics=[Metric('m', float(s), 0, s) "
        "for s in range(b * 20000, (b + 1) * 20000)])\n"
        "print(run.info.run_id, flush=True)\ntime.sleep(600)\n"
    )
    rng = random.Random(2)
    with tempfile.TemporaryDirectory() as top:
        repo = _repo(Path(top))
        env = {**os.environ, **IDENTITY, "GITRUN_FLUSH_INTERVAL": "3600"}
        proc = subprocess.Popen([sys.executable, "-c", victim], cwd=repo, stdout=subprocess.PIPE, env=env)
        assert proc.stdout is not None
        run_id = proc.stdout.readline().decode().strip()
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for _ in range(count):
            rec = subprocess.Popen(
                [sys.executable, "-c", "import gitrun; gitrun.search_runs()"], cwd=repo, env=env
            )
            time.sleep(rng.uniform(0.1, 3.0))
            rec.send_signal(signal.SIGKILL)
            rec.wait()
        steps = _history(repo, [run_id], "m")[run_id]
    ok = steps == list(range(200_000))
    return Row("SIGKILL during recovery (points)", count, 200_000, len(steps) if ok else 0)


def prunes(count: int) -> Row:
    """`git prune --expire=now` and `git gc --prune=now` in a loop while runs end."""
    returned = kept = 0
    for _ in range(count):
        with tempfile.TemporaryDirectory() as top:
            repo = _repo(Path(top))
            subprocess.run(["git", "config", "gc.auto", "0"], cwd=repo, check=True)
            pruner = subprocess.Popen([sys.executable, "-c", PRUNER], cwd=repo)
            env = {**os.environ, **IDENTITY, "GITRUN_FLUSH_INTERVAL": "0.2", "GITRUN_AUTO_GC": "0"}
            writer = subprocess.Popen(
                [sys.executable, "-c", PRUNE_WRITER, "15"], cwd=repo, stdout=subprocess.PIPE, env=env
            )
            while not (repo / "ready").exists() and writer.poll() is None:
                time.sleep(0.05)
            (repo / "stop").touch()
            pruner.wait()
            (repo / "go").touch()
            out, _ = writer.communicate()
            ended = out.decode().split()
            returned += len(ended)
            histories = _history(repo, ended, "loss")
            kept += sum(1 for r in ended if histories[r] == list(range(100)))
    return Row("prune during logging (ended runs)", count, returned, kept)


def gcs(count: int) -> Row:
    """`gitrun gc --grace 0` in a loop while two processes log artifacts."""
    returned = kept = 0
    for _ in range(count):
        with tempfile.TemporaryDirectory() as top:
            repo = _repo(Path(top))
            collector = subprocess.Popen([sys.executable, "-c", COLLECTOR, *GITRUN], cwd=repo)
            env = {**os.environ, **IDENTITY, "GITRUN_FLUSH_INTERVAL": "1"}
            writers = [
                subprocess.Popen(
                    [sys.executable, "-c", ARTIFACT_WRITER, tag, "6"],
                    cwd=repo,
                    stdout=subprocess.PIPE,
                    env=env,
                )
                for tag in ("a", "b")
            ]
            run_ids = [r for w in writers for r in w.communicate()[0].decode().split()]
            (repo / "stop").touch()
            collector.wait()
            returned += 3 * len(run_ids)
            check = (
                "import sys, gitrun\nc = gitrun.MlflowClient()\nn = 0\n"
                "for r in sys.argv[1:]:\n"
                "    try:\n        c.download_artifacts(r, '', 'out/' + r); n += 3\n"
                "    except Exception as e:\n        print(e, file=sys.stderr)\n"
                "print(n)\n"
            )
            out = subprocess.run(
                [sys.executable, "-c", check, *run_ids], cwd=repo, capture_output=True, env=env
            )
            kept += int(out.stdout.decode().strip() or 0)
    return Row("gc --grace 0 during writes (artifacts)", count, returned, kept)


JOURNAL_SIZE = """
import json, sys, threading, time, gitrun
from pathlib import Path
from gitrun.entities import Metric
folder = Path(".git/gitrun/journal")
biggest = 0
stop = False
def watch():
    global biggest
    while not stop:
        for p in folder.glob("*.jnl"):
            try:
                biggest = max(biggest, p.stat().st_size)
            except FileNotFoundError:
                pass
        time.sleep(0.02)
thread = threading.Thread(target=watch)
thread.start()
client = gitrun.MlflowClient()
run = gitrun.start_run()
for b in range(int(sys.argv[1]) // 10000):
    points = [Metric("x", 1.0, 0, s) for s in range(b * 10000, (b + 1) * 10000)]
    client.log_batch(run.info.run_id, metrics=points)
gitrun.end_run()
gitrun.flush()
stop = True
thread.join()
print(json.dumps({"run": run.info.run_id, "biggest": biggest}))
"""


def journal_size(points: int) -> Row:
    """The largest journal file while one run logs ``points`` points with the default schedule."""
    import json

    with tempfile.TemporaryDirectory() as top:
        repo = _repo(Path(top))
        env = {**os.environ, **IDENTITY}
        out = subprocess.run(
            [sys.executable, "-c", JOURNAL_SIZE, str(points)],
            cwd=repo,
            capture_output=True,
            check=True,
            env=env,
        )
        result = json.loads(out.stdout)
        kept = len(_history(repo, [result["run"]], "x")[result["run"]])
    return Row(
        "log_batch of 3M points (points)",
        1,
        points,
        kept,
        f"largest journal {result['biggest'] / 2**20:.1f} MiB",
    )


HOT_PATH = """
import time, gitrun
run = gitrun.start_run()
gitrun.log_metric("warm", 1.0)
start = time.perf_counter()
for step in range(200_000):
    gitrun.log_metric("loss", 0.5, step=step)
print((time.perf_counter() - start) / 200_000 * 1e6)
"""


def hot_path(repeats: int) -> Row:
    """``log_metric`` through the fluent API (journal included), best of ``repeats``;
    run it with PYTHONPATH at another checkout to compare (docs: main vs this branch)."""
    best = float("inf")
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as top:
            repo = _repo(Path(top))
            env = {**os.environ, **IDENTITY, "GITRUN_FLUSH_INTERVAL": "3600"}
            out = subprocess.run(
                [sys.executable, "-c", HOT_PATH], cwd=repo, capture_output=True, check=True, env=env
            )
            best = min(best, float(out.stdout))
    return Row(
        "log_metric x 200k (points)", repeats, 200_000, 200_000, f"{best:.2f} us per call, best of {repeats}"
    )


SCENARIOS: dict[str, Callable[[argparse.Namespace], Row]] = {
    "hot": lambda a: hot_path(5),
    "journal": lambda a: journal_size(a.points),
    "kill": lambda a: kills(a.kills),
    "recovery": lambda a: recovery_kills(a.recovery_kills),
    "prune": lambda a: prunes(a.prunes),
    "gc": lambda a: gcs(a.gcs),
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--recovery-kills", type=int, default=30)
    parser.add_argument("--prunes", type=int, default=12)
    parser.add_argument("--gcs", type=int, default=8)
    parser.add_argument("--points", type=int, default=3_000_000)
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    print(f"# {machine_load()}")
    rows = [SCENARIOS[name](args) for name in (args.only or SCENARIOS)]
    print(f"{'scenario':<42} {'trials':>6} {'returned':>9} {'kept':>9} {'lost':>5}  note")
    for row in rows:
        print(f"{row.scenario:<42} {row.trials:>6} {row.returned:>9} {row.kept:>9} {row.lost:>5}  {row.note}")
    print(f"# {machine_load()}")
    if any(row.lost for row in rows):  # a gap or a duplicate already stopped the script
        sys.exit(1)


if __name__ == "__main__":
    main()
