"""Artifact paths inside a run, and where they may be written on download.

An artifact path is relative, uses ``/`` between folders, and has no empty,
``.`` or ``..`` component: the same path names the same file on every
platform and can never climb out of the folder it is downloaded into.  Paths
come from users and from stored manifests, so both are checked here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from gitrun.errors import InvalidParameterValue

_DRIVE = re.compile(r"^[A-Za-z]:")


def _refuse(path: str, reason: str) -> InvalidParameterValue:
    return InvalidParameterValue(f"invalid artifact path {path!r}: {reason}")


def normalize_artifact_path(path: str) -> str:
    """Check an artifact path; return it in canonical form.

    One trailing ``/`` is accepted and dropped (``"plots/"`` is ``"plots"``).

    Raises:
        InvalidParameterValue: the path is empty, absolute, has a drive letter,
            a backslash, a NUL, or an empty, ``.`` or ``..`` component, or is
            not valid Unicode.
    """
    if not isinstance(path, str):
        raise InvalidParameterValue(f"an artifact path must be a string, got {path!r}")
    if not path:
        raise _refuse(path, "it is empty")
    if "\x00" in path:
        raise _refuse(path, "it contains a NUL character")
    if "\\" in path:
        raise _refuse(path, "it contains a backslash; use '/' between folders")
    if path.startswith("/"):
        raise _refuse(path, "it is absolute; artifact paths are relative to the run")
    if _DRIVE.match(path):
        raise _refuse(
            path,
            "it starts with a drive letter; artifact paths are relative to the run",
        )
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse(path, "it is not valid UTF-8") from None
    trimmed = path.removesuffix("/")
    for part in trimmed.split("/"):
        if part == "..":
            raise _refuse(path, "'..' components are not allowed")
        if part == ".":
            raise _refuse(path, "'.' components are not allowed")
        if not part:
            raise _refuse(path, "it has an empty component ('//')")
    return trimmed


def join_artifact_path(base: str | None, name: str) -> str:
    """``base/name`` for a (possibly absent) folder ``base``, both checked."""
    tail = normalize_artifact_path(name)
    if base is None:
        return tail
    return f"{normalize_artifact_path(base)}/{tail}"


def safe_destination(dest_dir: str | os.PathLike[str], artifact_path: str) -> Path:
    """Where ``artifact_path`` goes below ``dest_dir``, after checking that it
    stays inside ``dest_dir`` once symlinks already in ``dest_dir`` are
    resolved.

    Raises:
        InvalidParameterValue: the path is invalid or would escape ``dest_dir``.
    """
    canonical = normalize_artifact_path(artifact_path)
    parts = canonical.split("/")
    root = os.path.realpath(dest_dir)
    resolved = os.path.realpath(os.path.join(root, *parts))
    if os.path.commonpath([root, resolved]) != root or resolved == root:
        raise _refuse(
            artifact_path,
            f"it would be written outside {os.fspath(dest_dir)!r} (through a symlink to {resolved!r})",
        )
    return Path(dest_dir).joinpath(*parts)
