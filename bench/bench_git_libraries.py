"""Who should read and write git objects and refs: gitrun's own layer, dulwich or pygit2?

    python bench/bench_git_libraries.py
    python bench/bench_git_libraries.py --pygit2-python /path/to/python-with-pygit2

Measures, on this machine, what the choice costs a tracked script:

* import time of each library (fresh processes, median of 9, minus a bare
  ``python -c pass``);
* reading the records ref (files backend) 2,000 times, in-process;
* reading every object reachable from the records ref of a ``git gc``-ed repository
  (pack reads, delta chains);
* writing 1,000 loose blobs;
* reading the ref of a reftable repository: through ``git rev-parse`` (gitrun's
  path for non-files backends) and through dulwich's reftable reader.

Every library runs in its own child process (pygit2 may live in another
interpreter: it is not a gitrun dependency).  Prints a table.
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

CHILDREN = {
    "gitrun": r"""
import json, sys, time
from gitrun.core.git.repo import Repository
from gitrun.core.git.objects import Oid
repo = Repository(sys.argv[1]); oids = [Oid(o) for o in json.loads(sys.argv[2])]
t = time.perf_counter()
for _ in range(2000): repo.refs.read("refs/gitrun/records")
ref = (time.perf_counter() - t) / 2000
t = time.perf_counter()
for o in oids: repo.odb.read(o)
objects = (time.perf_counter() - t) / len(oids)
t = time.perf_counter()
for i in range(1000): repo.odb.write(b"blob", b"bench blob %d" % i)
write = (time.perf_counter() - t) / 1000
print(json.dumps({"ref": ref, "objects": objects, "write": write}))
""",
    "dulwich": r"""
import json, sys, time
from dulwich.repo import Repo
from dulwich.objects import Blob
repo = Repo(sys.argv[1]); oids = [o.encode() for o in json.loads(sys.argv[2])]
t = time.perf_counter()
for _ in range(2000): repo.refs[b"refs/gitrun/records"]
ref = (time.perf_counter() - t) / 2000
t = time.perf_counter()
for o in oids: repo.object_store[o].as_raw_string()
objects = (time.perf_counter() - t) / len(oids)
t = time.perf_counter()
for i in range(1000): repo.object_store.add_object(Blob.from_string(b"bench blob d%d" % i))
write = (time.perf_counter() - t) / 1000
print(json.dumps({"ref": ref, "objects": objects, "write": write}))
""",
    "pygit2": r"""
import json, sys, time
import pygit2
repo = pygit2.Repository(sys.argv[1]); oids = json.loads(sys.argv[2])
t = time.perf_counter()
for _ in range(2000): repo.references["refs/gitrun/records"].target
ref = (time.perf_counter() - t) / 2000
t = time.perf_counter()
for o in oids: repo[o].read_raw()
objects = (time.perf_counter() - t) / len(oids)
t = time.perf_counter()
for i in range(1000): repo.create_blob(b"bench blob p%d" % i)
write = (time.perf_counter() - t) / 1000
print(json.dumps({"ref": ref, "objects": objects, "write": write}))
""",
}

REFTABLE_READS = {
    "git rev-parse (gitrun, reftable)": r"""
import json, sys, time
from gitrun.core.git.refs import GitRefs
refs = GitRefs(sys.argv[1])
t = time.perf_counter()
for _ in range(50): refs.read("refs/gitrun/records")
print(json.dumps({"ref": (time.perf_counter() - t) / 50}))
""",
    "dulwich reftable": r"""
