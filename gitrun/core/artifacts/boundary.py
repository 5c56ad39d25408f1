"""Turning OS, fsspec and cloud-client errors into gitrun errors.

Backends wrap every call into their storage in :func:`store_errors`, so that
callers above the backend only ever see :mod:`gitrun.errors` classes (plus
``FileExistsError``, which backends handle themselves for create-only writes).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from gitrun.errors import GitrunError, ResourceDoesNotExist, StoreUnavailable

# Errors raised by the clients under fsspec that are not OSError subclasses,
# recognised by module so that none of those packages has to be imported.
_CLIENT_PACKAGES = frozenset(
    {
        "botocore",
        "aiobotocore",
        "aiohttp",
        "s3fs",
        "gcsfs",
        "google",
        "requests",
        "urllib3",
        "fsspec",
    }
)
_USERINFO = re.compile(r"//[^/@]*@")


def display_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages."""
    return _USERINFO.sub("//", url)


def _from_client(error: BaseException) -> bool:
    package = type(error).__module__.partition(".")[0]
    return package in _CLIENT_PACKAGES


@contextmanager
def store_errors(store: str, action: str, missing: str | None = None) -> Iterator[None]:
    """Translate errors raised while doing ``action`` in the store ``store``.

    Args:
        store: the store's display URL, named in every message.
        action: what was being done, e.g. ``"reading objects/sha256/ab/cd"``.
        missing: the message for "not found"; if None, "not found" means the
            store itself (its folder or bucket) is missing.
    """
    try:
        yield
    except (GitrunError, FileExistsError):
        raise
    except FileNotFoundError as error:
        if missing is not None:
            raise ResourceDoesNotExist(f"{missing} in store {store}") from error
        raise StoreUnavailable(f"store {store} is not reachable while {action}: {error}") from error
    except PermissionError as error:
        raise StoreUnavailable(f"store {store}: permission denied while {action}: {error}") from error
    except OSError as error:
        raise StoreUnavailable(f"store {store} failed while {action}: {error}") from error
    except Exception as error:
        if _from_client(error):
            raise StoreUnavailable(f"store {store} failed while {action}: {error}") from error
        raise
