"""Fixtures shared by the record-store tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitrun.core.git.repo import Repository
from gitrun.core.records.store import RecordStore


@pytest.fixture
def store(tmp_path: Path) -> RecordStore:
    """A fresh bare repository's record store (modules may define their own)."""
    return RecordStore(Repository.init_bare(str(tmp_path / "s.git")))
