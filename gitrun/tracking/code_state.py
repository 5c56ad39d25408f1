"""One answer to "which commit is this run's code?", whatever has happened since.

A run records the commit HEAD was on when it started and, when the work tree had
uncommitted changes, a snapshot of them (``code.dirty``, tag ``gitrun.git.dirty``).
When the user later commits exactly that code, the post-commit hook links the run to
the new commit (tags ``mlflow.source.git.commit`` and ``gitrun.git.linked_commit``)
and leaves the record of what happened at start time as it was.  From then on the
run's code *is* that commit: clean, no uncommitted changes.  Every front end asks
:func:`code_state` rather than reading the fields itself, so they never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitrun.tracking import entities as ent

LINKED_TAG = "gitrun.git.linked_commit"
COMMIT_TAG = "mlflow.source.git.commit"
DIRTY_TAG = "gitrun.git.dirty"


@dataclass(frozen=True)
class CodeState:
    commit: str | None
    """The commit whose tree is the run's code when ``dirty`` is False; else the
    commit the recorded uncommitted changes apply to."""
    dirty: bool
    """True when no commit holds the run's exact code (only the run's snapshot does)."""
    recorded_commit: str | None
    """HEAD when the run started."""
    linked: bool
    """``commit`` was set after the run, when its exact code was committed."""
    branch: str | None

    def describe(self) -> str:
        if self.commit is None:
            return "(no commit)"
        if self.linked:
            return (
                f"commit {self.commit} (committed after the run; recorded on "
                f"{(self.recorded_commit or '(none)')[:12]} + uncommitted changes)"
            )
        return f"commit {self.commit}" + (" + uncommitted changes recorded" if self.dirty else ", clean")


def code_state(run: ent.Run) -> CodeState:
    """The run's code, from its record (``get_run``) or, for search results that carry
    no record, from its tags."""
    tags = run.data.tags
    code: dict[str, Any] = run.record.get("code") or {}
    recorded = code.get("commit") or tags.get(COMMIT_TAG)
    dirty_at_start = bool(code.get("dirty")) if "dirty" in code else tags.get(DIRTY_TAG) == "true"
    linked = tags.get(LINKED_TAG)
    if not linked and code.get("commit") and tags.get(COMMIT_TAG) not in (None, code.get("commit")):
        linked = tags.get(COMMIT_TAG)  # linked by an older hook that set only the MLflow tag
    branch = code.get("branch") or tags.get("mlflow.source.git.branch")
    if linked:
        return CodeState(linked, False, recorded, True, branch)
    return CodeState(recorded, dirty_at_start, recorded, False, branch)
