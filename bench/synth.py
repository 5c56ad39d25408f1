"""Synthetic runs at scale, written straight into gitrun's record store.

Each run has 10 params, 10 metrics with a short series each and 5 tags, stored in
exactly the files :class:`~gitrun.core.records.writer.RecordWriter` produces
(``run.yaml`` as ``TrackingStore.create_run`` writes it and ``end_run`` finishes it,
``params.yaml``, ``tags.yaml``, ``metrics.yaml``, ``metrics/<key>/<chunk>``,
``environment.yaml``).  Runs are committed ~1000 per commit through
``RecordStore.commit``; objects go into one pack per commit instead of loose files
(a loose object costs ~80 µs here, and 100k runs are ~2.7M objects).

Runs are deterministic: run ``i`` of seed ``s`` is always the same, so readers can
regenerate what they expect (see :func:`verify`).

    python bench/synth.py PATH --runs 100000 [--verify 5] [--no-gc]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import struct
import subprocess
import sys
import time
import uuid
import zlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass

from gitrun.core.git.objects import MODE_BLOB, MODE_TREE, TYPE_NAMES, Oid, TreeEntry, hash_object
from gitrun.core.git.odb import ObjectDatabase
from gitrun.core.git.repo import Repository
from gitrun.core.git.trees import apply_edits
from gitrun.core.records import layout, series, yamlfmt
from gitrun.core.records.store import Edit, RecordStore

POINTS = 10
PARAM_KEYS = (
    "lr",
    "batch_size",
    "epochs",
    "optimizer",
    "dropout",
    "layers",
    "hidden",
    "seed",
    "weight_decay",
    "model",
)
METRIC_KEYS = (
    "loss",
    "val_loss",
    "accuracy",
    "val_accuracy",
    "f1",
    "precision",
    "recall",
    "auc",
    "train/lr",
    "epoch_time",
)
START_MS = 1_700_000_000_000
ENVIRONMENT = {
    "python": "3.11.7",
    "platform": "Linux-x86_64",
    "packages": {"numpy": "2.1.0", "torch": "2.5.0"},
}


@dataclass(frozen=True)
class SynthRun:
    run_id: str
    info: dict[str, object]
    params: dict[str, str]
    tags: dict[str, str]
    series: dict[str, tuple[array[int], array[int], array[float]]]
    chunks: dict[str, str]  # metric key -> chunk name

    def latest(self) -> dict[str, dict[str, object]]:
        out: dict[str, dict[str, object]] = {}
        for key, (steps, stamps, values) in self.series.items():
            step, ts, value = max(zip(steps, stamps, values, strict=True))
            out[key] = {"step": step, "timestamp": ts, "value": value}
        return out


def make_run(index: int, seed: int = 0, experiment_id: str = "0") -> SynthRun:
    rng = random.Random(f"{seed}:{index}")
    run_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
    start = START_MS + index * 60_000
    name = f"synth-{index}"
    info: dict[str, object] = {
        "schema_version": layout.SCHEMA_VERSION,
        "run_id": run_id,
        "run_name": name,
        "experiment_id": experiment_id,
        "status": "FINISHED",
        "lifecycle_stage": "active",
        "start_time": start,
        "end_time": start + 50_000,
        "user_id": "bench",
        "artifact_uri": f"runs:/{run_id}",
        "parent_run_id": None,
        "source": {
            "name": "train.py",
            "type": "LOCAL",
            "entry_point": "/bench/train.py",
            "argv": ["train.py", f"--trial={index}"],
            "cwd": "/bench",
            "host": "bench-host",
            "pid": 1000 + index % 30000,
        },
    }
    params = {
        "lr": repr(rng.choice((1e-4, 3e-4, 1e-3, 3e-3, 1e-2))),
        "batch_size": str(rng.choice((16, 32, 64, 128))),
        "epochs": str(rng.randint(1, 100)),
        "optimizer": rng.choice(("adam", "sgd", "adamw")),
        "dropout": f"{rng.random() * 0.5:.3f}",
        "layers": str(rng.randint(1, 12)),
        "hidden": str(rng.choice((64, 128, 256, 512))),
        "seed": str(rng.randint(0, 2**31)),
        "weight_decay": repr(rng.choice((0.0, 1e-5, 1e-4))),
        "model": rng.choice(("mlp", "cnn", "rnn", "vit")),
    }
    tags = {
        "mlflow.runName": name,
        "mlflow.user": "bench",
        "mlflow.source.name": "train.py",
        "mlflow.source.type": "LOCAL",
        "team": rng.choice(("vision", "nlp", "speech")),
    }
    writer = f"{rng.getrandbits(32):08x}"
    data: dict[str, tuple[array[int], array[int], array[float]]] = {}
    chunks: dict[str, str] = {}
    for k, key in enumerate(METRIC_KEYS):
        steps = array("q", range(POINTS))
        stamps = array("q", (start + 1000 * s + k for s in range(POINTS)))
        values = array("d", (rng.random() for _ in range(POINTS)))
        data[key] = (steps, stamps, values)
        chunks[key] = f"{start * 1_000_000 + k:016x}-{writer}"
    return SynthRun(run_id, info, params, tags, data, chunks)


def run_tree(repo: Repository, run: SynthRun, environment_blob: Oid) -> Oid:
    """Write the run's objects; returns its tree (what ``runs/a/b/c/<id>`` holds)."""
    files = {
        layout.RUN_FILE: repo.write_blob(yamlfmt.dump(run.info).encode()),
        layout.PARAMS_FILE: repo.write_blob(yamlfmt.dump(run.params).encode()),
        layout.TAGS_FILE: repo.write_blob(yamlfmt.dump(run.tags).encode()),
        layout.METRICS_FILE: repo.write_blob(yamlfmt.dump(run.latest()).encode()),
        layout.ENVIRONMENT_FILE: environment_blob,
    }
    for key, (steps, stamps, values) in run.series.items():
        chunk = series.encode_chunk(key, steps, stamps, values)
        files[f"{layout.METRICS_DIR}/{layout.encode_key(key)}/{run.chunks[key]}"] = repo.write_blob(chunk)
    edits: dict[str, TreeEntry | None] = {
        path: TreeEntry(path.rsplit("/", 1)[-1], MODE_BLOB, oid) for path, oid in files.items()
    }
    tree = apply_edits(repo, None, edits)
    assert tree is not None
    return tree


