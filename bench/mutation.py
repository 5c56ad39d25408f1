"""Mutation testing of gitrun's core and tracking API: do the tests fail when the code is wrong?

Mutations come from cosmic-ray (its operators and its mutation engine: comparison and
binary operators swapped, numbers changed, ``not`` added, ``and``/``or`` swapped,
``True``/``False`` flipped, loops skipped, ``break``/``continue`` swapped, exception
handlers disabled, decorators removed).  The runner is ours, because gitrun's tests are
subprocess-heavy: each mutant is written into a scratch copy of the tree (never into
this work tree) and the package's tests run against that copy with ``PYTHONPATH``
pointing at it, so every subprocess the tests start imports the mutant too.

Per mutant only the tests mapped to its package run (``PACKAGES`` below): a baseline
run with coverage contexts finds the test files that ran the mutated line in the pytest
process, and only those run (a line reached only in subprocesses gets all of the
package's tests, the files mirroring the mutated module first), stopping at the first
failure (``-x``); tests marked ``slow`` are left out.  A mutant the tests do not finish in
``--timeout-factor`` times the package's baseline run counts as killed (a hang is a
failure the tests found).

Modes:

* sampled (default): ``--sample N --seed S`` picks N distinct mutable positions per
  package at random and one random mutation at each (spreading the sample over the
  code rather than over the ~11 variants cosmic-ray makes of each binary operator);
* full: ``--full`` runs every mutation (thousands per package: hours).

Mutations inside annotations are left out: every module has ``from __future__ import
annotations``, so annotations are never evaluated.

Mutants listed in ``bench/mutation-equivalent.toml`` (known to change no behaviour,
each with a reason) are not run, not counted, and listed.

Usage (one worker; the machine is shared)::

    nice -n 19 python bench/mutation.py --package core/index --sample 40 --seed 1
    python bench/mutation.py --package tracking --sample 40 --seed 1 --report /tmp/tracking.md
    python bench/mutation.py --list core/git      # count the mutations only

Prints the score per package (killed / (run - equivalent)) and every surviving mutant
as ``file:line`` with its diff.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENT_FILE = ROOT / "bench" / "mutation-equivalent.toml"

# Package (below gitrun/) -> the tests that exercise it.
PACKAGES: dict[str, list[str]] = {
    "core/records": [
        "tests/core/records",
        "tests/tracking/test_crash_recovery.py",
        "tests/tracking/test_durability.py",
    ],
    "core/git": [
        "tests/core/git",
        "tests/core/records/test_sync.py",
        "tests/core/records/test_sync_one_run_two_machines.py",
        "tests/core/records/test_writer.py",
    ],
    "core/artifacts": ["tests/core/artifacts"],
    "core/index": [
        "tests/core/index",
        "tests/tracking/test_search.py",
        "tests/tracking/test_search_fluent.py",
    ],
    "tracking": ["tests/tracking"],
}

# cosmic-ray's ExceptionReplacer names a class that only its own worker defines.
_CR_EXCEPTION = "CosmicRayTestingException"
_NEVER_RAISED = "type('NeverRaised', (Exception,), {})"


@dataclass(frozen=True)
class Mutant:
    module: str  # path relative to ROOT
    operator: str
    occurrence: int
    line: int
    column: int = 0

    @property
    def name(self) -> str:
        return f"{self.module}:{self.line} {self.operator}#{self.occurrence}"


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed, timeout, survived, equivalent, incompetent
    diff: str
    seconds: float
    reason: str = ""


@dataclass
class PackageResult:
    package: str
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, *statuses: str) -> int:
        return sum(o.status in statuses for o in self.outcomes)

    @property
    def score(self) -> float | None:
        scored = self.count("killed", "timeout", "survived")
        return self.count("killed", "timeout") / scored if scored else None


def _operators() -> dict[str, object]:
    import cosmic_ray.plugins as plugins

    found = {}
    for name in plugins.operator_names():
        cls = plugins.get_operator(name)
        if not cls.arguments():  # operators needing arguments are not configured
            found[name] = cls()
    return found


def enumerate_mutants(package: str) -> list[Mutant]:
    from cosmic_ray.ast import ast_nodes, get_ast_from_path

    operators = _operators()
    mutants = []
    for path in sorted((ROOT / "gitrun" / package).rglob("*.py")):
        nodes = list(ast_nodes(get_ast_from_path(path)))
        module = str(path.relative_to(ROOT))
        # Annotations are never evaluated here: their mutants are equivalent, left out.
        spans = annotation_spans(path.read_text())
        for name, operator in operators.items():
            occurrence = 0
            for node in nodes:
                for start, _end in operator.mutation_positions(node):  # type: ignore[attr-defined]
                    mutant = Mutant(module, name, occurrence, start[0], start[1])
                    occurrence += 1
                    if not in_annotation(spans, mutant):
                        mutants.append(mutant)
    return mutants


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where the annotations are, in a module that never evaluates them
    (``from __future__ import annotations``): mutating them changes nothing."""
    import ast

    tree = ast.parse(source)
    lazy = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(a.name == "annotations" for a in node.names)
        for node in tree.body
    )
    if not lazy:
        return []
    found = []
    for node in ast.walk(tree):
        notes: list[ast.expr | None] = []
        if isinstance(node, ast.arg):
            notes.append(node.annotation)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            notes.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            notes.append(node.annotation)
        for note in notes:
            if note is not None and note.end_lineno is not None and note.end_col_offset is not None:
                found.append(((note.lineno, note.col_offset), (note.end_lineno, note.end_col_offset)))
    return found


