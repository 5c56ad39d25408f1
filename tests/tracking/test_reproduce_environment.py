"""Reproducing a run recorded elsewhere lists how the environment differs from now."""

from __future__ import annotations

import platform
from pathlib import Path

import gitrun
from gitrun import MlflowClient
from gitrun.core.git.objects import MODE_BLOB
from gitrun.core.records import layout, yamlfmt
from gitrun.core.records.store import Edit
from gitrun.tracking.reproduce import environment_changes, recorded_environment
from gitrun.tracking.session import open_store


def test_platform_python_and_package_differences_are_listed(in_repo: Path) -> None:
    with gitrun.start_run() as run:
        pass
    gitrun.flush()  # the ended run is committed in the background: wait for it
    client = MlflowClient()
    run_id = run.info.run_id
    assert not [c for c in environment_changes(client, run_id) if c[0].startswith(("python", "platform"))]
    # The same run as if recorded on another machine (a teammate's, fetched).
    env = recorded_environment(client, run_id)
    env["python"] = {**env["python"], "version": "3.9.0"}
    env["platform"] = {**env["platform"], "system": "Plan9", "machine": "mips"}
    env["packages"] = {**env["packages"], "made-up-package": "1.0"}
    records = open_store(None).records
    path = f"{layout.run_dir(run_id)}/{layout.ENVIRONMENT_FILE}"
    old = records.entry(path)
    assert old is not None
    blob = records.repo.write_blob(yamlfmt.dump(env).encode())
    records.commit({path: Edit(blob, MODE_BLOB, old.oid)}, "recorded elsewhere")
    changes = environment_changes(client, run_id)
    assert ("python", "3.9.0", platform.python_version()) in changes
    assert ("platform.system", "Plan9", platform.system()) in changes
    assert ("platform.machine", "mips", platform.machine()) in changes
    assert ("made-up-package", "1.0", None) in changes
