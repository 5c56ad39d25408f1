"""Soak: writers logging while git's own maintenance runs in a loop.

    python bench/soak_maintenance.py                 # 4 writers, 60 s (the issue's soak)
    python bench/soak_maintenance.py --seconds 600 --writers 8

Each writer is its own process logging one metric series into a fresh repository
(flushing every 0.2 s, so that commits keep racing the maintenance), while this
process loops ``git gc``, ``git repack -ad`` and ``git maintenance run`` on that
repository.  Passes when no flush failed, every point logged is in git, and
``git fsck`` is clean.  A short version runs in the test suite
(``tests/fidelity/test_maintenance.py``).  Prints one JSON line; exit status 1 on
failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

WRITER = """
import json, sys, time, warnings
import gitrun

seconds, name = float(sys.argv[1]), sys.argv[2]
failures = []
warnings.showwarning = lambda message, *args, **kwargs: failures.append(str(message))
deadline = time.time() + seconds
points = 0
with gitrun.start_run(run_name=name) as run:
    while time.time() < deadline:
        for _ in range(50):
            gitrun.log_metric("x", points * 0.5, step=points)
            points += 1
        time.sleep(0.01)
print(json.dumps({"run_id": run.info.run_id, "points": points, "failures": failures}))
"""

MAINTENANCE = (["gc", "-q"], ["repack", "-adq"], ["maintenance", "run"])


@dataclass
class SoakResult:
    writers: int
    seconds: float
    points: int = 0
    lost: int = 0
    failed_flushes: int = 0
    maintenance_runs: int = 0
    maintenance_failures: int = 0
    fsck: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.failed_flushes or self.fsck or self.errors)


def make_repository(path: Path) -> Path:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "soak",
        "GIT_AUTHOR_EMAIL": "soak@example.com",
        "GIT_COMMITTER_NAME": "soak",
        "GIT_COMMITTER_EMAIL": "soak@example.com",
    }
    subprocess.run(["git", "init", "-q", str(path)], check=True, env=env)
    (path / "train.py").write_text("print('train')\n")
    subprocess.run(["git", "add", "-A"], cwd=path, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", "initial"], cwd=path, check=True, env=env)
    return path


def run_soak(repo: Path, writers: int = 4, seconds: float = 60.0) -> SoakResult:
    result = SoakResult(writers, seconds)
    env = {**os.environ, "GITRUN_FLUSH_INTERVAL": "0.2"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(seconds), f"writer-{i}"],
            cwd=repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(writers)
    ]
    while any(p.poll() is None for p in procs):
        for args in MAINTENANCE:
            done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
            result.maintenance_runs += 1
            # gc refuses to run while another gc holds gc.pid: that is git's own lock, not a failure.
            result.maintenance_failures += done.returncode != 0
    reports = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            result.errors.append(f"writer exited {proc.returncode}: {err.strip()[-2000:]}")
            continue
        if "could not commit" in err:
            result.errors.append(err.strip()[-2000:])
        reports.append(json.loads(out.strip().splitlines()[-1]))
    result.failed_flushes = sum(len(r["failures"]) for r in reports)
    for report in reports:
        result.errors.extend(report["failures"][:3])
    result.points = sum(r["points"] for r in reports)
    result.lost = _count_lost(repo, reports)
    fsck = subprocess.run(
        ["git", "fsck", "--no-dangling"], cwd=repo, capture_output=True, text=True, check=False
    )
    if fsck.returncode != 0 or fsck.stdout.strip():
        result.fsck = (fsck.stdout + fsck.stderr).strip()[-2000:]
    return result


def _count_lost(repo: Path, reports: list[dict[str, object]]) -> int:
    """Points a writer logged that are not in git (read in a fresh process)."""
    check = """
import json, sys
from gitrun import MlflowClient
client = MlflowClient()
lost = 0
for report in json.loads(sys.argv[1]):
    history = client.get_metric_history(report["run_id"], "x")
    steps = sorted(m.step for m in history)
    lost += report["points"] - len(set(steps) & set(range(report["points"])))
    lost += sum(1 for m in history if m.value != m.step * 0.5)
print(lost)
"""
    done = subprocess.run(
        [sys.executable, "-c", check, json.dumps(reports)],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"reading the runs back failed: {done.stderr}")
    return int(done.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gitrun-soak-") as tmp:
        started = time.time()
        result = run_soak(make_repository(Path(tmp) / "repo"), args.writers, args.seconds)
        print(json.dumps({**asdict(result), "ok": result.ok, "wall_s": round(time.time() - started, 1)}))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