def environment_blob(repo: Repository) -> Oid:
    return repo.write_blob(yamlfmt.dump(ENVIRONMENT).encode())


# -- packed writes ---------------------------------------------------------------------------------

_TYPE_NUMBERS = {name: i + 1 for i, name in enumerate(TYPE_NAMES)}


class PackingDatabase(ObjectDatabase):
    """Writes are held in memory and written as one pack (+ v2 index) by :meth:`flush`."""

    def __init__(self, objects_dir: str, algorithm: str = "sha1") -> None:
        super().__init__(objects_dir, algorithm)
        self._pending: dict[Oid, tuple[bytes, bytes]] = {}

    def write(self, kind: bytes, data: bytes) -> Oid:
        oid, _ = hash_object(kind, data, self.algorithm)
        self._pending.setdefault(oid, (kind, data))
        return oid

    def read(self, oid: Oid) -> tuple[bytes, bytes]:
        hit = self._pending.get(oid)
        return hit if hit is not None else super().read(oid)

    def contains(self, oid: Oid) -> bool:
        return oid in self._pending or super().contains(oid)

    def missing(self, oids: Iterable[Oid]) -> list[Oid]:
        # The record store checks a commit's objects on disk before moving the ref.
        self.flush()
        return super().missing(oids)

    def flush(self) -> None:
        if not self._pending:
            return
        body = bytearray(b"PACK" + struct.pack(">II", 2, len(self._pending)))
        index: list[tuple[bytes, int, int]] = []
        for oid, (kind, data) in self._pending.items():
            size = len(data)
            header = bytearray([(_TYPE_NUMBERS[kind] << 4) | (size & 0x0F)])
            size >>= 4
            while size:
                header[-1] |= 0x80
                header.append(size & 0x7F)
                size >>= 7
            packed = bytes(header) + zlib.compress(data, 1)
            index.append((bytes.fromhex(oid), zlib.crc32(packed), len(body)))
            body += packed
        if len(body) >= 2**31:
            raise ValueError("pack too large for a v2 index without large offsets")
        checksum = hashlib.new(self.algorithm, body).digest()
        body += checksum
        index.sort()
        fanout = [0] * 256
        for raw, _, _ in index:
            fanout[raw[0]] += 1
        for i in range(1, 256):
            fanout[i] += fanout[i - 1]
        idx = bytearray(b"\377tOc" + struct.pack(">I", 2) + struct.pack(">256I", *fanout))
        idx += b"".join(raw for raw, _, _ in index)
        idx += b"".join(struct.pack(">I", crc) for _, crc, _ in index)
        idx += b"".join(struct.pack(">I", off) for _, _, off in index)
        idx += checksum
        idx += hashlib.new(self.algorithm, idx).digest()
        base = os.path.join(self.objects_dir, "pack", f"pack-{checksum.hex()}")
        os.makedirs(os.path.dirname(base), exist_ok=True)
        for suffix, content in ((".pack", body), (".idx", idx)):  # the index last: readers look for it
            with open(base + suffix + ".tmp", "wb") as fh:
                fh.write(content)
            os.replace(base + suffix + ".tmp", base + suffix)
        self._pending.clear()


