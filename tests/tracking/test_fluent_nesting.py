"""Nested runs deeper than two levels: each run's parent is the run just above it."""

from __future__ import annotations

import pytest

import gitrun
from gitrun import MlflowClient

pytestmark = pytest.mark.usefixtures("in_repo")


def test_three_levels_each_parent_is_the_run_above() -> None:
    with gitrun.start_run(run_name="outer") as outer:
        with gitrun.start_run(run_name="middle", nested=True) as middle:
            with gitrun.start_run(run_name="inner", nested=True) as inner:
                assert gitrun.active_run().info.run_id == inner.info.run_id  # type: ignore[union-attr]
            # Back at the middle level: a sibling of inner has the same parent.
            with gitrun.start_run(run_name="inner-2", nested=True) as sibling:
                pass
        with gitrun.start_run(run_name="middle-2", nested=True) as middle_2:
            pass
    client = MlflowClient()
    expected = {
        outer.info.run_id: None,
        middle.info.run_id: outer.info.run_id,
        inner.info.run_id: middle.info.run_id,
        sibling.info.run_id: middle.info.run_id,
        middle_2.info.run_id: outer.info.run_id,
    }
    for run_id, parent in expected.items():
        run = client.get_run(run_id)
        assert run.data.tags.get("mlflow.parentRunId") == parent, run.info.run_name
        assert run.record["parent_run_id"] == parent, run.info.run_name
    found = gitrun.search_runs(
        filter_string=f"tags.mlflow.parentRunId = '{middle.info.run_id}'", output_format="list"
    )
    assert {r.info.run_id for r in found} == {inner.info.run_id, sibling.info.run_id}
