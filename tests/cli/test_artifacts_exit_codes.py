"""``gitrun artifacts push`` tells scripts, by its exit code, when objects are in no store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import gitrun
from gitrun.core.artifacts.digest import hash_bytes


def gitrun_cli(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command in its own process (the entry point, whatever is on PATH)."""
    return subprocess.run(
        [sys.executable, "-m", "gitrun.cli", *args], cwd=repo, capture_output=True, text=True, check=False
    )


def test_push_exits_1_when_a_referenced_object_is_in_no_store(in_repo: Path, tmp_path: Path) -> None:
    with gitrun.start_run():
        gitrun.log_text("kept", "kept.txt")
        gitrun.log_text("lost", "lost.txt")
    gitrun.flush()
    lost = hash_bytes(b"lost")
    local = in_repo / ".git/gitrun/artifacts/objects/sha256" / lost.hexdigest[:2] / lost.hexdigest[2:]
    local.chmod(0o644)
    local.unlink()
    shared = tmp_path / "shared-store"  # configured now: nothing was written through to it
    assert gitrun_cli(in_repo, "config", "artifacts.remote", str(shared)).returncode == 0

    proc = gitrun_cli(in_repo, "artifacts", "push")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"missing everywhere: {lost}" in proc.stderr
    assert "1 referenced object(s) are in no store" in proc.stderr
    assert "pushed 1 of 2 referenced object(s)" in proc.stdout  # the rest still went
    kept = hash_bytes(b"kept")
    assert (shared / "objects/sha256" / kept.hexdigest[:2] / kept.hexdigest[2:]).exists()

    # Once every object is somewhere again, the same command succeeds.
    with gitrun.start_run():
        gitrun.log_text("lost", "again.txt")  # stores the same bytes locally again
    gitrun.flush()
    proc = gitrun_cli(in_repo, "artifacts", "push")
    assert proc.returncode == 0, proc.stdout + proc.stderr
