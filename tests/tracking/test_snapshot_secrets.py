"""Files whose names look like secrets stay out of the code snapshot in any folder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import gitrun
from tests.conftest import git

SECRETS = ("config/.env", "keys/id_rsa", "deploy/certs/server.pem", "a/b/c/credentials.json")


def test_secret_names_in_subfolders_never_enter_the_snapshot(in_repo: Path) -> None:
    for path in SECRETS:
        (in_repo / path).parent.mkdir(parents=True, exist_ok=True)
        (in_repo / path).write_text("TOKEN=do-not-record\n")
    (in_repo / "config" / "settings.yaml").write_text("lr: 0.1\n")  # beside a secret, not one
    (in_repo / "keys" / "README.md").write_text("keys go here\n")
    with gitrun.start_run() as run:
        pass
    code = gitrun.get_run(run.info.run_id).record["code"]
    files = set(git(in_repo, "ls-tree", "-r", "--name-only", code["tree"]).split())
    assert files == {".gitignore", "train.py", "config/settings.yaml", "keys/README.md"}
    assert {s["path"] for s in code["skipped"]} == set(SECRETS)
    assert set(code["changed"]) == {"config/settings.yaml", "keys/README.md"}
    # Not even as a stray object: their content was never written to the repository.
    secret_blob = git(in_repo, "hash-object", "config/.env").strip()
    assert subprocess.run(["git", "cat-file", "-e", secret_blob], cwd=in_repo, check=False).returncode != 0
