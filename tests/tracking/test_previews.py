"""Artifact previews (gitrun.tracking.artifacts.previews): kinds, limits, verification."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import gitrun
from gitrun.core.artifacts.layout import object_key
from gitrun.errors import CorruptObject, InvalidParameterValue, ResourceDoesNotExist
from gitrun.tracking.artifacts import previews
from gitrun.tracking.artifacts.stores import stores_for
from gitrun.tracking.client import Client


@pytest.fixture
def run_id(in_repo: Path, tmp_path: Path) -> str:
    files = tmp_path / "files"
    (files / "m").mkdir(parents=True)
    (files / "a.csv").write_text("x,y\n" + "".join(f"{i},{i * i}\n" for i in range(500)))
    (files / "b.tsv").write_text("x\ty\n1\t2\n")
    (files / "log.txt").write_text("é" * (previews.PREVIEW_BYTES // 2 + 10))  # 2 bytes each: over the limit
    (files / "pic.jpg").write_bytes(b"\xff\xd8\xff" + bytes(100))
    (files / "vector.svg").write_text("<svg onload='alert(1)'/>")
    (files / "m" / "MLmodel").write_text("flavors: {}\n")
    (files / "raw.bin").write_bytes(bytes(range(256)))
    with gitrun.start_run() as run:
        gitrun.log_artifacts(str(files))
    return run.info.run_id


def test_kinds(run_id: str) -> None:
    store = Client().store
    table = previews.preview(store, run_id, "a.csv")
    assert table.kind == "table" and len(table.rows) == previews.TABLE_ROWS and table.truncated
    assert table.rows[:2] == [["x", "y"], ["0", "0"]]
    assert previews.preview(store, run_id, "b.tsv").rows == [["x", "y"], ["1", "2"]]
    image = previews.preview(store, run_id, "pic.jpg")
    assert (image.kind, image.media_type) == ("image", "image/jpeg")
    svg = previews.preview(store, run_id, "vector.svg")
    assert svg.kind == "text" and svg.media_type is None  # an SVG is never served as an image
    model = previews.preview(store, run_id, "m/MLmodel")
    assert (model.kind, model.language, model.text) == ("model", "yaml", "flavors: {}\n")
    assert previews.preview(store, run_id, "raw.bin").kind == "binary"
    assert previews.model_folders(previews.list_files(store, run_id)) == ["m"]


def test_a_large_text_shows_its_beginning_unverified(run_id: str) -> None:
    text = previews.preview(Client().store, run_id, "log.txt")
    assert text.kind == "text" and text.truncated and not text.verified
    assert text.text is not None and set(text.text) == {"é"} and len(text.text) == previews.PREVIEW_BYTES // 2


def test_paths_cannot_leave_the_run(run_id: str) -> None:
    store = Client().store
    with pytest.raises(InvalidParameterValue):
        previews.preview(store, run_id, "../x")
    with pytest.raises(InvalidParameterValue):
        previews.artifact_file(store, run_id, "/etc/passwd")
    with pytest.raises(ResourceDoesNotExist):
        previews.artifact_file(store, run_id, "m")  # a folder


def test_streams_are_verified(run_id: str) -> None:
    store = Client().store
    file = previews.artifact_file(store, run_id, "raw.bin")
    assert b"".join(previews.open_stream(store, file, block=64)) == bytes(range(256))
    path = stores_for(store).local.backend.path(object_key(file.digest))
    os.chmod(path, 0o644)
    path.write_bytes(bytes(255) + b"x")
    received = []
    with pytest.raises(CorruptObject):
        for block in previews.open_stream(store, file, block=64):
            received.append(block)
    assert len(b"".join(received)) < 256  # the last block is never handed out
