"""What the code snapshot costs each top-level ``start_run``, and the tiny script.

    python bench/bench_snapshot.py                       # this checkout
    python bench/bench_snapshot.py --compare /work/main  # and another checkout, same machine, interleaved

The snapshot is what ``git add -A`` would commit (``git status``; when something
changed, ``git add -A`` into a copy of the index and ``git write-tree``; ``git
diff-tree`` for the lists of changed files).  Measured in a child process per
checkout (``PYTHONPATH`` = the checkout) on one project of 2,000 tracked files
(~4 MB), in five states; each figure is the median of ``--repeats`` calls of the
snapshot function, and of whole ``python tiny.py`` processes (import, one run, one
param, one metric) in a fresh repository.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = r"""
import json, os, statistics, sys, time
from gitrun.core.git.repo import Repository
from gitrun.tracking.capture import code

repo = Repository.discover(sys.argv[1])
repeats = int(sys.argv[2])
samples = []
for _ in range(repeats + 1):
    started = time.perf_counter()
    snap = code.snapshot(repo, repo)
    samples.append(time.perf_counter() - started)
changed = len(snap.record.get("changed", []))
print(json.dumps({"ms": statistics.median(samples[1:]) * 1e3, "changed": changed}))
"""

TINY = """import gitrun as mlflow
with mlflow.start_run():
    mlflow.log_param("alpha", 0.5)
    mlflow.log_metric("rmse", 0.25)
"""


def git(*args: str, cwd: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def project(parent: str) -> str:
    path = os.path.join(parent, "project")
    os.makedirs(path)
    git("init", "-q", "-b", "main", cwd=path)
    for i in range(2000):
        folder = os.path.join(path, f"pkg{i // 100}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"mod{i}.py"), "w", encoding="utf-8") as fh:
            fh.write(f"# module {i}\n" + "x = 1\n" * 300)
    git("add", "-A", cwd=path)
    git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "project", cwd=path)
    return path


def set_state(path: str, state: str) -> None:
    git("reset", "-q", "--hard", cwd=path)
    git("clean", "-qfdx", cwd=path)
    if state in ("5 modified", "5 modified + 50 untracked", "200 modified"):
        count = 200 if state == "200 modified" else 5
        for i in range(count):
            with open(os.path.join(path, f"pkg{i % 20}", f"mod{i}.py"), "a", encoding="utf-8") as fh:
                fh.write("y = 2\n")
    if state == "5 modified + 50 untracked":
        os.makedirs(os.path.join(path, "new"), exist_ok=True)
        for i in range(50):
            with open(os.path.join(path, "new", f"n{i}.py"), "w", encoding="utf-8") as fh:
                fh.write("z = 3\n" * 50)
    if state == "1 MB untracked file":
        with open(os.path.join(path, "data.bin"), "wb") as fh:
            fh.write(os.urandom(1 << 20))


def _env(checkout: str) -> dict[str, str]:
    """The checkout first on the path, with bytecode (as a normal install has)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(checkout, "gitrun")], check=True)
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPATH": checkout}


def measure(checkout: str, path: str, repeats: int) -> dict[str, float]:
    env = _env(checkout)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, path, str(repeats)], env=env, capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout))


def tiny(checkout: str, parent: str, repeats: int) -> float:
    env = _env(checkout)
    walls = []
    for i in range(repeats + 1):
        path = os.path.join(parent, f"tiny-{os.path.basename(checkout)}-{i}")
        os.makedirs(path)
        git("init", "-q", cwd=path)
        with open(os.path.join(path, "tiny.py"), "w", encoding="utf-8") as fh:
            fh.write(TINY)
        git("add", "-A", cwd=path)
        git("-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "tiny", cwd=path)
        started = time.perf_counter()
        subprocess.run([sys.executable, "tiny.py"], cwd=path, env=env, check=True, capture_output=True)
        walls.append(time.perf_counter() - started)
        shutil.rmtree(path)
    return statistics.median(walls[1:]) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--compare", metavar="CHECKOUT", help="another gitrun checkout to measure the same way"
    )
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    checkouts = {"this": here} | ({"compare": os.path.abspath(args.compare)} if args.compare else {})
    print(f"load average before: {os.getloadavg()}")
    results: dict[str, dict[str, float]] = {name: {} for name in checkouts}
    with tempfile.TemporaryDirectory(prefix="gitrun-bench-snapshot-") as tmp:
        path = project(tmp)
        states = ["clean", "5 modified", "5 modified + 50 untracked", "200 modified", "1 MB untracked file"]
        for state in states:
            set_state(path, state)
            for name, checkout in checkouts.items():  # interleaved: both see the same load
                results[name][state] = measure(checkout, path, args.repeats)["ms"]
        for name, checkout in checkouts.items():
            results[name]["tiny script (whole process)"] = tiny(checkout, tmp, max(5, args.repeats // 3))
    rows = list(next(iter(results.values())))
    header = f"{'snapshot per start_run, ms (median)':40s}" + "".join(f"{n:>12s}" for n in checkouts)
    print(header)
    for row in rows:
        print(f"{row:40s}" + "".join(f"{results[n][row]:12.1f}" for n in checkouts))
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
