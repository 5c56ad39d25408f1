"""The artifact stores of one tracking location: the local one and the shared remote.

* The local store is always there: ``<git common dir>/gitrun/artifacts`` (inside the
  git directory, so nothing appears in the work tree; all worktrees share it).
* The remote is optional, configured per repository (:mod:`gitrun.core.artifacts.config`).

Writes go to the local store, then *through* to the remote when one is configured.
An upload that fails warns once per process and leaves the objects for ``gitrun
push``, which uploads whatever referenced objects the remote lacks: logging never
fails because a bucket is unreachable, and nothing is lost.

Reads take objects from the local store, fetching the missing ones from the remote
into it first (verified on the way).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import warnings
import weakref
from collections.abc import Iterable, Iterator

from gitrun.core.artifacts.backend import open_backend
from gitrun.core.artifacts.config import OPTIONS_ENV, STORE_ENV, ArtifactConfig, config_path, load_config
from gitrun.core.artifacts.digest import Digest
from gitrun.core.artifacts.local import LocalBackend
from gitrun.core.artifacts.manifest import Manifest, load_manifest
from gitrun.core.artifacts.store import ArtifactStore
from gitrun.core.git.repo import Repository
from gitrun.errors import GitrunError, InvalidParameterValue, ResourceDoesNotExist
from gitrun.tracking.store import TrackingStore

LOCAL_STORE_DIR = "artifacts"
"""The local store's folder inside ``<git common dir>/gitrun/``."""
_MANIFEST_CACHE = 64
_STALE_STAGING_SECONDS = 60.0


def local_store_path(repo: Repository) -> str:
    return os.path.join(repo.gitrun_dir, LOCAL_STORE_DIR)


