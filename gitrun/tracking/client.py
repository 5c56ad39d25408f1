"""The stateless client: every call names its run or experiment (MLflow's MlflowClient)."""

from __future__ import annotations

import operator
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from gitrun.core.records.run_store import MetricColumns
from gitrun.errors import InvalidParameterValue, ResourceDoesNotExist
from gitrun.tracking import entities as ent
from gitrun.tracking import uri
from gitrun.tracking import validation as v
from gitrun.tracking.run_record import checked_run_name
from gitrun.tracking.session import open_store
from gitrun.tracking.store import TrackingStore


class Client:
    """Access to runs and experiments of one tracking location.

    Args:
        tracking_uri: where the records are (a repository, or a standalone store);
            None means the current tracking URI (see ``gitrun.get_tracking_uri``).
        registry_uri: accepted for MLflow compatibility and ignored.
    """

    def __init__(
        self, tracking_uri: str | None = None, registry_uri: str | None = None, *, create: bool = True
    ) -> None:
        self._tracking_uri = tracking_uri if tracking_uri is not None else uri.tracking_uri_or_none()
        self._store: TrackingStore | None = None
        self._create = create

    @property
    def tracking_uri(self) -> str:
        return self.store.uri

    @property
    def store(self) -> TrackingStore:
        if self._store is None:
            self._store = open_store(self._tracking_uri, create=self._create)
        return self._store

    # -- experiments ----------------------------------------------------------------------------

    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: dict[str, Any] | None = None
    ) -> str:
        v.experiment_name(name)
        clean = dict(v.experiment_tag(k, val) for k, val in (tags or {}).items())
        return self.store.experiments.create(name, artifact_location, clean)

    def get_experiment(self, experiment_id: str) -> ent.Experiment:
        return self.store.get_experiment(v.experiment_id(experiment_id))

    def get_experiment_by_name(self, name: str) -> ent.Experiment | None:
        return self.store.get_experiment_by_name(name)

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft delete: the experiment and its active runs become ``deleted``."""
        experiment_id = v.experiment_id(experiment_id)
        self.store.experiments.set_lifecycle(experiment_id, ent.LifecycleStage.DELETED)
        runs = self.store.runs
        for run in self._runs_of(experiment_id, ent.ViewType.ACTIVE_ONLY):
            # Remembered so that restoring the experiment restores these runs, not runs
            # the user had deleted on their own.
            runs.update_info(
                run.info.run_id,
                {"lifecycle_stage": ent.LifecycleStage.DELETED, "deleted_with_experiment": True},
                allow_deleted=True,
            )
        runs.flush()

    def restore_experiment(self, experiment_id: str) -> None:
        """Undo :meth:`delete_experiment`: the experiment and the runs it deleted."""
        experiment_id = v.experiment_id(experiment_id)
        self.store.experiments.set_lifecycle(experiment_id, ent.LifecycleStage.ACTIVE)
        runs = self.store.runs
        for run in self._runs_of(experiment_id, ent.ViewType.DELETED_ONLY):
            if runs.read_state(run.info.run_id).info.get("deleted_with_experiment"):
                runs.update_info(
                    run.info.run_id,
                    {"lifecycle_stage": ent.LifecycleStage.ACTIVE, "deleted_with_experiment": False},
                    allow_deleted=True,
                )
        runs.flush()

    def _runs_of(self, experiment_id: str, view: int) -> list[ent.Run]:
        from gitrun.tracking.search import collect_runs

        return collect_runs(self, [experiment_id], run_view_type=view, max_results=10**9)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.store.experiments.rename(v.experiment_id(experiment_id), v.experiment_name(new_name))

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        key, text = v.experiment_tag(key, value)
        self.store.experiments.set_tag(v.experiment_id(experiment_id), key, text)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.store.experiments.set_tag(v.experiment_id(experiment_id), key, None)

    # -- runs -------------------------------------------------------------------------------------

    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: dict[str, Any] | None = None,
        run_name: str | None = None,
    ) -> ent.Run:
        """Create a RUNNING run (not made active: the fluent run stack is untouched)."""
        clean = v.run_tags(tags or {})
        run_name = checked_run_name(run_name, clean)
        # Not owned by this process (MLflow's client is stateless): it stays RUNNING until
        # someone calls set_terminated, even after this process exits.
        run_id = self.store.create_run(
            v.experiment_id(experiment_id), run_name=run_name, tags=clean, start_time=start_time, owned=False
        )
        return self.get_run(run_id)

    def start_owned_run(
        self, experiment_id: str, tags: dict[str, Any], *, parent_run_id: str | None = None
    ) -> ent.Run:
        """gitrun: create a RUNNING run owned by this process (``gitrun.start_run``): ended
        at exit at the latest; a child run shares its parent's code snapshot.  The run's
        name is the tag ``mlflow.runName``.  Returns the run as created (built from the
        record, not read back: this is on every ``start_run``)."""
        clean = v.run_tags(tags)
        experiment_id = v.experiment_id(experiment_id)
        parent = None if parent_run_id is None else v.run_id(parent_run_id)
        store = self.store
        new_id = store.create_run(
            experiment_id,
            run_name=clean.get("mlflow.runName"),
            tags=clean,
            parent_run_id=parent,
            inherit_code_from=parent,
        )
        state = store.runs.read_state(new_id)
        info = state.info
        return ent.Run(
            ent.RunInfo(
                new_id,
                info["run_name"],
                experiment_id,
                info["user_id"],
                ent.RunStatus.RUNNING,
                info["start_time"],
                None,
                info["artifact_uri"],
                ent.LifecycleStage.ACTIVE,
            ),
            ent.RunData(tags=dict(state.tags)),
            record=dict(info),
        )

    def check_parent_run(self, run_id: str) -> None:
        """gitrun: raise unless a run can be started under ``run_id`` (it exists and is not
        deleted; a run live in this process is not read back)."""
        run_id = v.run_id(run_id)
        parent_run = self.get_run(run_id) if not self.store.runs.is_live(run_id) else None
        if parent_run is not None and parent_run.info.lifecycle_stage == ent.LifecycleStage.DELETED:
            raise InvalidParameterValue(f"Cannot start a nested run under the deleted run {run_id}.")
        if parent_run is None and not self.store.run_exists(run_id):
            raise ResourceDoesNotExist(f"Run '{run_id}' not found")

    def resume_run(self, run_id: str) -> None:
        """gitrun: take an existing run over in this process (``start_run(run_id=...)``):
        RUNNING again, and ended by this process (at exit at the latest)."""
        run_id = v.run_id(run_id)
        runs = self.store.runs
        runs.open_run(run_id, owned=True)
        runs.update_info(run_id, {"status": ent.RunStatus.RUNNING})

    def move_run(self, run_id: str, experiment_id: str) -> ent.Run:
        """gitrun: move a run to another experiment, remembering where it was (the tag
        ``gitrun.moved_from_experiment``); for the run ``gitrun run`` created before the
        script chose its experiment.  Returns the moved run."""
        run_id, experiment_id = v.run_id(run_id), v.experiment_id(experiment_id)
        previous = self.get_run(run_id).info.experiment_id
        self.store.runs.update_info(run_id, {"experiment_id": experiment_id})
        self.store.runs.log_batch(run_id, tags={"gitrun.moved_from_experiment": previous})
        return self.get_run(run_id)

    def get_run(self, run_id: str) -> ent.Run:
        return self.store.get_run(v.run_id(run_id))

    def get_parent_run(self, run_id: str) -> ent.Run | None:
        parent = self.get_run(run_id).data.tags.get("mlflow.parentRunId")
        return self.get_run(parent) if parent else None

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        key = v.validate_key(key, "param")
        self.store.runs.log_batch(v.run_id(run_id), params={key: v.param_value(key, value)})
        return value

    def log_params(self, run_id: str, params: dict[str, Any]) -> None:
        """gitrun: several params at once (``gitrun.log_params``), all validated first."""
        clean = {v.validate_key(k, "param"): v.param_value(k, val) for k, val in params.items()}
        self.store.runs.log_batch(v.run_id(run_id), params=clean)

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: Any,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
        model_id: str | None = None,
    ) -> None:
        """One point of a run's metric series (also attached to the logged model ``model_id``).

        The hot path of every training loop (``gitrun.log_metric`` ends here): a few
        microseconds, no git work.  ``dataset_name``/``dataset_digest`` are accepted for
        MLflow compatibility and not recorded.
        """
        key, value, step, ts = v.metric_point(key, value, step, timestamp)
        if model_id is None:
            self.store.runs.log_metric(v.run_id(run_id), key, value, step, ts)
            return
        attach = self._model_points([ent.Metric(key, value, ts, step, model_id=model_id)])
        self.store.runs.log_metric(v.run_id(run_id), key, value, step, ts)
        self._attach_to_models(attach)

    def metric_logger(self, run_id: str) -> Callable[[str, Any, int | None, int | None], None]:
        """gitrun: ``log(key, value, step, timestamp)`` logging to one run exactly as
        :meth:`log_metric` does, with the run id checked once (a training loop's hot path:
        ``gitrun.log_metric`` on the active run goes through here)."""
        run_id = v.run_id(run_id)
        write = self.store.runs.log_metric
        point = v.metric_point

        def log(key: str, value: Any, step: int | None = None, timestamp: int | None = None) -> None:
            key, value, step, ts = point(key, value, step, timestamp)
            write(run_id, key, value, step, ts)

        return log

    def log_metrics(
        self,
        run_id: str,
        metrics: dict[str, Any],
        step: int | None = None,
        timestamp: int | None = None,
        model_id: str | None = None,
    ) -> None:
        """gitrun: several metrics at one step and timestamp (``gitrun.log_metrics``), also
        onto the logged model ``model_id``."""
        from gitrun.tracking import logged_models

        ts = int(time.time() * 1000) if timestamp is None else v.metric_timestamp(timestamp)
        step_ = v.metric_step(step)
        points = [
            (v.validate_key(k, "metric"), v.metric_value(k, val), step_, ts) for k, val in metrics.items()
        ]
        self.store.runs.log_batch(v.run_id(run_id), metrics=MetricColumns(*zip(*points)) if points else None)
        if model_id is not None:
            logged_models.log_metrics(self.store, logged_models.check_model_id(model_id), points)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[ent.Metric] = (),
        params: Sequence[ent.Param] = (),
        tags: Sequence[ent.RunTag] = (),
        synchronous: bool | None = None,
    ) -> None:
        """Params, then metrics, then tags; every entity is validated before any is written.

        A metric with a ``model_id`` is also attached to that logged model."""
        run_id = v.run_id(run_id)
        clean_params = {v.validate_key(p.key, "param"): v.param_value(p.key, p.value) for p in params}
        v.no_duplicates([p.key for p in params], "parameter")
        columns = _clean_columns(metrics)
        attach = self._model_points(metrics) if columns is not None else {}
        clean_tags = {v.validate_key(t.key, "tag"): v.tag_value(t.key, t.value) for t in tags}
        runs = self.store.runs
        if clean_params:
            runs.log_batch(run_id, params=clean_params)
        if columns is not None:
            runs.log_batch(run_id, metrics=MetricColumns(*columns))
            self._attach_to_models(attach)
        if clean_tags:
            self._set_tags(run_id, clean_tags)

    def _model_points(self, points: Sequence[ent.Metric]) -> dict[str, list[tuple[str, float, int, int]]]:
        """The points that name a logged model (``model_id``), by model; each model must exist."""
        from gitrun.tracking import logged_models

        by_model: dict[str, list[tuple[str, float, int, int]]] = {}
        for m in points:
            if m.model_id is not None:
                point = (
                    m.key,
                    v.metric_value(m.key, m.value),
                    v.metric_step(m.step),
                    v.metric_timestamp(m.timestamp),
                )
                by_model.setdefault(logged_models.check_model_id(m.model_id), []).append(point)
        for model_id in by_model:
            logged_models.get_logged_model(self.store, model_id)
        return by_model

    def _attach_to_models(self, points: dict[str, list[tuple[str, float, int, int]]]) -> None:
        from gitrun.tracking import logged_models

        for model_id, items in points.items():
            logged_models.log_metrics(self.store, model_id, items)

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> None:
        key = v.validate_key(key, "tag")
        self._set_tags(v.run_id(run_id), {key: v.tag_value(key, value)})

    def set_tags(self, run_id: str, tags: dict[str, Any]) -> None:
        """gitrun: several tags at once (``gitrun.set_tags``), all validated first."""
        self._set_tags(v.run_id(run_id), v.run_tags(tags))

    def _set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        self.store.runs.log_batch(run_id, tags=tags)
        if "mlflow.runName" in tags:
            self.store.runs.update_info(run_id, {"run_name": tags["mlflow.runName"]})

    def delete_tag(self, run_id: str, key: str) -> None:
        self.store.runs.log_batch(v.run_id(run_id), delete_tags=[key])

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        run_id = v.run_id(run_id)
        if status is not None:
            ent.RunStatus.from_string(status)
            self.store.runs.update_info(run_id, {"status": status})
        if name is not None:
            self._set_tags(run_id, {"mlflow.runName": v.tag_value("mlflow.runName", name)})

    def set_terminated(self, run_id: str, status: str | None = None, end_time: int | None = None) -> None:
        """End a run: status (default FINISHED) and end time, committed right away."""
        run_id = v.run_id(run_id)
        status = status or ent.RunStatus.FINISHED
        ent.RunStatus.from_string(status)
        end = int(time.time() * 1000) if end_time is None else v.metric_timestamp(end_time)
        self.store.runs.update_info(run_id, {"status": status, "end_time": end})
        self.store.runs.release(run_id)

    def delete_run(self, run_id: str) -> None:
        self._set_lifecycle(run_id, ent.LifecycleStage.DELETED)

    def restore_run(self, run_id: str) -> None:
        self._set_lifecycle(run_id, ent.LifecycleStage.ACTIVE)

    def _set_lifecycle(self, run_id: str, stage: str) -> None:
        run_id = v.run_id(run_id)
        runs = self.store.runs
        runs.update_info(run_id, {"lifecycle_stage": stage}, allow_deleted=True)
        runs.flush([run_id])

    def get_metric_history(self, run_id: str, key: str) -> list[ent.Metric]:
        """Every point of a series: chunks in the order writers started them, points
        in the order they were logged."""
        return self.store.metric_history(v.run_id(run_id), key)

    # -- search ---------------------------------------------------------------------------------

    def search_runs(
        self,
        experiment_ids: Any,
        filter_string: str = "",
        run_view_type: int = ent.ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> ent.PagedList[ent.Run]:
        """Runs matching an MLflow filter string, one page at a time.

        Args:
            experiment_ids: Experiment ids (a list, or one id).
            filter_string: MLflow filter, e.g. ``"metrics.acc > 0.9 and params.model = 'cnn'"``.
            run_view_type: ``ViewType.ACTIVE_ONLY`` (default), ``DELETED_ONLY`` or ``ALL``.
            max_results: Page size, 1..50000.
            order_by: Keys like ``"metrics.acc DESC"``; default newest first.
            page_token: ``.token`` of the previous page.

        Returns:
            A list of runs with ``.token``, the next page's token (None on the last page).

        Raises:
            InvalidParameterValue: A malformed filter or order_by (with the position of
                the problem), max_results out of bounds, or a token of another search.
        """
        from gitrun.tracking import search

        return search.search_runs(
            self.store,
            experiment_ids,
            filter_string=filter_string,
            run_view_type=run_view_type,
            max_results=max_results,
            order_by=order_by,
            page_token=page_token,
        )

    def search_experiments(
        self,
        view_type: int = ent.ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> ent.PagedList[ent.Experiment]:
        """Experiments matching a filter (``name``, ``tags.<key>``, times), newest first."""
        from gitrun.tracking import search

        return search.search_experiments(
            self.store,
            view_type=view_type,
            max_results=max_results,
            filter_string=filter_string,
            order_by=order_by,
            page_token=page_token,
        )

    # -- inputs (gitrun.tracking.inputs) ------------------------------------------------------------

    def log_input(
        self, run_id: str, path: Any, context: str | None = None, tags: dict[str, Any] | None = None
    ) -> None:
        """Record an input of the run.

        ``path`` a file or folder: declared (hashed, stored like an artifact, recorded
        in ``inputs.yaml``, restored by ``gitrun reproduce``).  A dataset
        (``gitrun.data.from_pandas(...)``, or a ``Dataset`` entity): recorded with
        its ``context`` and ``tags`` in ``datasets.yaml``.
        """
        from gitrun.tracking import datasets, inputs

        run_id = v.run_id(run_id)
        if isinstance(path, (str, os.PathLike)):
            if context is not None or tags:
                raise InvalidParameterValue("context and tags apply to datasets, not to declared input files")
            inputs.log_input(self.store, run_id, os.fspath(path))
            return
        entity = path._to_mlflow_entity() if hasattr(path, "_to_mlflow_entity") else path
        if not isinstance(entity, ent.Dataset):
            raise InvalidParameterValue(
                "log_input takes a path or a dataset (gitrun.data.from_pandas, ...), "
                f"not {type(path).__name__}"
            )
        datasets.log_dataset(self.store, run_id, entity, context, tags)

    def log_inputs(
        self, run_id: str, datasets: Sequence[ent.DatasetInput] | None = None, models: Any = None
    ) -> None:
        """MLflow's ``log_inputs``: each ``DatasetInput`` (its ``mlflow.data.context`` tag
        is the context), all validated before any is recorded."""
        from gitrun.tracking import datasets as ds

        ds.log_inputs(self.store, run_id, datasets or ())

    # -- artifacts (gitrun.tracking.artifacts) -----------------------------------------------------

    def log_artifact(self, run_id: str, local_path: Any, artifact_path: str | None = None) -> None:
        """Log a file (as ``<artifact_path>/<name>``) or a directory (as ``<artifact_path>/<dirname>``)."""
        from gitrun.tracking.artifacts import writes

        writes.log_artifact(self.store, v.run_id(run_id), local_path, artifact_path)

    def log_artifacts(self, run_id: str, local_dir: Any, artifact_path: str | None = None) -> None:
        """Log the contents of a directory under ``artifact_path`` (the run's root for None)."""
        from gitrun.tracking.artifacts import writes

        writes.log_artifacts(self.store, v.run_id(run_id), local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        from gitrun.tracking.artifacts import api

        api.log_text(self.store, v.run_id(run_id), text, artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        from gitrun.tracking.artifacts import api

        api.log_dict(self.store, v.run_id(run_id), dictionary, artifact_file)

    def log_stream(self, run_id: str, stream: Any, artifact_file: str) -> None:
        from gitrun.tracking.artifacts import api

        api.log_stream(self.store, v.run_id(run_id), stream, artifact_file)

    def log_figure(
        self, run_id: str, figure: Any, artifact_file: str, *, save_kwargs: dict[str, Any] | None = None
    ) -> None:
        from gitrun.tracking.artifacts import api

        api.log_figure(self.store, v.run_id(run_id), figure, artifact_file, save_kwargs)

    def log_image(
        self,
        run_id: str,
        image: Any,
        artifact_file: str | None = None,
        key: str | None = None,
        step: int | None = None,
        timestamp: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        from gitrun.tracking.artifacts import api

        api.log_image(self.store, v.run_id(run_id), image, artifact_file, key, step, timestamp)

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """Log a dict or DataFrame as a JSON table (appended to when the file exists)."""
        from gitrun.tracking import logged_tables as tables

        tables.log_table(self, v.run_id(run_id), data, artifact_file)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[ent.FileInfo]:
        """Files and folders directly under ``path``: sorted, run-relative, folders with size None."""
        from gitrun.tracking.artifacts import reads

        return reads.list_artifacts(self.store, v.run_id(run_id), path)

    def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
        """Download (verified) a run's file or folder below ``dst_path``; return its local path."""
        from gitrun.tracking.artifacts import reads

        return reads.download_artifacts(self.store, v.run_id(run_id), path, dst_path)

    def flush(self) -> None:
        """Commit everything this process has buffered (normally done on a schedule)."""
        self.store.runs.flush()

    # -- logged models (gitrun.tracking.logged_models) -------------------------------------------

    def log_model_artifacts(
        self,
        run_id: str,
        local_dir: Any,
        name: str,
        *,
        flavors: Sequence[str],
        model_size_bytes: int | None = None,
        params: dict[str, Any] | None = None,
        tags: dict[str, Any] | None = None,
        model_type: str | None = None,
        step: int = 0,
    ) -> ent.LoggedModel:
        """Log a saved model's folder as ``<name>/`` of the run and record it as a logged
        model (what every flavor's ``log_model`` ends with)."""
        from pathlib import Path

        from gitrun.tracking import logged_models

        return logged_models.record_model(
            self.store,
            v.run_id(run_id),
            Path(local_dir),
            name,
            flavors=list(flavors),
            model_size_bytes=model_size_bytes,
            params=params,
            tags=tags,
            model_type=model_type,
            step=step,
        )

    def last_logged_model(self) -> ent.LoggedModel | None:
        """The model this process logged last (None if it logged none; a gitrun extra)."""
        from gitrun.tracking import logged_models

        return logged_models.last_logged_model(self.store)

    def get_logged_model(self, model_id: str) -> ent.LoggedModel:
        from gitrun.tracking import logged_models

        return logged_models.get_logged_model(self.store, logged_models.check_model_id(model_id))

    def search_logged_models(
        self,
        experiment_ids: Sequence[str] | None = None,
        filter_string: str | None = None,
        datasets: Any = None,
        max_results: int | None = None,
        order_by: Sequence[Any] | None = None,
        page_token: str | None = None,
    ) -> ent.PagedList[ent.LoggedModel]:
        """Logged models of the experiments' active runs matching a filter (``name``,
        ``params.x``, ``metrics.x``, ``tags.x``, ``source_run_id``), newest first."""
        from gitrun.tracking import logged_models

        ids = [str(e) for e in experiment_ids] if experiment_ids is not None else None
        found = logged_models.search(self.store, ids, filter_string, list(order_by or []), max_results)
        return ent.PagedList(found, None)

    def set_logged_model_tags(self, model_id: str, tags: dict[str, Any]) -> None:
        from gitrun.tracking import logged_models

        logged_models.set_tags(self.store, logged_models.check_model_id(model_id), tags)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        from gitrun.tracking import logged_models

        logged_models.set_tags(self.store, logged_models.check_model_id(model_id), {}, (key,))

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        model_type: str | None = None,
    ) -> ent.LoggedModel:
        """A PENDING model whose files are then logged to ``<name>/`` of ``source_run_id``
        (of a run made to hold it when None), then finalized; its id is minted now."""
        from gitrun.tracking import logged_models

        return logged_models.create_model(
            self.store,
            experiment_id,
            name,
            source_run_id=source_run_id,
            model_type=model_type,
            params=params,
            tags=tags,
        )

    def finalize_logged_model(
        self, model_id: str, status: str = ent.LoggedModelStatus.READY
    ) -> ent.LoggedModel:
        """READY: record the digest, flavors and size of the model's files (a model logged
        by ``log_model`` is READY already; finalizing it again is harmless); or FAILED."""
        from gitrun.tracking import logged_models

        return logged_models.finalize(self.store, logged_models.check_model_id(model_id), status)

    def log_model_params(self, model_id: str, params: dict[str, Any]) -> None:
        from gitrun.tracking import logged_models

        logged_models.log_params(self.store, logged_models.check_model_id(model_id), params)

    def run_logged_models(self, run_id: str) -> dict[str, ent.LoggedModel]:
        """The models a run logged, by name (a gitrun extra)."""
        from gitrun.tracking import logged_models

        return logged_models.run_entities(self.store, v.run_id(run_id))

    def code_work_tree(self) -> str | None:
        """The work tree whose code new runs snapshot (None outside a repository; a gitrun extra)."""
        from gitrun.tracking import run_code

        return run_code.work_tree(self.store)

    def restore_run_code(self, run_id: str, paths: Sequence[str], destination: str) -> list[Any]:
        """Write files of the run's code snapshot under ``destination`` (a gitrun extra)."""
        from gitrun.tracking import run_code

        return run_code.restore(self.store, v.run_id(run_id), list(paths), destination)

    def artifact_digest(self, run_id: str, path: str) -> str:
        """The content address of a file or folder a run logged at ``path`` (a gitrun extra)."""
        from gitrun.errors import ResourceDoesNotExist
        from gitrun.tracking.artifacts.records import read_entries

        entry = read_entries(self.store, v.run_id(run_id)).get(path.strip("/"))
        if entry is None:
            raise ResourceDoesNotExist(f"artifact {path!r} not found in run {run_id}")
        return str(entry.digest)

    # -- model registry (gitrun.tracking.registry, stored on refs/gitrun/registry) ----------------

    def create_registered_model(
        self, name: str, tags: dict[str, Any] | None = None, description: str | None = None, **_: Any
    ) -> Any:
        from gitrun.tracking import registry

        return registry.create_registered_model(self.store, name, tags, description)

    def get_registered_model(self, name: str) -> Any:
        from gitrun.tracking import registry

        return registry.get_registered_model(self.store, name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> ent.PagedList[Any]:
        from gitrun.tracking import registry, registry_search

        models = registry.list_registered_models(self.store)
        return ent.PagedList(
            registry_search.registered_models(models, filter_string, max_results, order_by), None
        )

    def rename_registered_model(self, name: str, new_name: str) -> Any:
        from gitrun.tracking import registry

        return registry.rename_registered_model(self.store, name, new_name)

    def update_registered_model(self, name: str, description: str | None = None) -> Any:
        from gitrun.tracking import registry

        return registry.update_registered_model(self.store, name, description)

    def delete_registered_model(self, name: str) -> None:
        from gitrun.tracking import registry

        registry.delete_registered_model(self.store, name)

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        from gitrun.tracking import registry

        registry.set_model_tag(self.store, name, key, value)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        from gitrun.tracking import registry

        registry.set_model_tag(self.store, name, key, None, delete=True)

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: dict[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int = 300,
        model_id: str | None = None,
    ) -> Any:
        """A new version of an existing registered model from a ``runs:/`` or ``models:/<id>`` source."""
        from gitrun.tracking import registry

        where = self._model_source(source, model_id)
        return registry.create_model_version(
            self.store,
            name,
            where["source"],
            run_id=run_id or where["run_id"],
            model_id=where["model_id"],
            model_digest=where["digest"],
            tags=tags,
            description=description,
            run_link=run_link,
        )

    def _model_source(self, uri: str, model_id: str | None = None) -> dict[str, Any]:
        """Where a model to register is: its ``runs:/`` source, run, logged model id and digest."""
        from gitrun.tracking.artifacts.uri import parse_runs_uri

        if uri.startswith("models:/m-"):
            model = self.get_logged_model(uri[len("models:/") :].strip("/"))
            return {
                "source": model.artifact_location,
                "run_id": model.source_run_id,
                "model_id": model.model_id,
                "digest": model.digest,
            }
        if not uri.startswith("runs:/"):
            raise InvalidParameterValue(
                f"cannot register {uri!r}: use runs:/<run_id>/<name> or models:/<model_id> (a logged model)"
            )
        run_id, path = parse_runs_uri(uri)
        if not path:
            raise InvalidParameterValue(f"{uri} names a run, not a model: use runs:/<run_id>/<name>")
        path = path.strip("/")
        digest = self.artifact_digest(run_id, path)
        logged = self.run_logged_models(run_id).get(path)
        return {
            "source": f"runs:/{run_id}/{path}",
            "run_id": run_id,
            "model_id": model_id or (logged.model_id if logged else None),
            "digest": digest,
        }

    def register_model(self, model_uri: str, name: str, tags: dict[str, Any] | None = None) -> Any:
        """Register the model at ``model_uri`` as a new version of ``name`` (created if needed)."""
        from gitrun.tracking import registry

        where = self._model_source(model_uri)
        return registry.create_model_version(
            self.store,
            name,
            where["source"],
            run_id=where["run_id"],
            model_id=where["model_id"],
            model_digest=where["digest"],
            tags=tags,
            create_model=True,
        )

    def get_model_version(self, name: str, version: Any) -> Any:
        from gitrun.tracking import registry

        return registry.get_model_version(self.store, name, version)

    def get_latest_versions(self, name: str, stages: Sequence[str] | None = None) -> list[Any]:
        """The newest version (per stage when ``stages`` is given) of ``name``."""
        from gitrun.tracking import registry

        found = registry.versions(self.store, name)
        if stages is None:
            return found[-1:]
        return [
            next(v for v in reversed(found) if v.current_stage == s)
            for s in stages
            if any(v.current_stage == s for v in found)
        ]

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> ent.PagedList[Any]:
        from gitrun.tracking import registry, registry_search

        found = registry_search.model_versions(
            registry.versions(self.store), filter_string, max_results, order_by
        )
        return ent.PagedList(found, None)

    def update_model_version(self, name: str, version: Any, description: str | None = None) -> Any:
        from gitrun.tracking import registry

        return registry.update_model_version(self.store, name, version, description=description)

    def transition_model_version_stage(
        self, name: str, version: Any, stage: str, archive_existing_versions: bool = False
    ) -> Any:
        """Deprecated in MLflow (use aliases); kept: sets ``current_stage``."""
        from gitrun.tracking import registry

        return registry.update_model_version(self.store, name, version, stage=stage)

    def delete_model_version(self, name: str, version: Any) -> None:
        from gitrun.tracking import registry

        registry.delete_model_version(self.store, name, version)

    def set_model_version_tag(
        self, name: str, version: Any = None, key: str = "", value: Any = None, stage: str | None = None
    ) -> None:
        from gitrun.tracking import registry

        registry.set_version_tag(self.store, name, version, key, value)

    def delete_model_version_tag(
        self, name: str, version: Any = None, key: str = "", stage: str | None = None
    ) -> None:
        from gitrun.tracking import registry

        registry.set_version_tag(self.store, name, version, key, None, delete=True)

    def set_registered_model_alias(self, name: str, alias: str, version: Any) -> None:
        from gitrun.tracking import registry

        registry.set_alias(self.store, name, alias, version)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        from gitrun.tracking import registry

        registry.delete_alias(self.store, name, alias)

    def get_model_version_by_alias(self, name: str, alias: str) -> Any:
        from gitrun.tracking import registry

        return registry.version_by_alias(self.store, name, alias)

    def get_model_version_download_uri(self, name: str, version: Any) -> str:
        return str(self.get_model_version(name, version).source)

    def registry_history(self) -> list[tuple[str, str, str]]:
        """Every registry change, newest first: ``(commit, author, message)`` (a gitrun extra)."""
        from gitrun.tracking import registry

        return registry.history(self.store)

    def resolve_model_uri(self, model_uri: str) -> str:
        """``models:/<model_id>`` (and registered ``models:/<name>/<version>``,
        ``models:/<name>@<alias>``) as the ``runs:/<run_id>/<name>`` URI holding the files."""
        from gitrun.tracking import model_uris

        return model_uris.resolve(self, model_uri)


_METRIC_FIELDS = operator.attrgetter("key", "value", "step", "timestamp")


def _clean_columns(metrics: Sequence[ent.Metric]) -> tuple[Sequence[Any], ...] | None:
    """Validated ``(keys, values, steps, timestamps)`` columns, or None when empty."""
    if not metrics:
        return None
    keys, values, steps, timestamps = zip(*map(_METRIC_FIELDS, metrics))
    return v.metric_columns(keys, values, steps, timestamps)


MlflowClient = Client
