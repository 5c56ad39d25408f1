"""View types by name, as MLflow spells them, select the runs MLflow would."""

from __future__ import annotations

import pytest

from gitrun import MlflowClient
from gitrun.entities import ViewType


@pytest.mark.usefixtures("in_repo")
def test_view_type_names_select_active_deleted_or_all_runs() -> None:
    client = MlflowClient()
    kept = client.create_run("0").info.run_id
    gone = client.create_run("0").info.run_id
    client.delete_run(gone)
    expected = {"ACTIVE_ONLY": {kept}, "active_only": {kept}, "Deleted_Only": {gone}, "all": {kept, gone}}
    for name, runs in expected.items():
        view = ViewType.from_string(name)
        assert view == getattr(ViewType, name.upper())
        assert {r.info.run_id for r in client.search_runs(["0"], run_view_type=view)} == runs
    with pytest.raises(ValueError, match="unknown view type"):
        ViewType.from_string("some")
