"""Progress reporting for large transfers: a bar on a terminal, else nothing.

The store takes a :class:`Progress`; tests inject their own to observe a
transfer while it happens.  ``tqdm`` is imported only when a bar is drawn.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

BAR_THRESHOLD = 8 * 10**6
"""Transfers smaller than this (bytes) never show a bar."""

Advance = Callable[[int], None]
"""Called with the number of bytes just moved."""


class Progress(Protocol):
    """How a store reports the progress of its transfers."""

    def wanted(self) -> bool:
        """Whether reporting is on at all (lets the store skip size lookups)."""
        ...

    def bar(self, total: int, description: str) -> AbstractContextManager[Advance]:
        """A context giving the function to call as bytes move."""
        ...


def _ignore(_: int) -> None:
    return None


@contextmanager
def _no_bar() -> Iterator[Advance]:
    yield _ignore


class Silent:
    """Never reports anything."""

    def wanted(self) -> bool:
        return False

    def bar(self, total: int, description: str) -> AbstractContextManager[Advance]:
        return _no_bar()


class TerminalProgress:
    """A tqdm bar on stderr, only when stderr is a terminal and the transfer is
    larger than ``threshold`` bytes."""

    def __init__(self, threshold: int = BAR_THRESHOLD) -> None:
        self.threshold = threshold

    def wanted(self) -> bool:
        isatty = getattr(sys.stderr, "isatty", None)
        return bool(isatty and isatty())

    def bar(self, total: int, description: str) -> AbstractContextManager[Advance]:
        if total < self.threshold or not self.wanted():
            return _no_bar()
        return self._tqdm_bar(total, description)

    @contextmanager
    def _tqdm_bar(self, total: int, description: str) -> Iterator[Advance]:
        from tqdm import tqdm

        with tqdm(
            total=total,
            desc=description,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=sys.stderr,
            leave=False,
            dynamic_ncols=True,
        ) as progress_bar:
            yield progress_bar.update
