"""A repository's format: its version, extensions and sharing mode, checked as git does.

Git refuses to touch a repository whose ``core.repositoryformatversion`` is above 1,
or that declares an extension it does not know (version 1; version 0 only honours a
few).  gitrun writes objects and refs itself, so it must be at least as careful: it
accepts only the extensions whose meaning it honours, and refuses every other one
before writing anything.

What each accepted extension means for gitrun:

* ``objectFormat`` (sha1, sha256): objects are hashed with it;
* ``refStorage``: ``files`` refs are moved by gitrun's own lock-file protocol; any
  other backend (``reftable``, and whatever comes next) through ``git update-ref``;
* ``partialClone``: objects missing locally are asked of git, which fetches them;
* ``preciousObjects``: gitrun never deletes git objects anyway;
* ``worktreeConfig``, ``relativeWorktrees``, ``noop``: nothing gitrun reads changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from gitrun.core.git import config
from gitrun.errors import UnsupportedRepository

# Extensions git honours in a version-0 repository (setup.c, handle_extension_v0).
_V0_EXTENSIONS = {"noop", "preciousobjects", "partialclone", "worktreeconfig"}
_KNOWN = _V0_EXTENSIONS | {"objectformat", "refstorage", "relativeworktrees"}
_OBJECT_FORMATS = {"sha1": 20, "sha256": 32}

# core.sharedRepository, as git's git_config_perm reads it.
_PERM_GROUP = 0o660
_PERM_EVERYBODY = 0o664


@dataclass(frozen=True)
class RepositoryFormat:
    version: int = 0
    object_format: str = "sha1"
    ref_storage: str = "files"
    extensions: dict[str, str | None] = field(default_factory=dict)
    shared: int = 0
    """git's ``core.sharedRepository`` as a permission tweak: 0 (umask), 0o660 (group),
    0o664 (everybody), or the negative of an explicit mode such as ``-0o640``."""

    @property
    def oid_size(self) -> int:
        return _OBJECT_FORMATS[self.object_format]

    promisor_remotes: tuple[str, ...] = ()
    """Remotes that promise the objects a partial clone lacks."""

    @property
    def partial_clone(self) -> bool:
        return bool(self.promisor_remotes)


def read(common_dir: str) -> RepositoryFormat:
    """The format of the repository whose common git dir is ``common_dir``, checked.

    Raises :class:`UnsupportedRepository` (having written nothing) when git or gitrun
    could not handle it safely.
    """
    entries = config.read_file(os.path.join(common_dir, "config"))
    raw_version = config.last(entries, "core.repositoryformatversion")
    try:
        version = int(raw_version or 0)
    except ValueError:
        raise UnsupportedRepository(
            f"{common_dir}: core.repositoryformatversion is {raw_version!r}, not a number; "
            "git refuses this repository and so does gitrun"
        ) from None
    if version not in (0, 1):
        raise UnsupportedRepository(
            f"{common_dir}: repository format version {version} is newer than git's versions 0 and 1 "
            "that gitrun knows; gitrun writes nothing to it. Upgrade gitrun (and git)."
        )
    extensions: dict[str, str | None] = {}
    for key, value in entries:
        section, _, name = key.partition(".")
        if section == "extensions" and "." not in name:
            extensions[name] = value
    if version == 0:
        v1_only = sorted(set(extensions) - _V0_EXTENSIONS)
        if v1_only:
            # Git refuses these too ("repo version is 0, but v1-only extension found").
            raise UnsupportedRepository(
                f"{common_dir}: repository format version 0 with the version-1 extension(s) "
                f"{', '.join(v1_only)}; git refuses this repository and so does gitrun"
            )
    unknown = sorted(set(extensions) - _KNOWN)
    if unknown:
        raise UnsupportedRepository(
            f"{common_dir} uses the repository extension(s) {', '.join('extensions.' + u for u in unknown)}, "
            "which this gitrun does not know how to honour; it writes nothing to this repository. "
            "Upgrade gitrun, or record into a separate store (GITRUN_TRACKING_URI=/some/folder)."
        )
    object_format = (extensions.get("objectformat") or "sha1").lower()
    if object_format not in _OBJECT_FORMATS:
        raise UnsupportedRepository(f"{common_dir}: unknown object format {object_format!r}")
    ref_storage = (extensions.get("refstorage") or "files").lower()
    # A partial clone: git >= 2.x marks the remote (remote.<name>.promisor), older ones
    # the extension (extensions.partialClone = <name>).
    promisors = [
        key[len("remote.") : -len(".promisor")]
        for key, value in entries
        if key.startswith("remote.") and key.endswith(".promisor") and config.as_bool(value)
    ]
    if extensions.get("partialclone"):
        promisors.insert(0, str(extensions["partialclone"]))
    return RepositoryFormat(
        version,
        object_format,
        ref_storage,
        extensions,
        shared_permissions(entries, common_dir),
        tuple(dict.fromkeys(promisors)),
    )


def shared_permissions(entries: list[tuple[str, str | None]], where: str) -> int:
    """``core.sharedRepository`` as git's ``git_config_perm`` reads it."""
    value = config.last(entries, "core.sharedrepository")
    if value == "":
        return 0
    lowered = (value or "true").strip().lower()
    if lowered in ("umask", "false", "no", "off"):
        return 0
    if lowered in ("group", "true", "yes", "on", "1"):
        return _PERM_GROUP
    if lowered in ("all", "world", "everybody", "2"):
        return _PERM_EVERYBODY
    try:
        mode = int(lowered, 8)
    except ValueError:
        raise UnsupportedRepository(f"{where}: core.sharedRepository = {value!r} is not valid") from None
    if mode & 0o600 != 0o600:
        raise UnsupportedRepository(
            f"{where}: core.sharedRepository = {value!r} would make files unreadable by their owner"
        )
    # An explicit mode replaces the permission bits (git stores it negated).
    return -(mode & 0o666)


def shared_mode(shared: int, mode: int, is_dir: bool) -> int:
    """The mode git gives a file or folder it creates in a shared repository
    (``calc_shared_perm`` and ``adjust_shared_perm`` in git's path.c)."""
    tweak = -shared if shared < 0 else shared
    if not mode & 0o200:
        tweak &= ~0o222
    if mode & 0o100:
        tweak |= (tweak & 0o444) >> 2
    new = (mode & ~0o777) | tweak if shared < 0 else mode | tweak
    if is_dir:
        new |= (new & 0o444) >> 2
        if new & 0o060:  # as git: set-group-id only where the group gets access
            new |= 0o2000  # new files then belong to the repository's group
    return new
