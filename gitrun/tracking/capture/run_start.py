"""What a run started in this process records about it: who, from where, on which code
and environment.  The result is plain record content handed to the run store.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from gitrun.core import location as loc
from gitrun.core.git.objects import MODE_BLOB, MODE_TREE, Oid
from gitrun.core.git.repo import Repository
from gitrun.core.records import layout
from gitrun.core.records.run_store import FileValue
from gitrun.core.records.store import RecordStore
from gitrun.core.records.text import encode_captured, has_surrogates, readable
from gitrun.errors import GitrunError, RefConflict, StoreUnavailable, UnsupportedRepository
from gitrun.tracking import names
from gitrun.tracking.capture import code as code_capture
from gitrun.tracking.capture import environment, source
from gitrun.tracking.run_record import RUN_NAME_TAG, USER_TAG, new_run_info

InheritedCode = tuple[dict[str, Any], Oid]
"""A parent run's ``code`` record and code tree, for a child run that shares them."""


class RunCapture:
    """Captures, once per process where it can, what every new run records."""

    def __init__(self, location: loc.Location) -> None:
        self.location = location
        self._code_repos: dict[str, Repository | None] = {}
        self._env_blob: Oid | None = None
        self._announced: set[tuple[Oid, int]] = set()

    def code_repository(self) -> Repository | None:
        """The repository (with a work tree) holding the script being run, if any."""
        script = source.user_script()
        start = os.path.dirname(script) if script else os.getcwd()
        if start not in self._code_repos:
            found = Repository.discover(start)
            self._code_repos[start] = found if found is not None and found.work_tree else None
        return self._code_repos[start]

    def code_repository_or_none(self) -> Repository | None:
        try:
            return self.code_repository()
        except UnsupportedRepository:
            return None  # refused again, clearly, when a run would snapshot it

    def _environment_blob(self, records: RecordStore) -> Oid:
        if self._env_blob is None:
            data = environment.environment_yaml(environment.cache_dir())
            self._env_blob = records.retrying(lambda: records.repo.write_blob(data), "record into")
        return self._env_blob

    def _snapshot(self, records: RecordStore) -> code_capture.CodeSnapshot | None:
        code_repo = self.code_repository()
        if code_repo is None:
            return None
        exclude = (self.location.path,) if self.location.standalone else ()
        try:
            snap = records.retrying(
                lambda: code_capture.snapshot(code_repo, records.repo, exclude), "snapshot the code into"
            )
        except (UnsupportedRepository, StoreUnavailable, RefConflict):
            # Refused, or a full disk, a read-only repository: not a hiccup, the caller
            # must know (the run must not be recorded with the wrong code).
            raise
        except GitrunError as exc:
            import warnings

            warnings.warn(f"gitrun could not snapshot the code of this run: {exc}", stacklevel=4)
            return None
        self._announce_untracked(snap)
        return snap

    def _announce_untracked(self, snap: code_capture.CodeSnapshot) -> None:
        """Say once per snapshot which untracked files went in and which were left out:
        they travel with ``gitrun push``, so nothing should go in silently."""
        included = snap.record.get("untracked") or []
        skipped = snap.record.get("skipped") or []
        key = (snap.tree, len(skipped))
        if not (included or skipped) or key in self._announced:
            return
        self._announced.add(key)
        from gitrun.tracking.capture.secrets import snapshot_summary

        print(snapshot_summary(snap.work_tree, included, skipped), file=sys.stderr)

    def new_run(
        self,
        records: RecordStore,
        run_id: str,
        experiment_id: str,
        *,
        run_name: str | None,
        tags: dict[str, str],
        start_time: int,
        parent_run_id: str | None,
        inherited: InheritedCode | None,
    ) -> tuple[dict[str, Any], dict[str, str], dict[str, FileValue]]:
        """The new run's ``run.yaml``, tags and tree entries (environment, code), whose
        objects are written into ``records``."""
        captured_user = source.user()
        src = source.source()
        if has_surrogates(captured_user):
            src["user"] = captured_user  # lossless below; user_id holds the readable form
        info = new_run_info(
            run_id,
            experiment_id,
            run_name=run_name or tags.get(RUN_NAME_TAG) or names.generate(),
            user_id=tags.get(USER_TAG) or readable(captured_user),
            start_time=start_time,
            parent_run_id=parent_run_id,
            # Captured text is recorded losslessly (argv, cwd, paths may hold bytes that are
            # not UTF-8: see core.records.text).
            source=encode_captured(src),
        )
        tags = {**tags, RUN_NAME_TAG: info["run_name"]}
        files: dict[str, FileValue] = {layout.ENVIRONMENT_FILE: (MODE_BLOB, self._environment_blob(records))}
        code = inherited
        if code is None:
            snap = self._snapshot(records)
            code = (snap.record, snap.tree) if snap else None
            if snap is not None and snap.record.get("dirty") and snap.tree:
                from gitrun.tracking import linking

                linking.remember(records.repo, snap.tree)  # for the post-commit hook
        if code is not None:
            record, tree = code
            info["code"] = encode_captured(record)
            files[layout.CODE_DIR] = (MODE_TREE, tree)
            for tag, field in (
                ("mlflow.source.git.commit", "commit"),
                ("mlflow.source.git.branch", "branch"),
                ("mlflow.source.git.repoURL", "repo_url"),
            ):
                if record.get(field) and tag not in tags:
                    tags[tag] = str(record[field])
            tags.setdefault("gitrun.git.dirty", "true" if record.get("dirty") else "false")
            # Lets the post-commit hook find, by one indexed query, the runs whose code a
            # new commit contains exactly.
            tags.setdefault("gitrun.git.tree", str(tree))
        return info, tags, files
