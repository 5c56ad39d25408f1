"""Replacing library methods with logging wrappers, and putting them back.

Each integration patches under its flavor name; ``autolog(disable=True)``
restores exactly what was there (an inherited method is restored by deleting the
attribute again).  Patching twice is a no-op, so ``autolog()`` can be called
repeatedly, and configuration is read at call time from :data:`configs`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gitrun.integrations.autolog.session import AutologConfig

_MISSING = object()
_lock = threading.RLock()

configs: dict[str, AutologConfig] = {}
"""The configuration in force for each flavor (absent or ``disable=True``: off)."""


@dataclass(frozen=True)
class _Patch:
    owner: Any  # a class, or a module (``xgboost.train``)
    name: str
    previous: Any


_patches: dict[str, list[_Patch]] = {}


def configure(config: AutologConfig) -> bool:
    """Put ``config`` in force for its flavor; True if the integration should now install
    its patches, False for ``disable=True`` (every patch of the flavor is undone)."""
    configs[config.flavor] = config
    if config.disable:
        unpatch(config.flavor)
        return False
    return True


def active(flavor: str) -> AutologConfig | None:
    """The configuration of ``flavor`` if its autologging is on."""
    config = configs.get(flavor)
    return None if config is None or config.disable else config


def patch(
    flavor: str, owner: Any, name: str, make: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> None:
    """Replace ``owner.name`` by ``make(original)`` (once per flavor and owner)."""
    with _lock:
        current = owner.__dict__.get(name, _MISSING)
        if getattr(current, "_gitrun_autolog", None) == flavor:
            return
        original = getattr(owner, name)
        wrapper = functools.wraps(original)(make(original))
        wrapper._gitrun_autolog = flavor  # type: ignore[attr-defined]
        setattr(owner, name, wrapper)
        _patches.setdefault(flavor, []).append(_Patch(owner, name, current))


def patch_attribute(flavor: str, owner: Any, name: str, value: Any) -> None:
    """Set ``owner.name = value`` as a patch of ``flavor`` (restored by :func:`unpatch`)."""
    with _lock:
        current = owner.__dict__.get(name, _MISSING)
        setattr(owner, name, value)
        _patches.setdefault(flavor, []).append(_Patch(owner, name, current))


def unpatch(flavor: str) -> None:
    """Restore every method ``flavor`` replaced, newest first."""
    with _lock:
        for item in reversed(_patches.pop(flavor, [])):
            if item.previous is _MISSING:
                if item.name in item.owner.__dict__:
                    delattr(item.owner, item.name)
            else:
                setattr(item.owner, item.name, item.previous)


def is_patched(flavor: str, owner: type, name: str) -> bool:
    value = owner.__dict__.get(name)
    value = getattr(value, "__func__", value)  # a classmethod's function carries the mark
    return getattr(value, "_gitrun_autolog", None) == flavor


def patch_class_tree(
    flavor: str,
    base: type,
    methods: tuple[str, ...],
    make: Callable[[Callable[..., Any]], Callable[..., Any]],
    skip: Callable[[type], bool] | None = None,
) -> None:
    """Patch ``methods`` where ``base`` or any subclass defines them: now, and (through a
    wrapped ``__init_subclass__``) in every subclass defined later.

    Estimators are often defined after autolog is turned on (xgboost's, the user's),
    and a library's classes are spread over modules it imports lazily.
    """

    def patch_class(cls: type) -> None:
        if skip is not None and skip(cls):
            return
        for name in methods:
            if name in cls.__dict__ and callable(cls.__dict__[name]):
                patch(flavor, cls, name, make)

    pending = [base]
    while pending:
        cls = pending.pop()
        patch_class(cls)
        pending.extend(cls.__subclasses__())
    if is_patched(flavor, base, "__init_subclass__"):
        return

    def __init_subclass__(cls: type, /, **kwargs: Any) -> None:
        super(base, cls).__init_subclass__(**kwargs)  # type: ignore[arg-type]  # base is a class
        if active(flavor) is not None:
            patch_class(cls)

    __init_subclass__._gitrun_autolog = flavor  # type: ignore[attr-defined]
    patch_attribute(flavor, base, "__init_subclass__", classmethod(__init_subclass__))
