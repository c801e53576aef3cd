"""Response bodies sent in blocks: one worker-thread hand-off per block, each byte copied once.

StreamingResponse fetches each piece of a sync body in a worker thread; at ~3 pieces per instance
(head, data, CRLF) the hand-offs, not the bytes, were the cost (profiled: ~45 % of the server's
time). Pieces are copied into one block of :data:`BLOCK` bytes instead, and a stored file is read
straight into it with ``readinto`` (no bytes object per read, no copy to join pieces: a study
retrieve's server time was mostly such copies).

Each block is a new buffer, never written to once yielded. uvicorn's httptools protocol hands the
buffer to the transport as it is, and uvloop keeps it (no copy) until the socket has taken it:
a block refilled meanwhile corrupted the answer of any client slower than the disk
(tests/test_server_wado.py). h11 joined every write into new bytes, which hid this. A fresh
block per MiB measured the same study-retrieve rate as a reused one (alternating rounds).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import BinaryIO, NamedTuple, cast

BLOCK = 1 << 20  # memory per response stays small


class FileSpan(NamedTuple):
    """A stored file's bytes, read into the block when their turn comes.

    Parameters
    ----------
    file : BinaryIO
        The open file (read from its start).
    size : int
        How many bytes it has.
    """

    file: BinaryIO
    size: int


def blocks(pieces: Iterable[bytes | FileSpan]) -> Iterator[memoryview]:
    """Gather a body's pieces into blocks of :data:`BLOCK` bytes (the last one shorter).

    Parameters
    ----------
    pieces : iterable of bytes or FileSpan
        The body in order.

    Yields
    ------
    memoryview
        A view of a block of its own (this generator never writes to it again).

    Raises
    ------
    OSError
        When a file is shorter than its span says (changed since it was opened).
    """
    view = memoryview(bytearray(BLOCK))
    pos = 0
    for piece in pieces:
        if isinstance(piece, FileSpan):
            reader = cast(io.BufferedReader, piece.file)
            reader.seek(0)
            left = piece.size
            while left:
                if pos == BLOCK:
                    yield view
                    view, pos = memoryview(bytearray(BLOCK)), 0
                n = reader.readinto(view[pos : pos + min(left, BLOCK - pos)])
                if not n:
                    raise OSError("A stored file is shorter than when it was opened.")
                pos += n
                left -= n
            continue
        data = memoryview(piece)
        while data:
            if pos == BLOCK:
                yield view
                view, pos = memoryview(bytearray(BLOCK)), 0
            n = min(len(data), BLOCK - pos)
            view[pos : pos + n] = data[:n]
            pos += n
            data = data[n:]
    if pos:
        yield view[:pos]
