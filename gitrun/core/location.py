"""Where records go: turning a tracking URI (or nothing) into a git repository.

* no URI, inside a git work tree: that repository (zero configuration);
* no URI, outside any repository: a standalone store in ``./.gitrun``;
* a path or ``file:`` URI naming a repository (work tree root or git dir): that one;
* any other path or ``file:`` URI: a standalone store, a bare repository created on
  first use (so ``set_tracking_uri("file:./mlruns")`` works as in MLflow).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from gitrun.core.git import discovery
from gitrun.core.git.repo import Repository
from gitrun.errors import InvalidParameterValue, StoreUnavailable

DEFAULT_STANDALONE = ".gitrun"


@dataclass(frozen=True)
class Location:
    path: str
    """Work tree root of a repository, or the git dir of a bare/standalone one."""
    standalone: bool
    found: discovery.Found | None = None
    """Where git found the repository (None for a standalone store not created yet)."""

    @property
    def uri(self) -> str:
        return "file://" + self.path


def path_from_uri(uri: str) -> str:
    """The local path of a plain path or ``file:`` URI; other schemes are refused."""
    if uri.startswith("file:"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise InvalidParameterValue(f"tracking URI {uri!r}: file URIs on other hosts are not supported")
        path = unquote(parsed.path) if uri.startswith("file://") else unquote(uri[len("file:") :])
        return os.path.abspath(path or ".")
    scheme = urlparse(uri).scheme
    if scheme and len(scheme) > 1:
        if scheme in ("http", "https"):
            hint = "gitrun needs no tracking server: records go into git. Share them with `gitrun push`."
        else:
            hint = "gitrun stores runs in a git repository: give a folder path or a file: URI."
        raise InvalidParameterValue(f"unsupported tracking URI {uri!r}. {hint}")
    return os.path.abspath(os.path.expanduser(uri))


def resolve(uri: str | None, cwd: str | None = None) -> Location:
    """Where records go.  The repository is found as git finds it (``GIT_DIR``,
    ``GIT_WORK_TREE``, ``core.worktree``, ceilings, ownership: see
    :mod:`gitrun.core.git.discovery`); a repository git refuses is refused here."""
    cwd = cwd or os.getcwd()
    if uri is None:
        found = discovery.discover(cwd)
        if found is not None:
            return Location(found.work_tree or found.git_dir, standalone=False, found=found)
        return Location(os.path.join(os.path.abspath(cwd), DEFAULT_STANDALONE), standalone=True)
    path = path_from_uri(uri)
    found = discovery.at(path)
    if found is not None:
        return Location(found.work_tree or found.git_dir, standalone=found.work_tree is None, found=found)
    return Location(path, standalone=True)


def open_repository(location: Location, object_format: str = "sha1") -> Repository:
    """Open the location's repository, creating a standalone store on first use.

    A new standalone store uses ``object_format``: the format of the code it will
    record (a SHA-1 store cannot hold the trees of a SHA-256 repository).
    """
    found = location.found or discovery.at(location.path)
    if found is not None:
        return Repository(found.git_dir, found.work_tree, common_dir=found.common_dir)
    if not location.standalone:
        raise StoreUnavailable(f"{location.path} is no longer a git repository")
    if os.path.exists(location.path) and (not os.path.isdir(location.path) or os.listdir(location.path)):
        raise InvalidParameterValue(
            f"cannot create a gitrun store at {location.path}: it exists, is not empty and is not a git "
            "repository (an MLflow ./mlruns folder, perhaps?). Point the tracking URI elsewhere."
        )
    try:
        return Repository.init_bare(location.path, object_format)
    except OSError as exc:
        raise StoreUnavailable(f"cannot create a gitrun store at {location.path}: {exc}") from None