def in_annotation(spans: list[tuple[tuple[int, int], tuple[int, int]]], mutant: Mutant) -> bool:
    at = (mutant.line, mutant.column)
    return any(start <= at < end for start, end in spans)


def sample(mutants: list[Mutant], count: int, seed: int) -> list[Mutant]:
    """``count`` distinct positions (file, line), one random mutation at each."""
    rng = random.Random(seed)
    by_position: dict[tuple[str, int], list[Mutant]] = {}
    for mutant in mutants:
        by_position.setdefault((mutant.module, mutant.line), []).append(mutant)
    positions = sorted(by_position)
    picked = rng.sample(positions, min(count, len(positions)))
    return sorted((rng.choice(by_position[p]) for p in picked), key=lambda m: (m.module, m.line))


def mutate(source: str, mutant: Mutant) -> str | None:
    from cosmic_ray.mutating import mutate_code

    operator = _operators()[mutant.operator]
    code = mutate_code(source, operator, mutant.occurrence)
    return None if code is None else code.replace(_CR_EXCEPTION, _NEVER_RAISED)


def changed_lines(original: str, mutated: str) -> tuple[str, str]:
    """The original and mutated text of the lines that differ, stripped."""
    before, after = original.splitlines(), mutated.splitlines()
    old: list[str] = []
    new: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after).get_opcodes():
        if tag != "equal":
            old += [s.strip() for s in before[i1:i2]]
            new += [s.strip() for s in after[j1:j2]]
    return " / ".join(old), " / ".join(new)


def load_equivalents() -> list[dict[str, str]]:
    if not EQUIVALENT_FILE.exists():
        return []
    with open(EQUIVALENT_FILE, "rb") as fh:
        return list(tomllib.load(fh).get("equivalent", []))


def equivalent_reason(equivalents: list[dict[str, str]], module: str, old: str, new: str) -> str | None:
    for item in equivalents:
        if item["file"] == module and item["original"] == old and item["mutated"] == new:
            return item["reason"]
    return None


def scratch_copy() -> Path:
    """A copy of what the tests need, where mutants are written (never in ROOT)."""
    scratch = Path(tempfile.mkdtemp(prefix="gitrun-mutation-"))
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".ruff_cache")
    for name in ("gitrun", "tests", "bench"):
        shutil.copytree(ROOT / name, scratch / name, ignore=ignore)
    for name in ("pyproject.toml",):
        shutil.copy(ROOT / name, scratch / name)
    return scratch


