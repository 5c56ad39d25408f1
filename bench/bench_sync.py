"""Issue 5: time `gitrun push` / `gitrun fetch` of 10 new runs against a remote that
already holds N runs, and the git hooks when there is nothing to do.

    python bench/bench_sync.py [--runs 10000] [--repeats 5] [--workdir DIR]

Machine A (a standalone store with N synthetic runs) pushes to a bare remote; machine
B fetched everything once.  Then, repeatedly, A records 10 new runs and pushes them
(timed), and B fetches them (timed).  The hooks are timed as whole processes, the way
git runs them, when the remote already has every run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import common
import synth

from gitrun.core.git.repo import Repository
from gitrun.core.records import sync
from gitrun.core.records.store import RecordStore


def _store(path: str) -> RecordStore:
    repo = Repository.at(path) or Repository.init_bare(path)
    return RecordStore(repo)


def _seconds(fn: object) -> float:
    began = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workdir")
    args = parser.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="gitrun-bench-sync-")
    a, b, remote = (os.path.join(work, name) for name in ("a.git", "b.git", "remote.git"))
    load_before = common.machine_load()
    if not os.path.exists(a):
        Repository.init_bare(a)
        print(f"generating {args.runs:,} runs in {a} ...", file=sys.stderr)
        synth.generate(a, args.runs)
        synth.gc(a)
    if not os.path.exists(remote):
        subprocess.run(["git", "init", "-q", "--bare", remote], check=True)
    store_a, store_b = _store(a), _store(b)
    first_push = _seconds(lambda: sync.push(store_a, remote))
    first_fetch = _seconds(lambda: sync.fetch(store_b, remote))
    pushes, fetches = [], []
    next_index = args.runs + 10_000_000
    for _ in range(args.repeats):
        synth.generate(a, 10, start=next_index, progress=False)
        next_index += 10
        pushes.append(_seconds(lambda: sync.push(store_a, remote)))
        fetches.append(_seconds(lambda: sync.fetch(store_b, remote)))
    assert sync.in_sync(store_a, remote)
    env = common.bench_env()
    hook = [sys.executable, "-m", "gitrun.hooks"]
    pre_push = common.timed(
        lambda: subprocess.run([*hook, "pre-push", remote, remote], cwd=a, input=b"", env=env, check=True),
        repeats=args.repeats,
    )
    post_commit_repo = common.fresh_repo(work, {"train.py": "print(1)\n"}, name="work")
    post_commit = common.timed(
        lambda: subprocess.run([*hook, "post-commit"], cwd=post_commit_repo, env=env, check=True),
        repeats=args.repeats,
    )
    result = {
        "runs": args.runs,
        "first_push_s": first_push,
        "first_fetch_s": first_fetch,
        "push_10_new_s": pushes,
        "fetch_10_new_s": fetches,
        "pre_push_hook_nothing_to_do_s": pre_push,
        "post_commit_hook_no_run_s": post_commit,
        "load_before": load_before,
        "load_after": common.machine_load(),
    }
    print(f"\nSync with a remote holding {args.runs:,} runs (median of {args.repeats}; {load_before})")
    print(f"  first push of all runs:          {first_push:8.2f} s (once)")
    print(f"  first fetch of all runs:         {first_fetch:8.2f} s (once)")
    print(f"  push 10 new runs:                {common.median(pushes) * 1e3:8.0f} ms")
    print(f"  fetch 10 new runs:               {common.median(fetches) * 1e3:8.0f} ms")
    print(f"  pre-push hook, nothing to do:    {common.median(pre_push) * 1e3:8.0f} ms (whole process)")
    print(f"  post-commit hook, no run linked: {common.median(post_commit) * 1e3:8.0f} ms (whole process)")
    print(f"  results: {common.write_json(f'sync-{args.runs}', result)}")


if __name__ == "__main__":
    main()
