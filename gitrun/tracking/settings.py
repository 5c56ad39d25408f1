"""A repository's committed settings (``.gitrun.yaml``): the artifact remote and its
fsspec options, as ``gitrun config`` reads and writes them.

The file's format, its checks (credentials are refused) and atomic writing belong to
the storage core (:mod:`gitrun.core.artifacts.config`); this is the tracking API's
view of them, for the CLI.
"""

from __future__ import annotations

from typing import Any

from gitrun.core.artifacts.config import load_config, save_remote, typed_value
from gitrun.tracking.store import TrackingStore

__all__ = ["file_settings", "save_settings", "typed_value"]


def file_settings(store: TrackingStore) -> tuple[str | None, dict[str, Any]]:
    """The remote and options written in the repository's file (the environment's
    overrides left out: they are not the file's)."""
    repo = store.repo
    current = load_config(repo.work_tree, repo.common_dir, environ={})
    return current.remote, dict(current.options)


def save_settings(store: TrackingStore, remote: str | None, options: dict[str, Any]) -> str:
    """Write the remote (None: remove it) and its options; returns the file's path.

    Raises:
        InvalidParameterValue: the URL or options carry credentials.
    """
    repo = store.repo
    return save_remote(repo.work_tree, repo.common_dir, remote, options)
