"""The stores this process has open: one per tracking location, shared by the fluent
API and every client, so that buffered writes are seen by reads in the same process
and committed together; all of them committed and closed at exit.
"""

from __future__ import annotations

import atexit
import sys
import threading

from gitrun.core import location as loc
from gitrun.core.git.repo import Repository
from gitrun.errors import ResourceDoesNotExist
from gitrun.tracking.store import TrackingStore

_stores: dict[str, TrackingStore] = {}
_stores_lock = threading.Lock()


def open_store(uri: str | None, *, create: bool = True) -> TrackingStore:
    """The process-wide store for a tracking URI (None: the default location).

    Args:
        create: False for reads: a standalone store that does not exist yet is not
            created (:class:`ResourceDoesNotExist` instead), and the store writes
            nothing until a writer opens it with ``create=True``.
    """
    location = loc.resolve(uri)
    store = _stores.get(location.path)
    if store is None:
        with _stores_lock:
            store = _stores.get(location.path)
            if store is None:
                if not create and Repository.at(location.path) is None:
                    raise ResourceDoesNotExist(
                        f"no runs recorded in {location.path}: it is not a git repository or a gitrun "
                        "store (nothing was created; record a run there first, or pass the right "
                        "--tracking-uri / -C)"
                    )
                store = TrackingStore(location, read_only=not create)
                _stores[location.path] = store
    if create:
        store.read_only = False
    return store


def close_all() -> None:
    """Commit and close every open store (at exit; tests call it between cases)."""
    with _stores_lock:
        stores = list(_stores.values())
        _stores.clear()
    for store in stores:
        try:
            store.close()
        except Exception as exc:  # noqa: BLE001 - at exit, report and keep closing the others
            print(f"gitrun: could not commit the last records of {store.uri}: {exc}", file=sys.stderr)


atexit.register(close_all)