def packing(repo: Repository) -> PackingDatabase:
    """Make ``repo`` write packs instead of loose objects; returns the database."""
    odb = PackingDatabase(repo.odb.objects_dir, repo.odb.algorithm)
    repo.odb = odb
    return odb


# -- generating ------------------------------------------------------------------------------------


def ensure_default_experiment(path: str) -> None:
    """Let gitrun itself write ``experiments/0.yaml`` (and the store's format file)."""
    import gitrun
    from gitrun.tracking.session import close_all

    gitrun.MlflowClient(path).get_experiment("0")
    close_all()


def generate(
    path: str, runs: int, *, start: int = 0, seed: int = 0, batch: int = 1000, progress: bool = True
) -> list[str]:
    """Commit runs ``start .. start+runs-1`` into the repository at ``path``; returns their ids."""
    ensure_default_experiment(path)
    repo = Repository.at(path)
    if repo is None:
        raise SystemExit(f"{path} is not a git repository")
    odb = packing(repo)
    store = RecordStore(repo)
    env = environment_blob(repo)
    ids: list[str] = []
    began = time.perf_counter()
    for first in range(start, start + runs, batch):
        edits: dict[str, Edit] = {}
        for index in range(first, min(first + batch, start + runs)):
            run = make_run(index, seed)
            edits[layout.run_dir(run.run_id)] = Edit(run_tree(repo, run, env), MODE_TREE, None)
            ids.append(run.run_id)
        store.commit(edits, f"gitrun: record {len(edits)} run(s) (synthetic)")
        if progress:
            done = len(ids)
            rate = done / (time.perf_counter() - began)
            print(f"\r  synth: {done}/{runs} runs ({rate:,.0f} runs/s)", end="", file=sys.stderr, flush=True)
    odb.flush()
    if progress:
        print(file=sys.stderr)
    return ids


def gc(path: str) -> None:
    """Consolidate the per-batch packs as ``git gc`` would (also packs refs)."""
    subprocess.run(["git", "-C", path, "gc", "--quiet", "--prune=now"], check=True)


def verify(path: str, indexes: list[int], seed: int = 0) -> None:
    """Read runs back through the public client and compare with what was generated."""
    import gitrun
    from gitrun.tracking.session import close_all

    client = gitrun.MlflowClient(path)
    for index in indexes:
        want = make_run(index, seed)
        got = client.get_run(want.run_id)
        assert got.info.status == want.info["status"], got.info.status
        assert got.info.start_time == want.info["start_time"]
        assert got.info.end_time == want.info["end_time"]
        assert got.info.run_name == want.info["run_name"]
        assert got.data.params == want.params, (got.data.params, want.params)
        assert got.data.tags == want.tags, (got.data.tags, want.tags)
        assert got.data.metrics == {k: v["value"] for k, v in want.latest().items()}
        for key, (steps, stamps, values) in want.series.items():
            history = client.get_metric_history(want.run_id, key)
            assert [(m.step, m.timestamp, m.value) for m in history] == list(
                zip(steps, stamps, values, strict=True)
            ), key
    close_all()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", help="a git repository (created with `git init` when missing)")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--start", type=int, default=0, help="index of the first run (to add more later)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=1000, help="runs per commit")
    parser.add_argument("--verify", type=int, default=5, help="runs to read back and check")
    parser.add_argument("--no-gc", action="store_true", help="leave one pack per commit")
    args = parser.parse_args()
    if not os.path.exists(args.path):
        subprocess.run(["git", "init", "--quiet", args.path], check=True)
    began = time.perf_counter()
    generate(args.path, args.runs, start=args.start, seed=args.seed, batch=args.batch)
    print(f"generated {args.runs} runs in {time.perf_counter() - began:.1f} s")
    if not args.no_gc:
        began = time.perf_counter()
        gc(args.path)
        print(f"git gc in {time.perf_counter() - began:.1f} s")
    if args.verify:
        rng = random.Random(args.seed)
        last = args.start + args.runs - 1
        picks = sorted(
            {args.start, last, *(rng.randint(args.start, last) for _ in range(max(0, args.verify - 2)))}
        )
        verify(args.path, picks, args.seed)
        print(f"verified {len(picks)} runs through gitrun.MlflowClient: {picks}")


if __name__ == "__main__":
    main()
