"""search_experiments page tokens belong to one search (as search_runs' do)."""

from __future__ import annotations

import pytest

from gitrun import MlflowClient
from gitrun.entities import ViewType
from gitrun.errors import InvalidParameterValue

pytestmark = pytest.mark.usefixtures("in_repo")


def test_an_experiment_page_token_is_refused_by_any_other_search() -> None:
    client = MlflowClient()
    for name in ("exp-a", "exp-b", "exp-c", "other"):
        client.create_experiment(name)
    search = {"filter_string": "name LIKE 'exp-%'", "order_by": ["name"]}
    first = client.search_experiments(max_results=2, **search)  # type: ignore[arg-type]
    assert [e.name for e in first] == ["exp-a", "exp-b"] and first.token is not None
    rest = client.search_experiments(max_results=2, page_token=first.token, **search)  # type: ignore[arg-type]
    assert [e.name for e in rest] == ["exp-c"] and rest.token is None
    for other in (
        {"filter_string": "name LIKE 'other%'", "order_by": ["name"]},
        {"filter_string": "name LIKE 'exp-%'", "order_by": ["name DESC"]},
        {"filter_string": "name LIKE 'exp-%'"},
        {**search, "view_type": ViewType.ALL},
    ):
        with pytest.raises(InvalidParameterValue, match="Invalid page token"):
            client.search_experiments(max_results=2, page_token=first.token, **other)  # type: ignore[arg-type]
    # The same search with another page size is fine (offsets, as MLflow).
    again = client.search_experiments(max_results=5, page_token=first.token, **search)  # type: ignore[arg-type]
    assert [e.name for e in again] == ["exp-c"]
