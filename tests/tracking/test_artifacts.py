"""Artifacts through the tracking API: MLflow's semantics (reference §6), verified reads,
path validation, and what a run's record holds."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

import gitrun
from gitrun import MlflowClient
from gitrun.core.artifacts.digest import hash_bytes
from gitrun.core.records import layout
from gitrun.core.records.layout import ARTIFACTS_FILE
from gitrun.errors import CorruptObject, InvalidParameterValue, ResourceDoesNotExist
from gitrun.tracking.artifacts.stores import local_store_path
from tests.conftest import git

pytestmark = pytest.mark.usefixtures("in_repo")


def files_below(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def listing(run_id: str, path: str | None = None) -> list[tuple[str, bool, int | None]]:
    return [(f.path, f.is_dir, f.file_size) for f in MlflowClient().list_artifacts(run_id, path)]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A local folder to log: two files at the top, one in a subfolder."""
    root = tmp_path / "src"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"alpha")
    (root / "b.bin").write_bytes(bytes(range(256)))
    (root / "sub" / "c.txt").write_bytes(b"gamma")
    return root


def test_log_artifact_file_and_folder_paths_follow_mlflow(in_repo: Path, tree: Path) -> None:
    with gitrun.start_run() as run:
        gitrun.log_artifact(str(tree / "a.txt"))
        gitrun.log_artifact(tree / "b.bin", artifact_path="data/raw")
        gitrun.log_artifact(str(tree / "sub"), artifact_path="folders")  # a dir keeps its name
    rid = run.info.run_id
    assert listing(rid) == [("a.txt", False, 5), ("data", True, None), ("folders", True, None)]
    assert listing(rid, "data") == [("data/raw", True, None)]
    assert listing(rid, "data/raw/") == [("data/raw/b.bin", False, 256)]
    assert listing(rid, "folders/sub") == [("folders/sub/c.txt", False, 5)]
    assert listing(rid, "a.txt") == []  # a file lists as nothing (MLflow)
    assert listing(rid, "missing") == []


def test_log_artifacts_adds_to_a_folder_and_overwrites_same_paths(in_repo: Path, tree: Path) -> None:
    with gitrun.start_run() as run:
        gitrun.log_artifacts(str(tree), artifact_path="checkpoints")
        (tree / "a.txt").write_bytes(b"ALPHA, again")
        (tree / "b.bin").unlink()
        (tree / "d.txt").write_bytes(b"delta")
        gitrun.log_artifacts(str(tree), artifact_path="checkpoints")
    rid = run.info.run_id
    out = Path(MlflowClient().download_artifacts(rid, "checkpoints", str(in_repo / "dl")))
    # MLflow copies into the folder: b.bin (not in the second call) is still there.
    assert files_below(out) == {
        "a.txt": b"ALPHA, again",
        "b.bin": bytes(range(256)),
        "d.txt": b"delta",
        "sub/c.txt": b"gamma",
    }
    # The folder is one directory entry in the record (a manifest), not one entry per file.
    entries = gitrun.MlflowClient().store.runs.read_state(rid, maps=[ARTIFACTS_FILE]).maps[ARTIFACTS_FILE]
    assert list(entries) == ["checkpoints"]
    assert entries["checkpoints"]["type"] == "dir" and entries["checkpoints"]["files"] == 4


def test_log_artifacts_at_the_root_and_files_inside_logged_folders(in_repo: Path, tree: Path) -> None:
    client = MlflowClient()
    with gitrun.start_run() as run:
        gitrun.log_artifacts(str(tree))
        gitrun.log_text("override", "sub/c.txt")  # a file inside a logged folder overrides it
        gitrun.log_text("new", "sub/deeper/e.txt")
    rid = run.info.run_id
    assert listing(rid) == [("a.txt", False, 5), ("b.bin", False, 256), ("sub", True, None)]
    assert listing(rid, "sub") == [("sub/c.txt", False, 8), ("sub/deeper", True, None)]
    out = Path(client.download_artifacts(rid, "", str(in_repo / "all")))
    assert out == in_repo / "all"
    assert files_below(out)["sub/c.txt"] == b"override"
    assert files_below(out)["sub/deeper/e.txt"] == b"new"


