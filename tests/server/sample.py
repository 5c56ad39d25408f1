"""A small, varied store for the UI's tests: experiments, a sweep of nested runs,
long series, artifacts of every previewable kind, a dirty code snapshot."""

from __future__ import annotations

import json
import math
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import gitrun
from gitrun.tracking.client import Client

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    """A real PNG image (red pixels), made without Pillow."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@dataclass
class Sample:
    experiment_id: str
    other_experiment_id: str
    parent: str
    children: list[str] = field(default_factory=list)
    best_child: str = ""
    plain: list[str] = field(default_factory=list)
    hostile: str = ""
    artifacts_run: str = ""
    png: bytes = b""


def make_sample(repo: Path, tmp: Path) -> Sample:
    """Record the sample runs into ``repo`` (a git work tree, which is the cwd)."""
    (repo / "train.py").write_text("print('train')\nlr = 0.1  # uncommitted change\n")
    (repo / "model.py").write_text("class Net:\n    pass\n")
    gitrun.set_tracking_uri(str(repo))
    client = Client(str(repo))
    exp = client.create_experiment("sweep-exp")
    other = client.create_experiment("other-exp")
    sample = Sample(exp, other, parent="")
    gitrun.set_experiment(experiment_id=exp)
    with gitrun.start_run(run_name="sweep-parent") as parent:
        sample.parent = parent.info.run_id
        gitrun.log_param("search", "grid")
        for i, lr in enumerate((0.1, 0.01, 0.001)):
            with gitrun.start_run(run_name=f"trial-{i}", nested=True) as child:
                gitrun.log_params({"lr": lr, "optimizer": "adam"})
                loss = [1.0 / (1 + k * lr * 10) + 0.01 * i for k in range(50)]
                for step, value in enumerate(loss):
                    gitrun.log_metric("val_loss", value, step=step)
                gitrun.log_metric("accuracy", 1 - loss[-1], step=49)
                sample.children.append(child.info.run_id)
    # The lowest final val_loss: lr 0.1, trial 0.
    sample.best_child = sample.children[0]
    for i in range(4):
        with gitrun.start_run(run_name=f"plain-{i}") as run:
            gitrun.log_params({"lr": 0.5 if i % 2 else 0.05, "optimizer": "sgd", "layers": str(i)})
            for step in range(20):
                gitrun.log_metric("val_loss", math.exp(-step / (5 + i)), step=step)
                gitrun.log_metric("accuracy", 1 - math.exp(-step / (5 + i)), step=step)
            sample.plain.append(run.info.run_id)
    with gitrun.start_run(run_name=HOSTILE) as run:
        gitrun.log_param("payload", HOSTILE)
        gitrun.set_tag("note", HOSTILE)
        gitrun.log_metric("val_loss", 0.5, step=0)
        sample.hostile = run.info.run_id
    files = tmp / "artifacts"
    (files / "model").mkdir(parents=True)
    sample.png = png_bytes()
    (files / "plot.png").write_bytes(sample.png)
    (files / "train.log").write_text("epoch 1 loss 0.5\nepoch 2 loss 0.25\n" + HOSTILE + "\n")
    (files / "config.yaml").write_text("lr: 0.1\nlayers: [64, 32]\n")
    (files / "metrics.json").write_text(json.dumps({"auc": 0.9}))
    (files / "table.csv").write_text("epoch,loss\n1,0.5\n2,0.25\n")
    (files / "model" / "MLmodel").write_text("flavors:\n  sklearn: {pickled_model: model.pkl}\n")
    (files / "model" / "model.pkl").write_bytes(bytes(range(256)) * 4)
    # Later code: this run's snapshot differs from the others' in train.py.
    (repo / "train.py").write_text("print('train')\nlr = 0.2  # tuned later\n")
    with gitrun.start_run(run_name="with-artifacts", experiment_id=other) as run:
        gitrun.log_param("lr", 0.2)
        gitrun.log_artifacts(str(files))
        gitrun.log_input(str(files / "table.csv"))
        gitrun.log_metric("val_loss", 0.3, step=0)
        sample.artifacts_run = run.info.run_id
    gitrun.flush()
    os.environ.pop("GITRUN_TRACKING_URI", None)
    return sample
