"""Concurrency, crashes and the user's repository: nothing lost, nothing touched."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import gitrun
from gitrun import MlflowClient
from tests.conftest import git

WORKER = """
import sys, gitrun
proc = int(sys.argv[1])
gitrun.set_experiment("concurrent")
for r in range(25):
    with gitrun.start_run(run_name=f"p{proc}-r{r}"):
        gitrun.log_param("proc", proc)
        for step in range(200):
            gitrun.log_metric("loss", proc * 1000 + r + step / 1000, step=step)
"""


def test_eight_processes_lose_no_point(in_repo: Path) -> None:
    script = in_repo / "worker.py"
    script.write_text(WORKER)
    procs = [
        subprocess.Popen([sys.executable, str(script), str(p)], cwd=in_repo, stderr=subprocess.PIPE)
        for p in range(8)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    client = MlflowClient()
    experiment = client.get_experiment_by_name("concurrent")
    assert experiment is not None
    listing = git(in_repo, "ls-tree", "-r", "-d", "--name-only", "refs/gitrun/records", "runs")
    run_dirs = [p for p in listing.split() if p.count("/") == 4]
    assert len(run_dirs) == 200
    seen = set()
    for path in run_dirs:
        run_id = path.rsplit("/", 1)[1]
        run = client.get_run(run_id)
        assert run.info.status == "FINISHED"
        proc, r = run.info.run_name.removeprefix("p").split("-r")
        history = client.get_metric_history(run_id, "loss")
        assert [(m.step, m.value) for m in history] == [
            (s, int(proc) * 1000 + int(r) + s / 1000) for s in range(200)
        ]
        seen.add(run.info.run_name)
    assert len(seen) == 200
    git(in_repo, "fsck", "--strict", "--no-dangling")


VICTIM = """
import sys, time, gitrun
gitrun.set_experiment("victim")
run = gitrun.start_run(run_name="victim")
gitrun.log_params({"a": 1, "b": "two"})
gitrun.set_tag("phase", "before-flush")
for step in range(6000):
    gitrun.log_metric("loss", step * 0.5, step=step)
gitrun.flush()  # some points reach git, then more stay in the journal only
gitrun.set_tag("phase", "after-flush")
gitrun.log_param("late", "yes")
for step in range(6000, 11000):
    gitrun.log_metric("loss", step * 0.5, step=step)
    gitrun.log_metric("acc", step / 11000, step=step)
print(run.info.run_id, flush=True)
time.sleep(600)
"""


def test_sigkilled_run_recovered_with_everything(in_repo: Path) -> None:
    script = in_repo / "victim.py"
    script.write_text(VICTIM)
    env = {**os.environ, "GITRUN_FLUSH_INTERVAL": "3600"}
    proc = subprocess.Popen([sys.executable, str(script)], cwd=in_repo, stdout=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    run_id = proc.stdout.readline().decode().strip()
    assert len(run_id) == 32
    before = MlflowClient().get_run(run_id)  # recovery does not touch a live process's run
    assert before.info.status == "RUNNING"
    assert len(MlflowClient().get_metric_history(run_id, "loss")) == 6000
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    gitrun.tracking.session.close_all()  # the next gitrun call in this repository recovers it
    client = MlflowClient()
    run = client.get_run(run_id)
    assert run.info.status == "KILLED" and run.info.end_time is not None
    assert run.data.params == {"a": "1", "b": "two", "late": "yes"}
    assert run.data.tags["phase"] == "after-flush"
    loss = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in loss] == [(s, s * 0.5) for s in range(11000)]
    assert len(client.get_metric_history(run_id, "acc")) == 5000
    assert run.data.metrics["loss"] == 10999 * 0.5
    assert not any(p.suffix == ".jnl" for p in (in_repo / ".git/gitrun/journal").iterdir())
    # A second recovery pass finds nothing to do and changes nothing.
    tip = git(in_repo, "rev-parse", "refs/gitrun/records")
    gitrun.tracking.session.close_all()
    MlflowClient().get_run(run_id)
    assert git(in_repo, "rev-parse", "refs/gitrun/records") == tip


def _fingerprint(repo: Path) -> dict[str, str]:
    """Everything of the user's that gitrun must never change."""
    dot = repo / ".git"
    logs = sorted(
        str(p.relative_to(dot)) + ":" + hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (dot / "logs").rglob("*")
        # gitrun keeps a reflog of its own refs (refs/gitrun/*), never of the user's.
        if p.is_file() and "gitrun" not in p.relative_to(dot / "logs").parts[:2]
    )
    return {
        "status": git(
            repo, "--no-optional-locks", "status", "--porcelain=v2", "--untracked-files=all", "--ignored"
        ),
        "stash": git(repo, "stash", "list"),
        "head": (dot / "HEAD").read_text(),
        "branches": git(repo, "for-each-ref", "refs/heads", "refs/tags", "refs/remotes", "refs/stash"),
        "index": hashlib.sha256((dot / "index").read_bytes()).hexdigest(),
        "index_mtime": str((dot / "index").stat().st_mtime_ns),
        "reflogs": "\n".join(logs),
        "worktree": "\n".join(
            sorted(
                f"{p.relative_to(repo)}:{p.stat().st_mtime_ns}:{hashlib.sha256(p.read_bytes()).hexdigest()}"
                for p in repo.rglob("*")
                if p.is_file() and ".git" not in p.parts
            )
        ),
    }