def test_writing_a_path_again_overwrites_and_a_file_replaces_a_folder(in_repo: Path, tree: Path) -> None:
    with gitrun.start_run() as run:
        gitrun.log_text("one", "notes.txt")
        gitrun.log_text("two", "notes.txt")
        gitrun.log_artifacts(str(tree), artifact_path="x")
        gitrun.log_text("now a file", "x")
        gitrun.log_text("leaf", "y")
        gitrun.log_text("under", "y/z.txt")  # a folder replaces the file "y"
    rid = run.info.run_id
    assert gitrun.artifacts.load_text(f"runs:/{rid}/notes.txt") == "two"
    assert listing(rid) == [("notes.txt", False, 3), ("x", False, 10), ("y", True, None)]


def test_record_holds_digests_and_sizes(in_repo: Path, tree: Path) -> None:
    with gitrun.start_run() as run:
        gitrun.log_artifact(str(tree / "a.txt"), artifact_path="files")
        gitrun.log_artifacts(str(tree / "sub"), artifact_path="folder")
    gitrun.flush()
    blob = git(in_repo, "show", f"refs/gitrun/records:{layout.run_dir(run.info.run_id)}/{ARTIFACTS_FILE}")
    import yaml

    record = yaml.safe_load(blob)
    assert record["files/a.txt"] == {"digest": str(hash_bytes(b"alpha")), "size": 5}
    assert record["folder"]["type"] == "dir" and record["folder"]["size"] == 5
    assert record["folder"]["files"] == 1
    # Nothing in the work tree; objects live in the git directory.
    assert git(in_repo, "status", "--porcelain").strip() == ""
    assert Path(local_store_path_for(in_repo), "objects", "sha256").is_dir()


def local_store_path_for(repo: Path) -> str:
    from gitrun.core.git.repo import Repository

    found = Repository.at(str(repo))
    assert found is not None
    return local_store_path(found)


def test_text_dict_and_stream_formats_match_mlflow(in_repo: Path) -> None:
    data = {"b": 1, "a": {"nested": [1, 2]}, "when": Path("/x")}
    with gitrun.start_run() as run:
        gitrun.log_text("héllo\n", "notes/readme.md")
        gitrun.log_dict(data, "cfg.json")
        gitrun.log_dict({"b": 1, "a": [1, 2]}, "cfg.yaml")
        gitrun.log_dict({"k": "v"}, "cfg")  # no extension: JSON
        gitrun.log_stream(io.BytesIO(b"\x00\x01" * 1000), "bin/stream.dat")
    uri = f"runs:/{run.info.run_id}"
    assert gitrun.artifacts.load_text(f"{uri}/notes/readme.md") == "héllo\n"
    assert gitrun.artifacts.load_text(f"{uri}/cfg.json") == json.dumps(data, indent=2, default=str)
    assert gitrun.artifacts.load_text(f"{uri}/cfg.yaml") == "a:\n- 1\n- 2\nb: 1\n"
    assert gitrun.artifacts.load_dict(f"{uri}/cfg.yaml") == {"a": [1, 2], "b": 1}
    assert gitrun.artifacts.load_dict(f"{uri}/cfg") == {"k": "v"}
    with pytest.raises(InvalidParameterValue, match="JSON"):
        gitrun.artifacts.load_dict(f"{uri}/notes/readme.md")
    assert listing(run.info.run_id, "bin") == [("bin/stream.dat", False, 2000)]


