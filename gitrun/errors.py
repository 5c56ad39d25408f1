"""The one error family of gitrun.

Every error a user can act on is a :class:`GitrunError`.  Subclasses exist only
where callers branch on them.  ``error_code`` follows MLflow's protocol names so
that code written for ``MlflowException`` keeps working
(``gitrun.exceptions.MlflowException`` is an alias of :class:`GitrunError`).
"""

from __future__ import annotations

import errno
import warnings
from collections.abc import Sequence

INTERNAL_ERROR = "INTERNAL_ERROR"
INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
INVALID_STATE = "INVALID_STATE"

_HTTP_STATUS = {
    INTERNAL_ERROR: 500,
    INVALID_PARAMETER_VALUE: 400,
    RESOURCE_DOES_NOT_EXIST: 404,
    RESOURCE_ALREADY_EXISTS: 400,
    INVALID_STATE: 400,
}


class GitrunError(Exception):
    """Base of every error gitrun raises on purpose."""

    default_code = INTERNAL_ERROR

    def __init__(self, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code or self.default_code

    def get_http_status_code(self) -> int:
        return _HTTP_STATUS.get(self.error_code, 500)


class InvalidParameterValue(GitrunError):
    """A key, value, filter, path or argument that gitrun refuses."""

    default_code = INVALID_PARAMETER_VALUE


class ResourceDoesNotExist(GitrunError):
    """A run, experiment, tag, artifact or object that is not there."""

    default_code = RESOURCE_DOES_NOT_EXIST


class ResourceAlreadyExists(GitrunError):
    default_code = RESOURCE_ALREADY_EXISTS


class RefConflict(GitrunError):
    """A compare-and-swap of a git ref kept losing to other writers."""

    default_code = INTERNAL_ERROR


class CorruptObject(GitrunError):
    """Stored bytes that do not match their address (git object or artifact)."""

    default_code = INTERNAL_ERROR


class InvalidRecord(GitrunError):
    """A record in git that cannot be parsed, or has an unknown schema version."""

    default_code = INTERNAL_ERROR


class StoreUnavailable(GitrunError):
    """A storage location (folder, bucket, remote) that cannot be reached."""

    default_code = INTERNAL_ERROR


class UnsupportedRepository(GitrunError):
    """A repository git itself refuses, or that gitrun cannot write safely (unknown
    format or extension, another owner, an object format the store does not use).
    Raised before anything is written."""

    default_code = INVALID_STATE


class NoSpace(StoreUnavailable):
    """A write refused for lack of room: a full disk (``ENOSPC``), a quota (``EDQUOT``)
    or a file size limit (``EFBIG``, ``ulimit -f``).  The ``OSError`` is ``__cause__``;
    what was logged before the failing call is kept."""


_NO_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def storage_error(exc: OSError, doing: str) -> StoreUnavailable:
    """The gitrun error for an ``OSError`` of a local write (raise it ``from exc``):
    :class:`NoSpace` for a full disk, a quota or a file size limit, a clear
    :class:`StoreUnavailable` for a read-only repository, never a raw ``OSError``."""
    if exc.errno in _NO_SPACE:
        reason = {
            errno.EFBIG: "the file size limit (ulimit -f) was reached",
            errno.EDQUOT: "the disk quota is exhausted",
        }.get(exc.errno or 0, "the disk is full")
        return NoSpace(f"gitrun could not {doing}: {reason} ({exc.strerror}); free space and log again")
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StoreUnavailable(
            f"gitrun could not {doing}: {exc.strerror} (is the repository read-only?); "
            "set GITRUN_TRACKING_URI to a writable location"
        )
    return StoreUnavailable(f"gitrun could not {doing}: {exc.strerror or exc}")


class GitCommandError(GitrunError):
    """A ``git`` subprocess that exited non-zero."""

    def __init__(self, argv: Sequence[str], returncode: int, output: str) -> None:
        shown = " ".join(argv)
        detail = output.strip() or "(no output)"
        super().__init__(f"git command failed (exit {returncode}): {shown}\n{detail}")
        self.argv = list(argv)
        self.returncode = returncode
        self.output = output


class DamagedRecordWarning(UserWarning):
    """A record (run, experiment, journal) that cannot be read was left out."""


def warn_always(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn every time, not once per call site: each search that leaves a damaged run
    out says so, so the damage is never silently forgotten."""
    warnings.warn_explicit(message, category, "gitrun", 0, module="gitrun", registry=None)
