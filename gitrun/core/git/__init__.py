"""Git, wrapped in one place.

Everything gitrun does to a repository goes through this package: object
reads and writes (:mod:`.odb`), ref compare-and-swap (:mod:`.refs`), and the few
porcelain commands run as ``git`` subprocesses (:mod:`.cli`).  The object and ref
layers are plain Python on purpose: importing pygit2 costs ~190 ms here, more than
the whole start-up budget of a tracked script.
"""

from gitrun.core.git.objects import Commit, Oid, TreeEntry
from gitrun.core.git.repo import Repository

__all__ = ["Commit", "Oid", "Repository", "TreeEntry"]
