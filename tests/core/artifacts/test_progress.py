"""Progress bars: on a terminal for large transfers, silent otherwise."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

from gitrun.core.artifacts.local import LocalBackend
from gitrun.core.artifacts.progress import TerminalProgress
from gitrun.core.artifacts.store import ArtifactStore
from tests.core.artifacts.stores import make_file

ROOT = Path(__file__).resolve().parents[3]

CHILD = r"""
import sys
from gitrun.core.artifacts.local import LocalBackend
from gitrun.core.artifacts.store import ArtifactStore
store = ArtifactStore(LocalBackend(sys.argv[1]))
for path in sys.argv[2:]:
    digest = store.put_file(path)
    store.get_file(digest, path + ".back")
"""


def run_on_terminal(*args: str) -> str:
    """Run the child with stderr on a pseudo-terminal; return what it drew."""
    master, slave = pty.openpty()
    # a real terminal has a size; tqdm draws nothing in 0 columns
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO once the child closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        subprocess.run(
            [sys.executable, "-c", CHILD, *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stderr=slave,
            check=True,
        )
    finally:
        os.close(slave)
        reader.join(timeout=10)
        os.close(master)
    return b"".join(chunks).decode(errors="replace")


def test_large_transfers_draw_a_bar_on_a_terminal(tmp_path: Path) -> None:
    big = make_file(tmp_path / "big.bin", 12 * 10**6, seed=1)
    small = make_file(tmp_path / "small.bin", 10**6, seed=2)
    drawn = run_on_terminal(str(tmp_path / "store"), str(big), str(small))
    assert "storing big.bin" in drawn
    assert "fetching big.bin" in drawn
    assert "small.bin" not in drawn


def test_no_bar_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    big = make_file(tmp_path / "big.bin", 12 * 10**6, seed=1)
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "store"), str(big)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stderr == ""


def test_terminal_progress_is_off_without_a_terminal(tmp_path: Path) -> None:
    progress = TerminalProgress()
    assert progress.wanted() is False  # pytest captures stderr
    with progress.bar(10**9, "x") as advance:
        advance(10)
    store = ArtifactStore(LocalBackend(tmp_path / "s"), progress=progress)
    assert store.put_bytes(b"quiet")
