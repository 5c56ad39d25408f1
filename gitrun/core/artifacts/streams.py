"""Moving bytes in blocks from a stream, hashing them on the way.

Hashing SHA-256 is the slowest step of storing or fetching an object, so
:func:`pump` hashes each block in a helper thread while the calling thread
writes that block and reads the next one: an object is stored or fetched at
close to hashing speed instead of hashing + reading + writing speed.
``hashlib`` and file I/O release the GIL, so the overlap is real.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from concurrent.futures import Future

BLOCK_SIZE = 4 * 2**20
"""Bytes read, hashed and written at a time (two blocks are in flight)."""


class Readable(Protocol):
    """A binary stream we can read into a buffer (files, fsspec files)."""

    def readinto(self, buffer: memoryview, /) -> int | None: ...


class Writable(Protocol):
    """A binary stream we can write to; may write only part of a buffer."""

    def write(self, data: memoryview, /) -> int | None: ...


def read_full(src: Readable, view: memoryview) -> int:
    """Fill ``view`` from ``src``; return the bytes read (short only at EOF)."""
    filled = 0
    size = len(view)
    while filled < size:
        got = src.readinto(view[filled:])
        if not got:
            break
        filled += got
    return filled


def write_all(dst: Writable, view: memoryview) -> None:
    """Write all of ``view``: raw files may accept only part of a write."""
    while view:
        written = dst.write(view)
        if written is None:  # a non-blocking raw stream that would block
            continue
        view = view[written:]


def pump(
    src: Readable,
    update: Callable[[memoryview], None],
    dst: Writable | None = None,
    on_progress: Callable[[int], None] | None = None,
    block_size: int = BLOCK_SIZE,
) -> int:
    """Read ``src`` to its end, feeding every block to ``update`` and ``dst``.

    Args:
        src: the stream to read.
        update: called with each block in order (a hasher's ``update``); runs
            in a helper thread, overlapped with the writes and reads.
        dst: where to write the blocks, if anywhere.
        on_progress: called with the size of each block once it is written.
        block_size: bytes per block; two blocks are held in memory.

    Returns:
        The number of bytes read.
    """
    buffers = (bytearray(block_size), bytearray(block_size))
    in_flight: deque[Future[None]] = deque()
    total = 0
    index = 0
    pool = None
    try:
        while True:
            view = memoryview(buffers[index % 2])
            if len(in_flight) == 2:  # the block last read into this buffer
                in_flight.popleft().result()
            got = read_full(src, view)
            if not got:
                break
            block = view[:got]
            if pool is None and got < block_size:
                update(block)  # the whole stream fits in one block: no thread
            else:
                if pool is None:
                    from concurrent.futures import ThreadPoolExecutor

                    pool = ThreadPoolExecutor(1, thread_name_prefix="gitrun-hash")
                in_flight.append(pool.submit(update, block))
            if dst is not None:
                write_all(dst, block)
            total += got
            if on_progress is not None:
                on_progress(got)
            index += 1
        while in_flight:
            in_flight.popleft().result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return total
