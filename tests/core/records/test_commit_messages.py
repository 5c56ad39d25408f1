"""What ``git log refs/gitrun/records`` says about each commit: which runs it holds."""

from __future__ import annotations

from pathlib import Path

from gitrun.core.git.repo import Repository
from gitrun.core.records import layout
from gitrun.core.records.store import RecordStore
from gitrun.core.records.writer import RecordWriter
from tests.conftest import git


def _info(run_id: str, name: str | None) -> dict[str, object]:
    info: dict[str, object] = {"run_id": run_id, "status": "FINISHED", "lifecycle_stage": "active"}
    if name is not None:
        info["run_name"] = name
    return info


def _last_message(store: RecordStore) -> list[str]:
    return git(store.repo.git_dir, "log", "-1", "--format=%B", layout.RECORDS_REF).strip().splitlines()


def test_runs_are_named_in_the_commit_message(tmp_path: Path) -> None:
    store = RecordStore(Repository.init_bare(str(tmp_path / "s.git")))
    writer = RecordWriter(store, flush_interval=0, use_journal=False)
    writer.create_run("0123456789abcdef", _info("0123456789abcdef", None), {}, {})
    writer.flush()
    assert _last_message(store) == [
        "gitrun: record 1 run: 01234567",
        "",
        "0123456789abcdef 01234567 FINISHED",
        "",
        f"Gitrun-Writer: {writer.writer_id}",  # recovery tells a dead writer's commits by it
    ]
    writer.create_run("fedcba9876543210", _info("fedcba9876543210", "lr  0.1\nsecond line"), {}, {})
    writer.flush()
    assert _last_message(store) == [
        "gitrun: record 1 run: lr 0.1 second line",
        "",
        "fedcba9876543210 lr 0.1 second line FINISHED",
        "",
        f"Gitrun-Writer: {writer.writer_id}",
    ]


def test_many_runs_in_one_commit_are_summarised(tmp_path: Path) -> None:
    store = RecordStore(Repository.init_bare(str(tmp_path / "s.git")))
    writer = RecordWriter(store, flush_interval=0, use_journal=False)
    ids = [f"{i:032x}" for i in range(53)]
    for i, run_id in enumerate(ids):
        writer.create_run(run_id, _info(run_id, f"run-{i}"), {}, {})
    writer.flush()
    message = _last_message(store)
    subject, body, trailer = message[0], message[2:-2], message[-1]
    assert trailer == f"Gitrun-Writer: {writer.writer_id}"
    assert subject.startswith("gitrun: record 53 runs: ") and subject.endswith(" and 48 more")
    assert len(subject.split(": ", 2)[2].split(", ")) == 5
    assert len(body) == 51 and body[-1] == "... and 3 more"
    assert all(line.endswith(" FINISHED") for line in body[:50])
