"""A running MLflow server, read over its REST API (``http(s)://host:port``).

Experiments and runs through ``experiments/search`` and ``runs/search`` (all view
types, paged), histories through ``metrics/get-history``, artifacts listed with
``artifacts/list`` and downloaded through the artifact proxy
(``mlflow-artifacts:`` runs) or read from a local path.  Credentials come from
``MLFLOW_TRACKING_USERNAME``/``MLFLOW_TRACKING_PASSWORD`` or ``MLFLOW_TRACKING_TOKEN``,
as for MLflow's client.
"""

from __future__ import annotations

import base64
import json
import math
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from functools import partial
from typing import Any

from gitrun.errors import InvalidParameterValue, StoreUnavailable
from gitrun.migrate.source import SourceExperiment, fingerprint, local_artifact_dir, status_name
from gitrun.tracking import entities as ent
from gitrun.tracking.imports import ImportedRun, Points

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _double(value: Any) -> float:
    return _SPECIAL[value] if isinstance(value, str) and value in _SPECIAL else float(value)


def _pairs(items: list[dict[str, Any]] | None) -> dict[str, str]:
    return {str(i["key"]): str(i.get("value", "")) for i in items or []}


class RestStore:
    """An MLflow tracking server."""

    def __init__(self, url: str, artifacts_root: str | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise InvalidParameterValue(f"an MLflow server URL starts with http:// or https://, not {url!r}")
        self.url = url.rstrip("/")
        self.description = self.url
        self.artifacts_root = artifacts_root
        self._scratch = tempfile.mkdtemp(prefix="gitrun-import-")
        self._headers = {"User-Agent": "gitrun-import"}
        user, password = (
            os.environ.get("MLFLOW_TRACKING_USERNAME"),
            os.environ.get("MLFLOW_TRACKING_PASSWORD"),
        )
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        if user and password:
            basic = base64.b64encode(f"{user}:{password}".encode()).decode()
            self._headers["Authorization"] = f"Basic {basic}"
        elif token:
            self._headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.url}/api/2.0/mlflow/{path}"
        data = None
        if method == "GET" and body:
            url += "?" + urllib.parse.urlencode(body, doseq=True)
        elif body is not None:
            data = json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method, headers=self._headers)  # noqa: S310
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=120) as resp:  # noqa: S310 - http(s), checked
                text = resp.read()
        except urllib.error.HTTPError as exc:
            raise StoreUnavailable(f"{url}: HTTP {exc.code} {exc.read()[:300]!r}") from None
        except OSError as exc:
            raise StoreUnavailable(f"cannot reach the MLflow server {self.url}: {exc}") from None
        found = json.loads(text or b"{}")
        return found if isinstance(found, dict) else {}

    def experiments(self) -> list[SourceExperiment]:
        out, token = [], None
        while True:
            body: dict[str, Any] = {"max_results": 1000, "view_type": "ALL"}
            if token:
                body["page_token"] = token
            page = self._call("POST", "experiments/search", body)
            for exp in page.get("experiments", []):
                tags = {k: v for k, v in _pairs(exp.get("tags")).items()}
                out.append(
                    SourceExperiment(
                        str(exp["experiment_id"]),
                        str(exp["name"]),
                        exp.get("lifecycle_stage", "active"),
                        tags,
                    )
                )
            token = page.get("next_page_token")
            if not token:
                return out

    def runs(self, experiment: SourceExperiment) -> Iterator[ImportedRun]:
        token = None
        while True:
            body: dict[str, Any] = {
                "experiment_ids": [experiment.experiment_id],
                "run_view_type": "ALL",
                "max_results": 1000,
            }
            if token:
                body["page_token"] = token
            page = self._call("POST", "runs/search", body)
            for run in page.get("runs", []):
                yield self._run(run)
            token = page.get("next_page_token")
            if not token:
                return

    def _run(self, run: dict[str, Any]) -> ImportedRun:
        info, data = run["info"], run.get("data", {})
        run_id = str(info.get("run_id") or info["run_uuid"])
        full = self._call("GET", "runs/get", {"run_id": run_id})["run"]
        tags = _pairs(data.get("tags"))
        metrics = data.get("metrics", [])
        end = info.get("end_time")
        datasets = [
            ent.DatasetInput(
                ent.Dataset(
                    str(d["dataset"].get("name", "")),
                    str(d["dataset"].get("digest", "")),
                    str(d["dataset"].get("source_type", "")),
                    str(d["dataset"].get("source", "")),
                    d["dataset"].get("schema"),
                    d["dataset"].get("profile"),
                ),
                [ent.InputTag(str(t["key"]), str(t.get("value", ""))) for t in d.get("tags", [])],
            )
            for d in full.get("inputs", {}).get("dataset_inputs", [])
        ]
        return ImportedRun(
            run_id=run_id,
            experiment_id="",
            run_name=str(info.get("run_name") or tags.get("mlflow.runName") or ""),
            user_id=str(info.get("user_id") or "unknown"),
            status=status_name(info.get("status", "FINISHED")),
            start_time=int(info.get("start_time") or 0),
            end_time=int(end) if end is not None else None,
            lifecycle_stage=str(info.get("lifecycle_stage") or "active"),
            params=_pairs(data.get("params")),
            tags=tags,
            metric_keys=sorted({str(m["key"]) for m in metrics}),
            history=partial(self.history, run_id),
            fingerprint=fingerprint(info, data),
            source=self.description,
            datasets=datasets,
            artifacts_dir=partial(
                self._artifacts, run_id, str(info.get("experiment_id")), info.get("artifact_uri")
            ),
        )

    def history(self, run_id: str, key: str) -> Points:
        out, token = [], None
        while True:
            query: dict[str, Any] = {
                "run_id": run_id,
                "run_uuid": run_id,
                "metric_key": key,
                "max_results": 25000,
            }
            if token:
                query["page_token"] = token
            page = self._call("GET", "metrics/get-history", query)
            out += [
                (int(m.get("step", 0)), int(m["timestamp"]), _double(m["value"]))
                for m in page.get("metrics", [])
            ]
            token = page.get("next_page_token")
            if not token:
                return out

    def _artifacts(self, run_id: str, experiment_id: str, uri: str | None) -> str | None:
        """The run's artifacts in a local folder (downloaded for proxied runs)."""
        if uri and not uri.startswith("mlflow-artifacts:"):
            return local_artifact_dir(uri, self.artifacts_root)
        if uri is None:
            return None
        target = os.path.join(self._scratch, run_id)
        shutil.rmtree(target, ignore_errors=True)
        os.makedirs(target)
        base = urllib.parse.urlparse(uri).path.lstrip("/")
        self._download(run_id, base, None, target)
        return target

    def _download(self, run_id: str, base: str, path: str | None, target: str) -> None:
        query = {"run_id": run_id} | ({"path": path} if path else {})
        for item in self._call("GET", "artifacts/list", query).get("files", []):
            rel = str(item["path"])
            if ".." in rel.split("/"):
                raise InvalidParameterValue(f"artifact path {rel!r} escapes its run")
            if item.get("is_dir"):
                self._download(run_id, base, rel, target)
                continue
            local = os.path.join(target, *rel.split("/"))
            os.makedirs(os.path.dirname(local), exist_ok=True)
            url = f"{self.url}/api/2.0/mlflow-artifacts/artifacts/{base}/{urllib.parse.quote(rel)}"
            request = urllib.request.Request(url, headers=self._headers)  # noqa: S310 - http(s), checked
            with urllib.request.urlopen(request, timeout=600) as resp, open(local, "wb") as out:  # noqa: S310
                shutil.copyfileobj(resp, out, 4 * 2**20)

    def close(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)
