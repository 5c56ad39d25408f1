"""The content-addressed artifact store.

Objects are addressed by ``sha256:<hex>`` (:class:`Digest`), kept on a
:class:`Backend` (a local folder, or any fsspec URL through
:func:`open_backend`), written atomically, deduplicated, and verified on every
read.  Directories are stored as :class:`Manifest` objects.

Importing this package imports neither fsspec nor any cloud client.
"""

from gitrun.core.artifacts.backend import Backend, open_backend
from gitrun.core.artifacts.digest import Digest, hash_bytes, hash_file
from gitrun.core.artifacts.local import LocalBackend
from gitrun.core.artifacts.manifest import (
    Manifest,
    ManifestEntry,
    is_manifest,
    load_manifest,
    materialize,
    store_directory,
)
from gitrun.core.artifacts.paths import (
    join_artifact_path,
    normalize_artifact_path,
    safe_destination,
)
from gitrun.core.artifacts.progress import Progress, Silent, TerminalProgress
from gitrun.core.artifacts.store import ArtifactStore, FsckReport, QuarantinedObject
from gitrun.core.artifacts.verified import VerifiedReader

__all__ = [
    "ArtifactStore",
    "Backend",
    "Digest",
    "FsckReport",
    "LocalBackend",
    "Manifest",
    "ManifestEntry",
    "Progress",
    "QuarantinedObject",
    "Silent",
    "TerminalProgress",
    "VerifiedReader",
    "hash_bytes",
    "hash_file",
    "is_manifest",
    "join_artifact_path",
    "load_manifest",
    "materialize",
    "normalize_artifact_path",
    "open_backend",
    "safe_destination",
    "store_directory",
]
