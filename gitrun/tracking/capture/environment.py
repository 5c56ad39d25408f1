"""The Python environment of a run: interpreter, platform, installed distributions.

Listing distributions costs 50-100 ms, so the result is cached per user
(``~/.cache/gitrun``), keyed by the interpreter and the modification times of the
folders on ``sys.path`` (installing or removing a package changes its folder's mtime).
Environment variables are recorded only when allow-listed in ``GITRUN_CAPTURE_ENV``
(comma-separated names or globs).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import platform
import re
import sys
from typing import Any

from gitrun.core.records import yamlfmt


def cache_dir() -> str:
    """Per-user cache (``$XDG_CACHE_HOME/gitrun``): every repository shares the listing."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "gitrun")


def _cache_key() -> str:
    parts = [sys.executable, sys.version]
    for entry in sys.path:
        try:
            parts.append(f"{entry}:{os.stat(entry or '.').st_mtime_ns}")
        except OSError:
            parts.append(entry)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def packages() -> dict[str, str]:
    """Installed distributions, ``name -> version`` (names normalised as pip shows them).

    Read from the ``<name>-<version>.dist-info`` folder names on ``sys.path``, which is
    ~20x faster than parsing every METADATA file; distributions whose folder does not
    say (old ``.egg-info`` eggs, odd installers) fall back to their metadata.
    """
    found: dict[str, str] = {}
    slow: list[str] = []
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            stem, dot, kind = name.rpartition(".")
            if not dot or kind not in ("dist-info", "egg-info"):
                continue
            dist, sep, version = stem.partition("-")
            if sep and version and "-" not in version:
                found.setdefault(_normalise(dist), version)
            else:
                slow.append(os.path.join(entry or ".", name))
    if slow:
        from importlib import metadata

        for path in slow:
            dist_meta = metadata.PathDistribution.at(path)
            dist_name = dist_meta.metadata["Name"] if dist_meta.metadata else None
            if dist_name:
                found.setdefault(_normalise(dist_name), dist_meta.version)
    return dict(sorted(found.items()))


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _gpu() -> dict[str, Any] | None:
    torch = sys.modules.get("torch")  # only when the script already imported it
    if torch is None:
        return None
    try:
        if not torch.cuda.is_available():
            return {"cuda_available": False}
        return {
            "cuda_available": True,
            "cuda_version": torch.version.cuda,
            "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        }
    except Exception:  # noqa: BLE001 - a broken CUDA setup must not break the run
        return None


def _allowed_env() -> dict[str, str]:
    """Allow-listed variables.  A glob never lets through a secret-looking name
    (``*_TOKEN``, ``AWS_SECRET_ACCESS_KEY``...): only naming it exactly does."""
    from gitrun.core.records.text import readable
    from gitrun.tracking.capture.secrets import is_secret_name

    patterns = [p.strip() for p in os.environ.get("GITRUN_CAPTURE_ENV", "").split(",") if p.strip()]
    exact = {p for p in patterns if not any(c in p for c in "*?[")}
    globs = [p for p in patterns if p not in exact]
    return {
        readable(k): readable(v)
        for k, v in sorted(os.environ.items())
        if k in exact or (any(fnmatch.fnmatch(k, p) for p in globs) and not is_secret_name(k))
    }


def environment_yaml(cache_dir: str | None) -> bytes:
    """The environment record as YAML bytes (packages from the cache when valid)."""
    pkgs: dict[str, str] | None = None
    cache = os.path.join(cache_dir, f"packages-{_cache_key()}.json") if cache_dir else None
    if cache and os.path.exists(cache):
        try:
            with open(cache, encoding="utf-8") as fh:
                loaded = json.load(fh)
            pkgs = loaded if isinstance(loaded, dict) else None
        except (OSError, ValueError):
            pkgs = None  # a bad cache is rebuilt
    if pkgs is None:
        pkgs = packages()
        if cache:
            try:
                os.makedirs(os.path.dirname(cache), exist_ok=True)
                tmp = f"{cache}.{os.getpid()}.tmp"
                with open(tmp, "w", encoding="utf-8") as fh:
                    json.dump(pkgs, fh)
                os.replace(tmp, cache)
            except OSError:
                pass  # a read-only home: list again next time
    record: dict[str, Any] = {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
        },
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
        },
        "packages": pkgs,
    }
    gpu = _gpu()
    if gpu is not None:
        record["gpu"] = gpu
    env = _allowed_env()
    if env:
        record["environment_variables"] = env
    return yamlfmt.dump(record).encode()