def test_logging_with_no_active_run_starts_one_and_uris_are_runs_uris(in_repo: Path) -> None:
    gitrun.log_text("x", "a.txt")
    active = gitrun.active_run()
    assert active is not None
    rid = active.info.run_id
    assert active.info.artifact_uri == f"runs:/{rid}"
    assert gitrun.get_artifact_uri() == f"runs:/{rid}"
    assert gitrun.get_artifact_uri("a.txt") == f"runs:/{rid}/a.txt"
    gitrun.end_run()
    with pytest.warns(UserWarning, match="no active run"):
        uri = gitrun.get_artifact_uri("m")
    assert uri.endswith("/m") and gitrun.active_run() is not None


def test_download_variants_and_missing_paths(in_repo: Path, tree: Path) -> None:
    client = MlflowClient()
    with gitrun.start_run() as run:
        gitrun.log_artifacts(str(tree), artifact_path="t")
    rid = run.info.run_id
    tmp = Path(client.download_artifacts(rid, "t/a.txt"))  # dst None: a new temp folder
    assert tmp.read_bytes() == b"alpha" and tmp.as_posix().endswith("/t/a.txt")
    dst = in_repo / "new" / "folder"  # created if missing
    got = gitrun.artifacts.download_artifacts(artifact_uri=f"runs:/{rid}/t/sub", dst_path=str(dst))
    assert Path(got) == dst / "t" / "sub" and (dst / "t" / "sub" / "c.txt").read_bytes() == b"gamma"
    got = gitrun.artifacts.download_artifacts(run_id=rid, artifact_path="t/b.bin", dst_path=dst)
    assert Path(got).read_bytes() == bytes(range(256))
    with pytest.raises(ResourceDoesNotExist, match="not found"):
        client.download_artifacts(rid, "t/nope", str(dst))
    with pytest.raises(ResourceDoesNotExist):
        client.list_artifacts("0" * 32)
    with pytest.raises(InvalidParameterValue, match="Exactly one"):
        gitrun.artifacts.download_artifacts(artifact_uri=f"runs:/{rid}", run_id=rid)
    with pytest.raises(InvalidParameterValue, match="must not be"):
        gitrun.artifacts.download_artifacts(artifact_uri=f"runs:/{rid}", artifact_path="t")
    with pytest.raises(InvalidParameterValue, match="runs:/"):
        gitrun.artifacts.download_artifacts(artifact_uri="s3://bucket/x")
    with pytest.raises(InvalidParameterValue, match="names no run"):
        gitrun.artifacts.download_artifacts(artifact_uri="runs:/")
    assert [f.path for f in gitrun.artifacts.list_artifacts(f"runs:/{rid}/t")] == [
        "t/a.txt",
        "t/b.bin",
        "t/sub",
    ]


@pytest.mark.parametrize(
    "call",
    [
        lambda src, rid: gitrun.log_artifact(str(src), artifact_path="../x"),
        lambda src, rid: gitrun.log_artifact(str(src), artifact_path="/etc"),
        lambda src, rid: gitrun.log_artifact(str(src), artifact_path="a/../../x"),
        lambda src, rid: gitrun.log_artifacts(str(src.parent), artifact_path="../up"),
        lambda src, rid: gitrun.log_text("x", "/etc/x"),
        lambda src, rid: gitrun.log_text("x", "../x"),
        lambda src, rid: gitrun.log_text("x", "a//b"),
        lambda src, rid: gitrun.log_dict({}, "C:/x.json"),
        lambda src, rid: gitrun.log_image(_pixels(), "../img.png"),
        lambda src, rid: gitrun.log_stream(io.BytesIO(b"x"), "a/./b"),
        lambda src, rid: MlflowClient().log_artifact(rid, str(src), "..\\x"),
        lambda src, rid: MlflowClient().download_artifacts(rid, "../x", "out"),
        lambda src, rid: gitrun.artifacts.download_artifacts(f"runs:/{rid}/../../etc/passwd", dst_path="out"),
        lambda src, rid: gitrun.artifacts.load_text(f"runs:/{rid}/../x"),
    ],
)
def test_path_traversal_is_refused_and_nothing_is_written(
    in_repo: Path, tmp_path: Path, call: object
) -> None:
    src = tmp_path / "payload" / "f.txt"
    src.parent.mkdir()
    src.write_text("payload")
    with gitrun.start_run() as run:
        gitrun.log_text("keep", "kept.txt")
        before = listing(run.info.run_id)
        objects = _objects(in_repo)
        with pytest.raises(InvalidParameterValue, match="invalid artifact path"):
            call(src, run.info.run_id)  # type: ignore[operator]
        assert listing(run.info.run_id) == before
        assert _objects(in_repo) == objects
    assert not (in_repo / "out").exists() and not (tmp_path / "x").exists()


