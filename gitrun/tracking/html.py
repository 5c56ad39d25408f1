"""HTML for notebooks: what ``_repr_html_`` of a run, an experiment or a list of search
results shows in Jupyter.  Every value is escaped."""

from __future__ import annotations

import html
import math
import time
from collections.abc import Sequence
from typing import Any

_STYLE = "border-collapse:collapse;font-size:0.9em"
_CELL = "padding:2px 8px;text-align:left;border-bottom:1px solid #ddd"


def _esc(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else html.escape(f"{value:.6g}")
    return html.escape(str(value))


def _time(ms: int | None) -> str:
    return "" if ms is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000))


def _table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    th = "".join(f'<th style="{_CELL}">{_esc(h)}</th>' for h in head)
    body = "".join(
        "<tr>" + "".join(f'<td style="{_CELL}">{_esc(c)}</td>' for c in row) + "</tr>" for row in rows
    )
    return f'<table style="{_STYLE}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def run_html(run: Any) -> str:
    info, data = run.info, run.data
    head = (
        f"<b>Run {_esc(info.run_name)}</b> <code>{_esc(info.run_id)}</code> · {_esc(info.status)} · "
        f"experiment {_esc(info.experiment_id)} · started {_esc(_time(info.start_time))}"
    )
    parts = [f"<div>{head}</div>"]
    for title, mapping in (("Params", data.params), ("Metrics (latest)", data.metrics)):
        if mapping:
            parts.append(f"<div><i>{title}</i></div>" + _table(["key", "value"], sorted(mapping.items())))
    user_tags = {k: v for k, v in data.tags.items() if not k.startswith(("mlflow.", "gitrun."))}
    if user_tags:
        parts.append("<div><i>Tags</i></div>" + _table(["key", "value"], sorted(user_tags.items())))
    return "".join(parts)


def experiment_html(experiment: Any) -> str:
    return (
        f"<b>Experiment {_esc(experiment.name)}</b> <code>{_esc(experiment.experiment_id)}</code> · "
        f"{_esc(experiment.lifecycle_stage)} · created {_esc(_time(experiment.creation_time))}"
    )


def runs_html(runs: Sequence[Any], limit: int = 50) -> str:
    """A leaderboard-like table: id, name, status, start, then every param and metric."""
    shown = list(runs[:limit])
    params = sorted({k for r in shown for k in r.data.params})
    metrics = sorted({k for r in shown for k in r.data.metrics})
    head = ["run", "name", "status", "started", *params, *metrics]
    rows = [
        [
            r.info.run_id[:8],
            r.info.run_name,
            r.info.status,
            _time(r.info.start_time),
            *(r.data.params.get(k) for k in params),
            *(r.data.metrics.get(k) for k in metrics),
        ]
        for r in shown
    ]
    more = f"<div>… and {len(runs) - limit} more</div>" if len(runs) > limit else ""
    return f"<div>{len(runs)} run{'s' if len(runs) != 1 else ''}</div>" + _table(head, rows) + more


def experiments_html(experiments: Sequence[Any]) -> str:
    rows = [[e.name, e.experiment_id, e.lifecycle_stage, _time(e.creation_time)] for e in experiments]
    return _table(["name", "id", "stage", "created"], rows)
