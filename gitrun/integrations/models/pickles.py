"""Pickle files of models, written with their digest and read only after verifying it.

Unpickling runs code chosen by whoever wrote the file.  gitrun therefore records
the file's SHA-256 in the model descriptor when saving, and re-hashes the file
against it before ``pickle.load``; the artifact store also verifies every object
it hands out.  This protects against a changed or corrupted file, not against a
model that was malicious when it was logged: load models only from stores you trust.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from gitrun.errors import GitrunError
from gitrun.integrations.models.descriptor import verify_file
from gitrun.tracking.artifacts.objects import bytes_digest

# A fixed protocol: the same object gives the same bytes on every Python >= 3.8,
# so logging an identical model twice stores it once.
PROTOCOL = 5


def dump(obj: Any, path: Path, serialization_format: str = "pickle") -> tuple[str, str]:
    """Pickle ``obj`` to ``path``; returns ``(format actually used, digest)``.

    ``"pickle"`` is tried first (standard library, enough for estimators made of
    importable classes); when it fails because of a lambda or a class defined in
    ``__main__``/a function, cloudpickle is used if installed.
    """
    if serialization_format not in ("pickle", "cloudpickle"):
        raise GitrunError(f"unknown serialization_format {serialization_format!r} (pickle or cloudpickle)")
    if serialization_format == "pickle":
        try:
            data = pickle.dumps(obj, protocol=PROTOCOL)
        except (pickle.PicklingError, AttributeError, TypeError) as error:
            try:
                import cloudpickle
            except ImportError:
                raise GitrunError(
                    f"cannot pickle the model ({error}); install cloudpickle to save objects that plain "
                    "pickle cannot (lambdas, local classes)"
                ) from error
            serialization_format = "cloudpickle"
    if serialization_format == "cloudpickle":
        import cloudpickle

        data = cloudpickle.dumps(obj, protocol=PROTOCOL)
    path.write_bytes(data)
    return serialization_format, bytes_digest(data)


def load(path: Path, digest: str | None, serialization_format: str = "pickle") -> Any:
    """Verify ``path`` against ``digest``, then unpickle it."""
    verify_file(path, digest)
    if serialization_format == "cloudpickle":
        import cloudpickle  # a cloudpickle file may need it importable while loading  # noqa: F401
    with open(path, "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - verified against the descriptor's digest above
