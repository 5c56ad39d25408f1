"""The artifact stores of a tracking location (the name other tracking modules import).

Implemented in :mod:`gitrun.tracking.artifacts.stores`.
"""

from gitrun.tracking.artifacts.stores import ArtifactStores, local_store_path, stores_for

__all__ = ["ArtifactStores", "local_store_path", "stores_for"]