def ordered_tests(package: str, module: str) -> list[str]:
    """The package's tests, those mirroring ``module`` first (``-x`` stops sooner)."""
    stem = Path(module).stem
    mirror = Path("tests") / Path(module).relative_to("gitrun").parent
    first = sorted(str(p.relative_to(ROOT)) for p in (ROOT / mirror).glob(f"test_*{stem}*.py"))
    rest = [t for t in PACKAGES[package] if t not in first]
    return first + rest


def run_tests(
    scratch: Path, tests: list[str], timeout: float, extra: tuple[str, ...] = ()
) -> tuple[str, float, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(scratch),
        "PYTHONDONTWRITEBYTECODE": "1",
        "KERAS_BACKEND": "torch",
        "HF_HUB_OFFLINE": "1",
        "COVERAGE_FILE": str(scratch / ".coverage-mutation"),
    }
    args = [sys.executable, "-m", "pytest", "-x", "-q", "-rfE", "-p", "no:cacheprovider", "-m", "not slow"]
    args += ["--timeout", str(int(timeout) + 30), *extra, *tests]
    start = time.monotonic()
    proc = subprocess.Popen(
        args, cwd=scratch, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "timeout", time.monotonic() - start, ""
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # tests' own children, if any are left
        except ProcessLookupError:
            pass
    text = out.decode("utf-8", "replace")
    status = "survived" if proc.returncode == 0 else "killed"
    if proc.returncode in (2, 3, 4):  # interrupted, internal error, usage error: not a test failure
        status = "incompetent"
    # The test that failed (-rfE summary), else pytest's last line.
    lines = text.strip().splitlines()
    failed = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return status, time.monotonic() - start, (failed or lines or [""])[0][:300]


def tests_by_line(scratch: Path) -> dict[tuple[str, int], list[str]]:
    """(module, line) -> the test files with a test that ran that line in the pytest
    process (baseline).

    Whole files, not single tests: a test may check what an earlier test of its module
    built (module-scoped fixtures, a shared index).  A line reached only in subprocesses
    (the CLI, crash tests) is absent: its mutants get every test of the package.
    """
    from coverage import CoverageData

    data = CoverageData(basename=str(scratch / ".coverage-mutation"))
    data.read()
    found: dict[tuple[str, int], list[str]] = {}
    for measured in data.measured_files():
        module = str(Path(measured).resolve().relative_to(scratch.resolve()))
        for line, contexts in data.contexts_by_lineno(measured).items():
            tests = sorted({c.split("::", 1)[0] for c in contexts if c})
            if tests:
                found[(module, line)] = tests
    return found


def run_package(
    package: str, scratch: Path, mutants: list[Mutant], timeout_factor: float, log: bool = True
) -> PackageResult:
    result = PackageResult(package)
    equivalents = load_equivalents()
    coverage_args = ("--cov", f"gitrun/{package}", "--cov-context=test", "--cov-report=")
    status, baseline, tail = run_tests(scratch, PACKAGES[package], 3600, coverage_args)
    if status != "survived":
        raise SystemExit(f"{package}: the tests fail without any mutant: {tail}")
    covering = tests_by_line(scratch)
    timeout = max(60.0, baseline * timeout_factor)
    if log:
        print(f"== {package}: {len(mutants)} mutants, baseline {baseline:.0f} s, timeout {timeout:.0f} s")
    for number, mutant in enumerate(mutants, 1):
        path = scratch / mutant.module
        original = path.read_text()
        mutated = mutate(original, mutant)
        if mutated is None:
            continue
        diff = "\n".join(
            difflib.unified_diff(
                original.splitlines(), mutated.splitlines(), mutant.module, mutant.module, n=0, lineterm=""
            )
        )
        old, new = changed_lines(original, mutated)
        reason = equivalent_reason(equivalents, mutant.module, old, new)
        if reason is not None:
            result.outcomes.append(Outcome(mutant, "equivalent", diff, 0.0, reason))
            continue
        try:
            path.write_text(mutated)
            tests = ordered_tests(package, mutant.module)
            files = covering.get((mutant.module, mutant.line))
            if files:  # the mirroring files first, then the other files that ran the line
                tests = [t for t in tests if t in files] + [f for f in files if f not in tests]
            status, seconds, tail = run_tests(scratch, tests, timeout)
        finally:
            path.write_text(original)
        result.outcomes.append(Outcome(mutant, status, diff, seconds, tail))
        if log:
            print(f"  [{number}/{len(mutants)}] {status:9} {seconds:6.1f} s  {mutant.name}  {old} -> {new}")
            if status == "killed":
                print(f"      by {tail}")
            sys.stdout.flush()
    return result


def report(results: list[PackageResult], header: str) -> str:
    lines = [header, "", "| package | mutants | killed | timeout (hang) | survived | equivalent | score |"]
    lines.append("|---|---|---|---|---|---|---|")
    for r in results:
        score = "n/a" if r.score is None else f"{100 * r.score:.0f}%"
        lines.append(
            f"| {r.package} | {len(r.outcomes)} | {r.count('killed')} | {r.count('timeout')} | "
            f"{r.count('survived')} | {r.count('equivalent')} | {score} |"
        )
    for r in results:
        survivors = [o for o in r.outcomes if o.status == "survived"]
        if survivors:
            lines += ["", f"### Surviving mutants: {r.package}", ""]
            for o in survivors:
                lines += [f"* `{o.mutant.module}:{o.mutant.line}` ({o.mutant.operator})", "", "```diff"]
                lines += [o.diff, "```", ""]
        equivalent = [o for o in r.outcomes if o.status == "equivalent"]
        if equivalent:
            lines += ["", f"### Equivalent (not counted): {r.package}", ""]
            lines += [f"* `{o.mutant.module}:{o.mutant.line}`: {o.reason}" for o in equivalent]
        odd = [o for o in r.outcomes if o.status == "incompetent"]
        if odd:
            lines += ["", f"### Not counted (pytest could not run): {r.package}", ""]
            lines += [f"* `{o.mutant.name}`: {o.reason}" for o in odd]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--package", action="append", choices=sorted(PACKAGES), help="default: all")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--sample", type=int, default=40, help="positions per package (default 40)")
    mode.add_argument("--full", action="store_true", help="every mutation (hours)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout-factor", type=float, default=3.0)
    parser.add_argument("--report", help="also write a Markdown report here")
    parser.add_argument("--json", help="also write every outcome as JSON here")
    parser.add_argument("--list", metavar="PACKAGE", help="count the mutations of a package and exit")
    args = parser.parse_args(argv)
    if args.list:
        mutants = enumerate_mutants(args.list)
        positions = {(m.module, m.line) for m in mutants}
        print(f"{args.list}: {len(mutants)} mutations at {len(positions)} positions")
        return 0
    packages = args.package or list(PACKAGES)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the cleanup below
    scratch = scratch_copy()
    results = []
    try:
        for package in packages:
            mutants = enumerate_mutants(package)
            chosen = mutants if args.full else sample(mutants, args.sample, args.seed)
            results.append(run_package(package, scratch, chosen, args.timeout_factor))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    mode_text = "full" if args.full else f"sampled: {args.sample} positions per package, seed {args.seed}"
    text = report(results, f"Mutation score ({mode_text})")
    print("\n" + text)
    if args.report:
        Path(args.report).write_text(text)
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                [
                    {
                        "package": r.package,
                        "mutant": o.mutant.name,
                        "status": o.status,
                        "diff": o.diff,
                        "detail": o.reason,
                    }
                    for r in results
                    for o in r.outcomes
                ],
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
