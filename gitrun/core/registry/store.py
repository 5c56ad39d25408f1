"""Reading the registry at its ref's tip, and changing it one audited commit at a time.

A change is a function of the registry (it edits a copy, or raises to refuse);
:meth:`RegistryStore.change` applies it to the tip, commits the result with the
user's git identity and a message saying what changed, and moves the ref by
compare-and-swap.  When another writer moved the ref first, the change is applied
again to the new tip (so a refusal, such as "version 3 does not exist", is
decided on the latest registry), up to a bound.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from gitrun.core.git.identity import signature
from gitrun.core.git.objects import Commit, Oid
from gitrun.core.git.repo import Repository
from gitrun.core.registry import layout, state
from gitrun.errors import RefConflict

T = TypeVar("T")
_MAX_ATTEMPTS = 100


def identity(repo: Repository) -> str:
    """``Name <email> <time> <tz>`` as git would record it (:func:`.signature`)."""
    return str(signature(repo.common_dir))


def who(ident: str) -> str:
    """The ``Name <email>`` part of an identity line."""
    return ident.rsplit(" ", 2)[0] if ident.count(" ") >= 2 else ident


class RegistryStore:
    def __init__(self, repo: Repository, ref: str = layout.REGISTRY_REF) -> None:
        self.repo = repo
        self.ref = ref

    def tip(self) -> Oid | None:
        return self.repo.refs.read(self.ref)

    def read(self, tip: Oid | None = None) -> state.Registry:
        tip = tip if tip is not None else self.tip()
        return state.read(self.repo, self.repo.read_commit(tip).tree if tip else None)

    def change(self, edit: Callable[[state.Registry, str], tuple[str, T]]) -> T:
        """Apply ``edit(registry, identity) -> (commit message, result)`` and commit it.

        ``edit`` mutates the registry it is given (a fresh copy on each attempt).
        A change that leaves the registry as it was makes no commit.
        """
        for attempt in range(_MAX_ATTEMPTS):
            tip = self.tip()
            registry = self.read(tip)
            ident = identity(self.repo)
            message, result = edit(registry, ident)
            tree = state.write(self.repo, registry)
            if tip is not None and self.repo.read_commit(tip).tree == tree:
                return result
            commit = self.repo.write_commit(Commit(tree, (tip,) if tip else (), ident, ident, message + "\n"))
            if self.repo.refs.compare_and_swap(self.ref, tip, commit):
                return result
            time.sleep(min(0.01 * (attempt + 1), 0.2) * random.random())
        raise RefConflict(f"could not update {self.ref}: other writers kept moving it")