class ArtifactStores:
    """The local store and the configured remote of one repository."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.local = ArtifactStore(LocalBackend(local_store_path(repo)))
        self._config: ArtifactConfig | None = None
        self._config_key: tuple[object, ...] = ()
        self._remotes: dict[str, ArtifactStore] = {}
        self._manifests: dict[Digest, Manifest] = {}
        self._warned = False
        self._swept = False
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def pinned(self) -> Iterator[None]:
        """Held while logging stores objects and records them: ``gitrun gc`` (which
        holds :meth:`collecting`) never runs between an object reaching the store and
        the record that references it reaching the journal, whatever its grace period."""
        with _flock(self._gc_lock_path(), fcntl.LOCK_SH):
            if not self._swept:
                # The first write of a process clears what killed writers left (see gc).
                self._swept = True
                backend = self.local.backend
                if isinstance(backend, LocalBackend):
                    backend.sweep_staging(_STALE_STAGING_SECONDS)
            yield

    @contextlib.contextmanager
    def collecting(self) -> Iterator[None]:
        """Held by ``gitrun gc`` while it finds what is referenced and removes the rest:
        waits for logging calls in progress, and holds new ones back meanwhile."""
        with _flock(self._gc_lock_path(), fcntl.LOCK_EX, required=True):
            yield

    def _gc_lock_path(self) -> str:
        return os.path.join(self.repo.gitrun_dir, "locks", "artifacts-gc.lock")

    @property
    def config(self) -> ArtifactConfig:
        """The remote's configuration, read again whenever the file or the variables change
        (``gitrun config`` in a shell takes effect in a running notebook)."""
        path = config_path(self.repo.work_tree, self.repo.common_dir)
        try:
            st = os.stat(path)
            stamp: tuple[object, ...] = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            stamp = ()
        key = (stamp, os.environ.get(STORE_ENV), os.environ.get(OPTIONS_ENV))
        if self._config is None or key != self._config_key:
            self._config = load_config(self.repo.work_tree, self.repo.common_dir)
            self._config_key = key
        return self._config

    def remote(self, url: str | None = None) -> ArtifactStore | None:
        """The remote store (``url``, else the configured one), or None if none is configured."""
        config = self.config
        if url is None:
            url = config.remote
        if url is None:
            return None
        # Another store than the configured one gets only the options of the environment.
        options = dict(config.options) if url == config.remote else _env_options()
        url = self._absolute(url)
        key = f"{url}\0{json.dumps(options, sort_keys=True, default=str)}"
        with self._lock:
            store = self._remotes.get(key)
            if store is None:
                store = ArtifactStore(open_backend(url, options))
                self._remotes[key] = store
        return store

    def _absolute(self, url: str) -> str:
        # A relative folder in the committed file is relative to the repository.
        if "://" in url or url.startswith("file:") or os.path.isabs(os.path.expanduser(url)):
            return url
        if self.config.source == STORE_ENV:
            return os.path.abspath(url)
        return os.path.join(self.repo.work_tree or self.repo.common_dir, url)

    def write_through(self, digests: Iterable[Digest]) -> list[Digest]:
        """Upload to the remote the given local objects it lacks (one batched check).

        A failure warns (once per process) instead of raising: the objects stay in
        the local store and ``gitrun push`` uploads them later.

        Returns:
            The digests uploaded.
        """
        wanted = set(digests)
        if not wanted or self.config.remote is None:
            return []
        try:
            remote = self.remote()
            assert remote is not None
            return self.local.copy_to(remote, wanted)
        except GitrunError as error:
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"gitrun could not upload artifacts to {self.config.remote}: {error.message}. "
                    "They are kept in the local store; `gitrun push` (or `gitrun artifacts push`) "
                    "uploads them later.",
                    stacklevel=4,
                )
            return []

    def ensure_local(self, digests: Iterable[Digest]) -> ArtifactStore:
        """Fetch from the remote the objects the local store lacks (verified).

        Returns:
            The local store, which now holds every object of ``digests``.

        Raises:
            ResourceDoesNotExist: an object is in neither store.
        """
        wanted = set(digests)
        missing = wanted - self.local.has_many(wanted)
        if not missing:
            return self.local
        remote = self.remote()
        if remote is None:
            shown = ", ".join(str(d) for d in sorted(missing)[:3])
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            raise ResourceDoesNotExist(
                f"artifact objects {shown}{more} are not in the local store {self.local.url} and no "
                "artifact remote is configured (gitrun config artifacts.remote URL)"
            )
        remote.copy_to(self.local, missing)
        return self.local

    upload = write_through

    def manifest(self, digest: Digest) -> Manifest:
        """A directory's manifest, fetched from the remote if needed (cached: immutable)."""
        cached = self._manifests.get(digest)
        if cached is not None:
            return cached
        self.ensure_local([digest])
        manifest = load_manifest(self.local, digest)
        with self._lock:
            if len(self._manifests) >= _MANIFEST_CACHE:
                self._manifests.pop(next(iter(self._manifests)))
            self._manifests[digest] = manifest
        return manifest


@contextlib.contextmanager
def _flock(path: str, mode: int, *, required: bool = False) -> Iterator[None]:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        if required:
            raise
        yield  # a read-only repository: nothing can be stored or collected here anyway
        return
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)


def _env_options() -> dict[str, object]:
    try:
        found = json.loads(os.environ.get(OPTIONS_ENV) or "{}")
    except ValueError:
        found = None
    if not isinstance(found, dict):
        raise InvalidParameterValue(f"{OPTIONS_ENV} must hold a JSON object of fsspec options")
    return found


_by_store: weakref.WeakKeyDictionary[TrackingStore, ArtifactStores] = weakref.WeakKeyDictionary()
_by_store_lock = threading.Lock()


def stores_for(store: TrackingStore) -> ArtifactStores:
    """The artifact stores of a tracking location (one per location per process)."""
    with _by_store_lock:
        found = _by_store.get(store)
        if found is None:
            found = ArtifactStores(store.repo)
            _by_store[store] = found
        return found
