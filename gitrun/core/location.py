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

from gitrun.core.git.repo import Repository
from gitrun.errors import InvalidParameterValue, StoreUnavailable

DEFAULT_STANDALONE = ".gitrun"


@dataclass(frozen=True)
class Location:
    path: str
    """Work tree root of a repository, or the git dir of a bare/standalone one."""
    standalone: bool

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
    cwd = cwd or os.getcwd()
    if uri is None:
        repo = Repository.discover(cwd)
        if repo is not None:
            return Location(repo.work_tree or repo.git_dir, standalone=False)
        return Location(os.path.join(os.path.abspath(cwd), DEFAULT_STANDALONE), standalone=True)
    path = path_from_uri(uri)
    repo = Repository.at(path)
    if repo is not None:
        return Location(repo.work_tree or repo.git_dir, standalone=repo.work_tree is None)
    return Location(path, standalone=True)


def open_repository(location: Location) -> Repository:
    """Open the location's repository, creating a standalone store on first use."""
    repo = Repository.at(location.path)
    if repo is not None:
        return repo
    if not location.standalone:
        raise StoreUnavailable(f"{location.path} is no longer a git repository")
    if os.path.exists(location.path) and (not os.path.isdir(location.path) or os.listdir(location.path)):
        raise InvalidParameterValue(
            f"cannot create a gitrun store at {location.path}: it exists, is not empty and is not a git "
            "repository (an MLflow ./mlruns folder, perhaps?). Point the tracking URI elsewhere."
        )
    try:
        return Repository.init_bare(location.path)
    except OSError as exc:
        raise StoreUnavailable(f"cannot create a gitrun store at {location.path}: {exc}") from None
