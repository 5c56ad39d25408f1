"""A progress reporter is told the real size of every transfer it is asked to show."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from gitrun.core.artifacts.local import LocalBackend
from gitrun.core.artifacts.progress import Silent
from gitrun.core.artifacts.store import ArtifactStore
from tests.core.artifacts.stores import make_file


class Recording:
    """A reporter that wants progress and remembers each bar's total and bytes moved."""

    def __init__(self) -> None:
        self.bars: list[tuple[str, int, int]] = []

    def wanted(self) -> bool:
        return True

    @contextmanager
    def bar(self, total: int, description: str) -> Iterator[Callable[[int], None]]:
        moved = [0]

        def advance(count: int) -> None:
            moved[0] += count

        yield advance
        self.bars.append((description.split(maxsplit=1)[0], total, moved[0]))


def test_copy_and_fetch_report_their_real_totals(tmp_path: Path) -> None:
    sizes = (3 * 2**20 + 5, 1234)
    files = [make_file(tmp_path / f"f{i}.bin", size, seed=i) for i, size in enumerate(sizes)]
    recording = Recording()
    source = ArtifactStore(LocalBackend(tmp_path / "a"), progress=recording)
    digests = [source.put_file(f) for f in files]
    assert [(kind, total) for kind, total, _ in recording.bars] == [("storing", s) for s in sizes]
    recording.bars.clear()
    target = ArtifactStore(LocalBackend(tmp_path / "b"), progress=Silent())
    assert source.copy_to(target, digests) == sorted(digests)
    assert recording.bars == [("copying", sum(sizes), sum(sizes))]
    recording.bars.clear()
    source.get_file(digests[0], tmp_path / "out.bin")
    assert recording.bars == [("fetching", sizes[0], sizes[0])]
    assert (tmp_path / "out.bin").read_bytes() == files[0].read_bytes()
