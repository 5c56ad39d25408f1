"""Search and index costs of two gitrun checkouts, measured alternately on one repository.

For a change that should cost nothing (a refactoring), the question is "before or
after?", not "how fast against MLflow?": both checkouts run the same measurements on
the same repository, alternating, so that the machine's drift (up to 2x over minutes
on these shared machines) falls on both.  Each measurement is a child process with
``PYTHONPATH`` set to one checkout:

  warm   median of ``--warm`` ``search_runs`` in one process (after a first, untimed one);
  cold   one whole process: interpreter start, ``import gitrun``, open, search;
  build  a full index build (``index.sqlite`` deleted first), on a copy of the repository.

    git worktree add --detach /tmp/before <rev>
    python bench/ab_search.py /tmp/search/gitrun-2000 /tmp/before .
    # a repository to search: python bench/bench_search.py --sizes 2000 --no-mlflow --workdir /tmp/search

Prints, per checkout, the median of ``--rounds`` rounds of each figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from search_worker import FILTER, ORDER_BY

_CHILD = """
import os, statistics, sys, time
start = time.perf_counter()
import gitrun
from gitrun.tracking import search
mode, repo, warm = sys.argv[1], sys.argv[2], int(sys.argv[3])
filter_string, order_by = {filter!r}, {order_by!r}
client = gitrun.MlflowClient(repo)
if mode == "build":
    index = os.path.join(repo, ".git", "gitrun", "index.sqlite")
    if os.path.exists(index):
        os.unlink(index)
    start = time.perf_counter()
    client.search_runs(["0"], "", max_results=1)
    print(time.perf_counter() - start)
elif mode == "cold":
    client.search_runs(["0"], filter_string, order_by=order_by, max_results=1000)
    print(time.perf_counter() - start)
else:
    client.search_runs(["0"], filter_string, order_by=order_by, max_results=1000)
    times = []
    for _ in range(warm):
        t = time.perf_counter()
        client.search_runs(["0"], filter_string, order_by=order_by, max_results=1000)
        times.append(time.perf_counter() - t)
    print(statistics.median(times))
"""


def measure(checkout: str, mode: str, repo: str, warm: int) -> float:
    """Seconds of one measurement with ``checkout``'s gitrun."""
    # Bytecode is written and reused (by the first round): a checkout that has none would
    # pay for compiling every module in its cold figure.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.path.abspath(checkout)
    code = _CHILD.format(filter=FILTER, order_by=ORDER_BY)
    out = subprocess.run(
        [sys.executable, "-c", code, mode, repo, str(warm)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("repo", help="a repository holding runs (bench_search.py --workdir builds some)")
    parser.add_argument("checkouts", nargs=2, help="the two gitrun checkouts: before, after")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warm", type=int, default=200, help="searches per warm measurement")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="gitrun-ab-")
    try:
        # Every checkout searches its own copy: one index, built by its own code.
        copies = {
            c: shutil.copytree(args.repo, os.path.join(work, str(i))) for i, c in enumerate(args.checkouts)
        }
        results: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.rounds):
            for mode in ("warm", "cold", "build"):
                for checkout in args.checkouts:
                    value = measure(checkout, mode, copies[checkout], args.warm)
                    results.setdefault((checkout, mode), []).append(value)
        load = os.getloadavg()
        print(f"{args.rounds} rounds, alternated; load average {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")
        print(f"{'checkout':40}  {'warm ms':>8}  {'cold ms':>8}  {'build s':>8}")
        for checkout in args.checkouts:
            warm, cold, build = (statistics.median(results[(checkout, m)]) for m in ("warm", "cold", "build"))
            print(f"{checkout:40}  {warm * 1000:8.2f}  {cold * 1000:8.1f}  {build:8.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
