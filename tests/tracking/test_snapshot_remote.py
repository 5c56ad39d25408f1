"""The repository URL a run records: origin's, else the first remote's, never credentials."""

from __future__ import annotations

from pathlib import Path

import gitrun
from tests.conftest import git


def test_a_repository_without_origin_records_its_first_remote(in_repo: Path) -> None:
    git(in_repo, "remote", "add", "upstream", "https://user:s3cret@example.com/team/model.git")
    git(in_repo, "remote", "add", "zfork", "https://example.com/me/model.git")
    with gitrun.start_run() as run:
        pass
    stored = gitrun.get_run(run.info.run_id)
    assert stored.record["code"]["repo_url"] == "https://example.com/team/model.git"
    assert stored.data.tags["mlflow.source.git.repoURL"] == "https://example.com/team/model.git"
