"""The tracking URI in effect for this process: the one piece of state both the
:class:`~gitrun.tracking.client.Client` and the fluent API need.

It lives below both so that neither imports the other for it (the client never
imports fluent).  As MLflow's ``set_tracking_uri`` does with ``MLFLOW_TRACKING_URI``,
setting it also exports ``GITRUN_TRACKING_URI``, so that processes the script starts
(``subprocess``, ``multiprocessing``, DDP workers) record there too: that export is
documented behaviour, and this module is the only place that writes it.
"""

from __future__ import annotations

import os
from pathlib import Path

from gitrun.core import location as loc

TRACKING_URI_ENV = "GITRUN_TRACKING_URI"

_tracking_uri: str | None = None


def set_tracking_uri(uri: str | Path | None) -> None:
    """Where runs are recorded: a repository, or a folder for a standalone store.

    Also exported as ``GITRUN_TRACKING_URI`` so that subprocesses record there too.
    ``None`` returns to the default (the enclosing git repository).
    """
    global _tracking_uri
    if uri is None:
        _tracking_uri = None
        os.environ.pop(TRACKING_URI_ENV, None)
        return
    if isinstance(uri, Path):
        uri = "file://" + str(uri.absolute())
    loc.path_from_uri(uri)  # reject unsupported schemes now, not at the first log call
    _tracking_uri = uri
    os.environ[TRACKING_URI_ENV] = uri


def tracking_uri_or_none() -> str | None:
    """The URI set in this process, else ``GITRUN_TRACKING_URI``, else None (the default)."""
    return _tracking_uri if _tracking_uri is not None else os.environ.get(TRACKING_URI_ENV)


def get_tracking_uri() -> str:
    """The tracking URI in effect, as an absolute ``file://`` URI."""
    return loc.resolve(tracking_uri_or_none()).uri


def is_tracking_uri_set() -> bool:
    return tracking_uri_or_none() is not None


def reset() -> None:
    """Forget the URI set in this process (tests)."""
    set_tracking_uri(None)
