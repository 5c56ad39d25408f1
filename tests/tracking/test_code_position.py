"""The record places a run inside its work tree by relative paths: it travels
(``gitrun push``), so it holds no path of the recording machine, and reproducing it
anywhere checks the code out and starts in the same folder, with the same script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gitrun import MlflowClient
from gitrun.core.git.objects import MODE_BLOB
from gitrun.core.records import layout, yamlfmt
from gitrun.core.records.store import Edit
from gitrun.tracking.client import Client
from gitrun.tracking.reproduce import checkout, recorded_command
from gitrun.tracking.session import open_store

TRAIN = (
    "import gitrun\nwith gitrun.start_run() as run:\n    gitrun.log_param('x', 1)\nprint(run.info.run_id)\n"
)


def _record_in_subfolder(repo: Path) -> str:
    (repo / "src").mkdir()
    (repo / "src" / "train.py").write_text(TRAIN)
    out = subprocess.run(
        [sys.executable, "train.py"], cwd=repo / "src", capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def _rewrite_code(run_id: str, change: Any) -> None:
    """Rewrite the run's ``code`` section as another gitrun (older, or hostile) wrote it."""
    records = open_store(None).records
    path = f"{layout.run_dir(run_id)}/{layout.RUN_FILE}"
    old = records.entry(path)
    assert old is not None
    info = yamlfmt.load(records.repo.read_blob(old.oid))
    info["code"] = change(info["code"], info)
    blob = records.repo.write_blob(yamlfmt.dump(info).encode())
    records.commit({path: Edit(blob, MODE_BLOB, old.oid)}, "written elsewhere")


def test_the_code_section_holds_no_path_of_the_recording_machine(in_repo: Path, tmp_path: Path) -> None:
    run_id = _record_in_subfolder(in_repo)
    code = MlflowClient().get_run(run_id).record["code"]
    text = yamlfmt.dump(code)
    for machine_path in {str(in_repo), os.path.realpath(in_repo)}:
        assert machine_path not in text
    assert "root" not in code
    assert code["cwd"] == "src"
    assert code["entry_point"] == "src/train.py"


def test_a_run_recorded_elsewhere_starts_in_its_folder_in_the_checkout(
    in_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _record_in_subfolder(in_repo)
    # The repository (records included) as a teammate has it: at another path.
    moved = tmp_path / "teammate"
    shutil.move(str(in_repo), moved)
    monkeypatch.chdir(moved)
    client = Client()
    done = checkout(client, run_id, str(tmp_path / "co"))
    assert done.cwd == os.path.join(str(tmp_path / "co"), "src")
    assert (Path(done.cwd) / "train.py").read_text() == TRAIN
    assert done.command == ["python", "train.py"]


def test_an_old_record_with_an_absolute_root_still_reproduces(in_repo: Path, tmp_path: Path) -> None:
    run_id = _record_in_subfolder(in_repo)

    def old_format(code: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
        kept = {k: v for k, v in code.items() if k not in ("cwd", "entry_point")}
        # As gitrun wrote it before: the absolute root, positions only in ``source``.
        return {"root": os.path.dirname(info["source"]["cwd"]), **kept}

    _rewrite_code(run_id, old_format)
    run = MlflowClient().get_run(run_id)
    assert "cwd" not in run.record["code"]
    assert recorded_command(run) == ["python", "train.py"]
    done = checkout(Client(), run_id, str(tmp_path / "co"))
    assert done.cwd == os.path.join(str(tmp_path / "co"), "src")


def test_a_position_leaving_the_checkout_is_ignored(in_repo: Path, tmp_path: Path) -> None:
    run_id = _record_in_subfolder(in_repo)
    for n, hostile in enumerate(["../../outside", "/etc", "src/../../x"]):
        _rewrite_code(run_id, lambda code, info: {**code, "cwd": hostile, "entry_point": hostile + "/t.py"})
        done = checkout(Client(), run_id, str(tmp_path / f"co{n}"))
        assert done.cwd == str(tmp_path / f"co{n}")
        assert done.command == ["python", "train.py"]  # argv[0] as it was typed


def test_the_run_start_summary_sizes_untracked_files_from_the_work_tree_root(in_repo: Path) -> None:
    """The summary's paths are relative to the work tree, not to where the run starts:
    a run started in a subfolder still counts a file at the root at its size."""
    (in_repo / "notes.txt").write_bytes(b"x" * 5120)
    (in_repo / "src").mkdir()
    (in_repo / "src" / "train.py").write_text(TRAIN)
    proc = subprocess.run(
        [sys.executable, "train.py"], cwd=in_repo / "src", capture_output=True, text=True, check=True
    )
    summary = next(line for line in proc.stderr.splitlines() if "snapshot includes" in line)
    assert "2 untracked file(s), 5.1 KB" in summary, summary