import json, sys, time
from dulwich.repo import Repo
repo = Repo(sys.argv[1])
t = time.perf_counter()
for _ in range(200): repo.refs[b"refs/gitrun/records"]
print(json.dumps({"ref": (time.perf_counter() - t) / 200}))
""",
}

# (what is imported, what it is measured over): the cost added to a tracked script.
IMPORTS = {
    "import gitrun (its own git layer included)": ("import gitrun", "pass"),
    "+ dulwich.repo": ("import gitrun, dulwich.repo", "import gitrun"),
    "+ dulwich.pack, dulwich.refs": ("import gitrun, dulwich.pack, dulwich.refs", "import gitrun"),
    "+ dulwich.reftable": ("import gitrun, dulwich.reftable", "import gitrun"),
    "pygit2 (over a bare interpreter)": ("import pygit2", "pass"),
}


def import_ms(python: str, statement: str, baseline: str, env: dict[str, str]) -> float:
    def wall(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([python, "-c", code], env=env, check=True, capture_output=True)
        return time.perf_counter() - started

    wall(statement)  # warm the page cache and write bytecode
    # Alternate the two so that a change of machine load hits both.
    pairs = [(wall(statement), wall(baseline)) for _ in range(9)]
    return statistics.median(a - b for a, b in pairs) * 1e3


def child(python: str, code: str, args: list[str], env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([python, "-c", code, *args], env=env, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def build(tmp: str, env: dict[str, str]) -> tuple[str, list[str]]:
    """A repository with 60 runs of 2,000 points each, `git gc`-ed."""
    repo = os.path.join(tmp, "repo")
    subprocess.run(["git", "init", "-q", repo], check=True)
    with open(os.path.join(repo, "train.py"), "w", encoding="utf-8") as fh:
        fh.write("print(1)\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "x"], cwd=repo, check=True
    )
    script = (
        "import gitrun\nfor r in range(60):\n    with gitrun.start_run():\n"
        "        gitrun.log_params({'a': r, 'b': 'x'})\n"
        "        for i in range(2000): gitrun.log_metric('loss', 1.0 / (i + 1), step=i)\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=repo, env=env, check=True)
    subprocess.run(["git", "gc", "-q", "--aggressive"], cwd=repo, check=True)
    listing = subprocess.run(
        ["git", "rev-list", "--objects", "refs/gitrun/records"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return repo, [line.split()[0] for line in listing.splitlines()]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pygit2-python", default=sys.executable, help="an interpreter that has pygit2")
    parser.add_argument(
        "--newer-git", default="/opt/gitrun-newer-git/bin/git", help="a git >= 2.45 for reftable"
    )
    args = parser.parse_args()
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # Bytecode is written (as in a normal install): importing from source would be
    # measured otherwise.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPATH": here}
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(here, "gitrun")], check=True)
    pythons = {name: sys.executable for name in CHILDREN} | {"pygit2": args.pygit2_python}
    has_pygit2 = (
        subprocess.run([args.pygit2_python, "-c", "import pygit2"], capture_output=True).returncode == 0
    )
    print(f"load average before: {os.getloadavg()}")
    print("import, ms added (median of 9 paired fresh processes):")
    for name, (statement, baseline) in IMPORTS.items():
        python = args.pygit2_python if name.startswith("pygit2") else sys.executable
        if name.startswith("pygit2") and not has_pygit2:
            print(f"  {name:44s} (not installed; --pygit2-python)")
            continue
        print(f"  {name:44s} {import_ms(python, statement, baseline, env):7.1f}")
    with tempfile.TemporaryDirectory(prefix="gitrun-bench-libs-") as tmp:
        repo, oids = build(tmp, env)
        print(f"in-process costs on {len(oids)} objects (µs, one child process per library):")
        print(f"  {'library':12s} {'read ref':>10s} {'read object':>12s} {'write blob':>11s}")
        for name, code in CHILDREN.items():
            if name == "pygit2" and not has_pygit2:
                continue
            scratch = os.path.join(tmp, f"copy-{name}")
            shutil.copytree(repo, scratch, symlinks=True)
            got = child(pythons[name], code, [os.path.join(scratch, ".git"), json.dumps(oids)], env)
            ref, obj, write = (got[k] * 1e6 for k in ("ref", "objects", "write"))
            print(f"  {name:12s} {ref:10.1f} {obj:12.1f} {write:11.1f}")
        if os.path.exists(args.newer_git):
            reftable = os.path.join(tmp, "reftable")
            subprocess.run(
                [args.newer_git, "clone", "-q", "--mirror", "--ref-format=reftable", repo, reftable],
                check=True,
            )
            reftable_env = {**env, "PATH": f"{os.path.dirname(args.newer_git)}:{env['PATH']}"}
            for name, code in REFTABLE_READS.items():
                got = child(sys.executable, code, [reftable], reftable_env)
                print(f"  reftable ref read, {name:32s} {got['ref'] * 1e6:9.1f} µs")
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