def _objects(repo: Path) -> set[str]:
    root = Path(local_store_path_for(repo)) / "objects"
    return {p.name for p in root.rglob("*") if p.is_file()}


def test_download_refuses_to_escape_through_a_symlink(in_repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dst = in_repo / "dst"
    dst.mkdir()
    (dst / "link").symlink_to(outside)
    with gitrun.start_run() as run:
        gitrun.log_text("secret", "link/x.txt")
    with pytest.raises(InvalidParameterValue, match="outside"):
        MlflowClient().download_artifacts(run.info.run_id, "link/x.txt", str(dst))
    assert list(outside.iterdir()) == []


def test_a_corrupt_object_fails_loudly_and_writes_nothing(in_repo: Path, tree: Path) -> None:
    with gitrun.start_run() as run:
        gitrun.log_artifacts(str(tree), artifact_path="t")
    digest = hash_bytes(b"gamma")
    obj = Path(local_store_path_for(in_repo), "objects", "sha256", digest.hexdigest[:2], digest.hexdigest[2:])
    obj.chmod(0o644)
    obj.write_bytes(b"gammX")
    dst = in_repo / "dst"
    with pytest.raises(CorruptObject, match=rf"{digest}.*corrupt") as caught:
        MlflowClient().download_artifacts(run.info.run_id, "t", str(dst))
    assert local_store_path_for(in_repo) in str(caught.value)
    assert not dst.exists()
    with pytest.raises(CorruptObject):
        gitrun.artifacts.load_text(f"runs:/{run.info.run_id}/t/sub/c.txt")
    dst.mkdir()
    (dst / "t").mkdir()
    with pytest.raises(CorruptObject):
        MlflowClient().download_artifacts(run.info.run_id, "t", str(dst))
    assert files_below(dst) == {}


def test_artifacts_of_a_finished_run_and_of_another_process_are_readable(in_repo: Path, tree: Path) -> None:
    client = MlflowClient()
    run = client.create_run("0")
    client.log_artifact(run.info.run_id, str(tree / "a.txt"))
    client.set_terminated(run.info.run_id)
    client.log_artifact(run.info.run_id, str(tree / "b.bin"))  # logging into a FINISHED run works
    gitrun.flush()
    import subprocess
    import sys

    code = (
        "import gitrun, sys; c = gitrun.MlflowClient(); "
        "print(sorted(f.path for f in c.list_artifacts(sys.argv[1])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, run.info.run_id], cwd=in_repo, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "['a.txt', 'b.bin']"


def test_deleted_runs_refuse_artifacts(in_repo: Path, tree: Path) -> None:
    client = MlflowClient()
    run = client.create_run("0")
    client.delete_run(run.info.run_id)
    with pytest.raises(InvalidParameterValue, match="deleted"):
        client.log_artifact(run.info.run_id, str(tree / "a.txt"))
    with pytest.raises(InvalidParameterValue, match="no such file"):
        client.log_artifact(client.create_run("0").info.run_id, str(tree / "nope"))


def _pixels() -> object:
    import numpy as np

    return np.zeros((4, 6, 3), dtype=np.uint8)


def test_log_image_arrays_pil_and_key_mode(in_repo: Path) -> None:
    np = pytest.importorskip("numpy")
    image_module = pytest.importorskip("PIL.Image")
    with gitrun.start_run() as run:
        gitrun.log_image(np.full((8, 10), 0.5), "img/gray.png")
        gitrun.log_image(np.ones((5, 5, 1), dtype=bool), "img/mask.png")
        gitrun.log_image(image_module.new("RGB", (300, 100), "red"), "img/pil.jpg")
        with pytest.warns(UserWarning, match="out of acceptable range"):
            gitrun.log_image(np.array([[0.0, 2.0]]), "img/scaled.png")
        gitrun.log_image(np.zeros((300, 400, 4), dtype=np.uint8), key="train/sample", step=3, timestamp=1000)
        with pytest.raises(ValueError, match="out of acceptable range"):
            gitrun.log_image(np.array([[300]]), "bad.png")
        with pytest.raises(ValueError, match="2D or 3D"):
            gitrun.log_image(np.zeros((2, 2, 2, 2)), "bad.png")
        with pytest.raises(ValueError, match="channel"):
            gitrun.log_image(np.zeros((2, 2, 2)), "bad.png")
        with pytest.raises(TypeError, match="exactly one"):
            gitrun.log_image(np.zeros((2, 2)))
        with pytest.raises(TypeError, match="conjunction"):
            gitrun.log_image(np.zeros((2, 2)), "x.png", key="k")
        with pytest.raises(TypeError, match="Unsupported image"):
            gitrun.log_image("not an image", "x.png")
        with pytest.raises(ValueError, match="key"):
            gitrun.log_image(np.zeros((2, 2)), key="bad:key")
    rid = run.info.run_id
    gray = gitrun.artifacts.load_image(f"runs:/{rid}/img/gray.png")
    assert gray.size == (10, 8) and gray.getpixel((0, 0)) == 127
    assert gitrun.artifacts.load_image(f"runs:/{rid}/img/pil.jpg").format == "JPEG"
    names = [f.path for f in MlflowClient().list_artifacts(rid, "images")]
    assert len(names) == 2
    [png] = [n for n in names if n.endswith(".png")]
    stem = png.removesuffix(".png")
    assert stem.startswith("images/train~sample+step+3+timestamp+1000+")
    assert f"{stem}+compressed.webp" in names
    thumbnail = gitrun.artifacts.load_image(f"runs:/{rid}/{stem}+compressed.webp")
    assert thumbnail.size == (256, 192)
    assert gitrun.get_run(rid).data.tags["mlflow.loggedImages"] == "True"


def test_log_figure_matplotlib_and_unsupported_objects(in_repo: Path) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [2, 3])
    with gitrun.start_run() as run:
        gitrun.log_figure(fig, "plots/line.png")
        gitrun.log_figure(fig, "plots/line.svg", save_kwargs={"transparent": True})
        with pytest.raises(TypeError, match="Unsupported figure"):
            gitrun.log_figure(object(), "x.png")
    plt.close(fig)
    data = gitrun.artifacts.load_text(f"runs:/{run.info.run_id}/plots/line.svg")
    assert "<svg" in data
    png = Path(MlflowClient().download_artifacts(run.info.run_id, "plots/line.png", "out")).read_bytes()
    assert png.startswith(b"\x89PNG")


def test_two_processes_logging_into_one_run_keep_both(in_repo: Path) -> None:
    import subprocess
    import sys

    with gitrun.start_run() as run:
        gitrun.log_text("parent", "parent.txt")
        gitrun.flush()
        code = "import gitrun, sys; gitrun.MlflowClient().log_text(sys.argv[1], 'child', 'child.txt')"
        subprocess.run([sys.executable, "-c", code, run.info.run_id], cwd=in_repo, check=True)
        gitrun.log_text("later", "later.txt")
    assert [p for p, _, _ in listing(run.info.run_id)] == ["child.txt", "later.txt", "parent.txt"]


def test_import_gitrun_loads_no_heavy_module() -> None:
    import subprocess
    import sys

    code = (
        "import sys, gitrun, gitrun.artifacts; "
        "print([m for m in ('fsspec', 'numpy', 'PIL', 'matplotlib', 'yaml', 's3fs') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert os.environ.get("GITRUN_ARTIFACT_STORE") is None
