"""Artifact throughput: gitrun vs the raw SHA-256 speed of this machine, and vs MLflow.

    python bench/bench_artifacts.py [--size-mib 1024] [--repeats 3]

Measured, for one file of random bytes (warm in the page cache, like a checkpoint
just written by the training script):

* raw SHA-256 of the same number of bytes in memory (the ceiling: gitrun must hash);
* gitrun ``log_artifact`` into an empty local store, then the same file again in a
  new run (deduplicated: should cost about one hash), then ``download_artifacts``;
* MLflow ``log_artifact`` of the same file (``bench/.venv-mlflow``, sqlite tracking
  store, local artifact root), and ``download_artifacts``;
* full copies kept after logging the file in 3 runs, by each.

Every figure is the median of ``--repeats`` runs; results go to
``bench/results/artifacts.json``.  The machine is shared: the load average is
printed with the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common

MIB = 2**20

MLFLOW_CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    import mlflow
    src, root, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.chdir(root)
    mlflow.set_tracking_uri(f"sqlite:///{root}/mlflow.db")
    logs, downloads, run_ids = [], [], []
    for n in range(repeats):
        with mlflow.start_run() as run:
            start = time.perf_counter()
            mlflow.log_artifact(src)
            logs.append(time.perf_counter() - start)
            run_ids.append(run.info.run_id)
    for n, run_id in enumerate(run_ids):
        dst = os.path.join(root, f"dl-{n}")
        start = time.perf_counter()
        mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=os.path.basename(src), dst_path=dst)
        downloads.append(time.perf_counter() - start)
        os.remove(os.path.join(dst, os.path.basename(src)))
    size = os.path.getsize(src)
    copies = sum(
        1
        for folder, _, files in os.walk(os.path.join(root, "mlruns"))
        for name in files
        if os.path.getsize(os.path.join(folder, name)) == size
    )
    print(json.dumps({"log_s": logs, "download_s": downloads, "copies": copies,
                      "version": mlflow.__version__}))
    """
)


def make_file(path: Path, size: int) -> None:
    with open(path, "wb") as out:
        left = size
        while left:
            chunk = os.urandom(min(left, 16 * MIB))
            out.write(chunk)
            left -= len(chunk)


def raw_sha256(size: int) -> float:
    """Seconds to hash ``size`` bytes held in memory (4 MiB updates)."""
    block = os.urandom(4 * MIB)
    blocks, tail = divmod(size, len(block))
    start = time.perf_counter()
    hasher = hashlib.sha256()
    for _ in range(blocks):
        hasher.update(block)
    hasher.update(block[:tail])
    return time.perf_counter() - start


def store_objects(repo: str) -> list[int]:
    root = Path(repo, ".git", "gitrun", "artifacts", "objects")
    return [p.stat().st_size for p in root.rglob("*") if p.is_file()]


def bench_gitrun(src: Path, tmp: str, repeats: int) -> dict[str, object]:
    import gitrun
    from gitrun.tracking import session as tracking_session

    firsts, seconds, downloads, hashes = [], [], [], []
    copies = 0
    for n in range(repeats):
        # The machine is shared: measure the ceiling next to each sample, so that
        # each ratio compares figures taken under the same load.
        hashes.append(raw_sha256(src.stat().st_size))
        repo = common.fresh_repo(tmp, {"train.py": "print('train')\n"}, name=f"gitrun-{n}")
        gitrun.set_tracking_uri(repo)
        run_ids = []
        for logs in (firsts, seconds, None):
            with gitrun.start_run() as run:
                start = time.perf_counter()
                gitrun.log_artifact(str(src))
                if logs is not None:
                    logs.append(time.perf_counter() - start)
            run_ids.append(run.info.run_id)
        copies = sum(1 for size in store_objects(repo) if size == src.stat().st_size)
        dst = os.path.join(tmp, f"gitrun-dl-{n}")
        start = time.perf_counter()
        path = gitrun.MlflowClient().download_artifacts(run_ids[0], src.name, dst)
        downloads.append(time.perf_counter() - start)
        os.remove(path)
        tracking_session.close_all()
        gitrun.set_tracking_uri(None)
        shutil.rmtree(repo)
    return {
        "sha256_s": hashes,
        "first_log_s": firsts,
        "second_log_s": seconds,
        "download_s": downloads,
        "copies": copies,
    }


def bench_mlflow(src: Path, tmp: str, repeats: int) -> dict[str, object] | None:
    try:
        python = common.mlflow_python()
    except Exception as error:
        print(f"MLflow side skipped: {error}", file=sys.stderr)
        return None
    root = tempfile.mkdtemp(prefix="mlflow-art-", dir=tmp)
    child = common.run_child(
        [python, "-c", MLFLOW_CHILD, str(src), root, str(repeats)], cwd=root, env=common.bench_env()
    )
    shutil.rmtree(root)
    result: dict[str, object] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()
    size = args.size_mib * MIB
    load_before = common.machine_load()
    with tempfile.TemporaryDirectory(prefix="bench-artifacts-", dir=os.environ.get("BENCH_TMP")) as tmp:
        src = Path(tmp, "checkpoint.bin")
        make_file(src, size)
        ours = bench_gitrun(src, tmp, args.repeats)
        theirs = None if args.no_mlflow else bench_mlflow(src, tmp, args.repeats)
    mb = size / 1e6

    def rate(seconds: list[float]) -> float:
        return mb / common.median(seconds)

    hashes: list[float] = ours["sha256_s"]  # type: ignore[assignment]
    sha = common.median(hashes)

    def ratio(key: str) -> float:
        """Median over repeats of (time to hash) / (time taken), each pair measured together."""
        taken: list[float] = ours[key]  # type: ignore[assignment]
        return common.median([h / t for h, t in zip(hashes, taken, strict=True)])

    figures: dict[str, object] = {
        "size_mib": args.size_mib,
        "sha256_MBps": mb / sha,
        "gitrun_log_MBps": rate(ours["first_log_s"]),  # type: ignore[arg-type]
        "gitrun_log_vs_sha256": ratio("first_log_s"),
        "gitrun_second_log_s": common.median(ours["second_log_s"]),  # type: ignore[arg-type]
        "gitrun_second_log_vs_hash": 1 / ratio("second_log_s"),
        "gitrun_download_MBps": rate(ours["download_s"]),  # type: ignore[arg-type]
        "gitrun_download_vs_sha256": ratio("download_s"),
        "gitrun_full_copies_for_3_logs": ours["copies"],
        "raw": {"gitrun": ours, "mlflow": theirs},
        "load_before": load_before,
        "load_after": common.machine_load(),
    }
    if theirs is not None:
        figures.update(
            mlflow_version=theirs["version"],
            mlflow_log_MBps=rate(theirs["log_s"]),  # type: ignore[arg-type]
            mlflow_download_MBps=rate(theirs["download_s"]),  # type: ignore[arg-type]
            mlflow_full_copies_for_3_logs=theirs["copies"],
        )
    path = common.write_json("artifacts.json", figures)
    for key, value in figures.items():
        if key != "raw":
            print(f"{key:34} {value:.3g}" if isinstance(value, float) else f"{key:34} {value}")
    print(f"results: {path}")


if __name__ == "__main__":
    main()
