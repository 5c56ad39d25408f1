"""What gitrun's post-commit hook adds to ``git commit`` when there is nothing to link.

    python bench/bench_hooks.py [--repeats 21]

A repository with 20 runs recorded (on a clean tree, so none waits for a commit);
``git commit --allow-empty`` is timed with gitrun's hooks installed and without,
alternately, and the median of the paired differences is printed (the issue's
target: under 0.1 s; before the shim's shell-level check it was 0.86 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

INSTALL = "import sys; from gitrun.cli.main import main; sys.argv[1:] = ['hooks', 'install']; main()"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPATH": here}
    env |= {
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@b",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@b",
    }
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="gitrun-bench-hooks-") as tmp:
        repos = {}
        for name in ("with hooks", "without"):
            repo = os.path.join(tmp, name.replace(" ", "-"))
            subprocess.run(["git", "init", "-q", repo], check=True, env=env)
            subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "0"], cwd=repo, check=True, env=env)
            script = (
                "import gitrun\nfor i in range(20):\n"
                "    with gitrun.start_run():\n        gitrun.log_metric('m', i)\n"
            )
            subprocess.run([sys.executable, "-c", script], cwd=repo, check=True, env=env)
            repos[name] = repo
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from gitrun.cli.main import main; sys.argv[1:] = ['hooks', 'install']; main()",
            ],
            cwd=repos["with hooks"],
            check=True,
            env=env,
            capture_output=True,
        )

        def commit(repo: str) -> float:
            started = time.perf_counter()
            subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "x"], cwd=repo, check=True, env=env)
            return time.perf_counter() - started

        assert os.path.exists(os.path.join(repos["with hooks"], ".git", "hooks", "post-commit"))
        commit(repos["with hooks"])
        commit(repos["without"])
        pairs = [(commit(repos["with hooks"]), commit(repos["without"])) for _ in range(args.repeats)]
    with_hooks = statistics.median(a for a, _ in pairs) * 1e3
    without = statistics.median(b for _, b in pairs) * 1e3
    added = statistics.median(a - b for a, b in pairs) * 1e3
    print(f"git commit, nothing to link: {with_hooks:.1f} ms with gitrun's hooks, {without:.1f} ms without")
    print(f"added by the post-commit hook (median of {args.repeats} paired differences): {added:.1f} ms")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
