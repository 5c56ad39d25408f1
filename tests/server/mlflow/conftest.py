"""Fixtures: a repository served by a real `gitrun server` on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.mlflow.harness import Server, start_gitrun_server


@pytest.fixture
def served_repo(work_repo: Path, tmp_path: Path) -> Iterator[tuple[Path, Server]]:
    """``work_repo`` served by ``gitrun server``; stopped (SIGTERM: records committed) at the end."""
    server = start_gitrun_server(work_repo, tmp_path / "gitrun-server.log")
    try:
        yield work_repo, server
    finally:
        server.stop()
