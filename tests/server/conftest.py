"""Fixtures of the UI's tests: a sample store and real ``gitrun ui`` servers on 127.0.0.1.

The sample is recorded and the servers run in child processes, so a module's tests
share them without sharing this process's gitrun state (each test here closes its
stores, see tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import GIT_IDENTITY
from tests.server.sample import Sample

ROOT = Path(__file__).resolve().parents[2]


def child_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITRUN_", "MLFLOW_", "GIT_"))}
    env.update(GIT_IDENTITY)
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
        PYTHONPATH=str(ROOT),
        GITRUN_AUTO_GC="0",
    )
    env.update(extra)
    return env


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def new_repo(parent: Path, home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(
        "[init]\n\tdefaultBranch = main\n[user]\n\tname = T\n\temail = t@example.com\n"
    )
    repo = parent / "work"
    repo.mkdir()
    env = child_env(home)
    for args in (("init", "-q"), ("add", "."), ("commit", "-q", "-m", "initial")):
        if args[0] == "add":
            (repo / "train.py").write_text("print('train')\n")
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    return repo


@dataclass
class Recorded:
    repo: Path
    home: Path
    sample: Sample


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """The sample runs, recorded by a child process into a fresh repository."""
    base = tmp_path_factory.mktemp("ui-sample")
    home = base / "home"
    repo = new_repo(base, home)
    script = (
        "import dataclasses, json, sys\n"
        "from pathlib import Path\n"
        "from tests.server.sample import make_sample\n"
        "s = make_sample(Path('.'), Path(sys.argv[1]))\n"
        "d = dataclasses.asdict(s); d['png'] = s.png.hex()\n"
        "print('SAMPLE ' + json.dumps(d))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(base)],
        cwd=repo,
        env=child_env(home),
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(next(line for line in out.stdout.splitlines() if line.startswith("SAMPLE "))[7:])
    data["png"] = bytes.fromhex(data["png"])
    return Recorded(repo, home, Sample(**data))


class UiServer:
    """``gitrun ui`` running as a child process on 127.0.0.1 (any free port)."""

    def __init__(self, repo: Path, home: Path, *args: str) -> None:
        self.log = repo.parent / f"ui-{time.monotonic_ns()}.log"
        self._log = open(self.log, "w")  # kept open while the server runs
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gitrun.cli", "ui", "--repo", str(repo), "--port", "0", *args],
            env=child_env(home, GITRUN_FLUSH_INTERVAL="0.5"),
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if found is None:
            self.stop()
            raise AssertionError(f"gitrun ui did not start: {line}{self.log.read_text()}")
        self.port = int(found.group(1))
        self.url = f"http://127.0.0.1:{self.port}/"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@pytest.fixture(scope="module")
def server(recorded: Recorded) -> Iterator[UiServer]:
    """A read-only UI over the sample."""
    ui = UiServer(recorded.repo, recorded.home)
    yield ui
    ui.stop()


@pytest.fixture(scope="module")
def writable_server(recorded: Recorded) -> Iterator[UiServer]:
    ui = UiServer(recorded.repo, recorded.home, "--writable")
    yield ui
    ui.stop()


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns something true (returned), or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)