def _make_dirty(repo: Path) -> None:
    (repo / "lib").mkdir()
    (repo / "lib" / "model.py").write_text("W = 1\n")
    (repo / "run.sh").write_text("#!/bin/sh\necho hi\n")
    os.chmod(repo / "run.sh", 0o755)
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "more")
    git(repo, "stash", "list")
    (repo / "stashed.txt").write_text("s")
    git(repo, "add", "stashed.txt")
    git(repo, "stash")
    (repo / "train.py").write_text("print('modified')\n")  # modified, unstaged
    (repo / "lib" / "model.py").write_text("W = 2\n")  # modified, then staged
    git(repo, "add", "lib/model.py")
    (repo / "added.py").write_text("ADDED = True\n")  # new, staged
    git(repo, "add", "added.py")
    (repo / "notes").mkdir()
    (repo / "notes" / "untracked.md").write_text("# untracked\n")  # untracked
    (repo / "debug.log").write_text("ignored\n")  # ignored (*.log)
    (repo / ".env").write_text("SECRET=1\n")  # untracked but a secret
    os.symlink("train.py", repo / "link.py")  # untracked symlink
    (repo / "run.sh").unlink()  # deleted, unstaged


def test_dirty_snapshot_is_exact_and_user_state_untouched(in_repo: Path) -> None:
    _make_dirty(in_repo)
    git(in_repo, "status")  # let git itself refresh its index once, before the fingerprint
    time.sleep(1.1)  # so that a later rewrite of the index would show in its mtime
    before = _fingerprint(in_repo)
    with gitrun.start_run() as run:
        gitrun.log_metric("m", 1.0)
    for i in range(200):
        with gitrun.start_run(run_name=f"r{i}"):
            gitrun.log_param("i", i)
            with gitrun.start_run(nested=True):
                gitrun.log_metric("x", i)
    gitrun.flush()  # runs ended above are committed in the background: wait for them
    assert _fingerprint(in_repo) == before

    stored = gitrun.get_run(run.info.run_id)
    code = stored.record["code"]
    assert code["dirty"] is True
    assert code["commit"] == git(in_repo, "rev-parse", "HEAD").strip()
    assert set(code["changed"]) == {"train.py", "lib/model.py", "added.py", "notes/untracked.md", "link.py"}
    assert code["deleted"] == ["run.sh"]
    assert code["skipped"] == [{"path": ".env", "reason": "name looks like a secret"}]
    assert stored.data.tags["gitrun.git.dirty"] == "true"
    tree = code["tree"]
    listing = git(in_repo, "ls-tree", "-r", tree)
    files = {line.split("\t")[1]: line.split()[0] for line in listing.splitlines()}
    assert set(files) == {
        ".gitignore",
        "train.py",
        "lib/model.py",
        "added.py",
        "notes/untracked.md",
        "link.py",
    }
    assert files["link.py"] == "120000"
    for path in ("train.py", "lib/model.py", "added.py", "notes/untracked.md", ".gitignore"):
        assert git(in_repo, "cat-file", "blob", f"{tree}:{path}") == (in_repo / path).read_text()
    # The snapshot is reachable from the records ref, so it is pushed and never collected.
    run_path = git(in_repo, "ls-tree", "-r", "-d", "--name-only", "refs/gitrun/records", "runs")
    assert any(p.endswith(f"{run.info.run_id}/code") for p in run_path.split())
    git(in_repo, "fsck", "--strict", "--no-dangling")


def test_clean_tree_snapshot_is_head_tree(in_repo: Path) -> None:
    with gitrun.start_run() as run:
        pass
    code = gitrun.get_run(run.info.run_id).record["code"]
    assert code["dirty"] is False and "changed" not in code
    assert code["tree"] == git(in_repo, "rev-parse", "HEAD^{tree}").strip()


def test_standalone_store_carries_its_own_copy_of_the_code(in_repo: Path) -> None:
    (in_repo / "train.py").write_text("print('dirty')\n")
    gitrun.set_tracking_uri("file:./mlruns")
    with gitrun.start_run() as run:
        pass
    store = in_repo / "mlruns"
    code = gitrun.get_run(run.info.run_id).record["code"]
    assert git(store, "cat-file", "blob", f"{code['tree']}:train.py") == "print('dirty')\n"
    assert "mlruns/HEAD" not in git(store, "ls-tree", "-r", "--name-only", code["tree"])
    git(store, "fsck", "--strict", "--no-dangling")


def test_concurrent_writer_edits_to_one_run_merge(in_repo: Path) -> None:
    """A second process tags and deletes a run while the first still logs into it."""
    with gitrun.start_run() as run:
        gitrun.log_metric("m", 1.0, step=0)
        gitrun.flush()
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                textwrap.dedent(f"""
                import gitrun
                c = gitrun.MlflowClient()
                c.set_tag("{run.info.run_id}", "from_other", "yes")
                c.log_metric("{run.info.run_id}", "other_metric", 5.0)
            """),
            ],
            cwd=in_repo,
            capture_output=True,
            text=True,
            check=False,
        )
        assert other.returncode == 0, other.stderr
        gitrun.log_metric("m", 2.0, step=1)
        gitrun.set_tag("from_me", "yes")
    client = MlflowClient()
    stored = client.get_run(run.info.run_id)
    assert stored.data.tags["from_other"] == "yes" and stored.data.tags["from_me"] == "yes"
    assert stored.data.metrics == {"m": 2.0, "other_metric": 5.0}
    assert [m.value for m in client.get_metric_history(run.info.run_id, "m")] == [1.0, 2.0]
    assert stored.info.status == "FINISHED"


def test_flush_is_scheduled_without_end_run(in_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITRUN_FLUSH_INTERVAL", "0.2")
    gitrun.tracking.session.close_all()
    with gitrun.start_run() as run:
        gitrun.log_metric("m", 3.0)
        deadline = time.time() + 20
        while time.time() < deadline:
            shown = git(in_repo, "ls-tree", "-r", "--name-only", "refs/gitrun/records", "runs", check=False)
            if f"{run.info.run_id}/metrics.yaml" in shown:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the background flush never committed the run")
