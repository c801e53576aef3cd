"""``multipart/related`` for DICOMweb: streaming encoding for STOW, streaming decoding for WADO.

The decoder scans only new bytes plus a boundary-length overlap, so one large part costs O(n), not
O(n²) (dicomweb-client issue #127); per-part ``Content-Length`` is optional and never relied upon.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field


@dataclass
class Part:
    """One decoded part: its headers (names lower-cased) and content."""

    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""

    @property
    def content_type(self) -> str:
        """The part's Content-Type ('' when absent)."""
        return self.headers.get("content-type", "")


def new_boundary() -> str:
    """Return a random boundary: a fixed one can occur inside binary DICOM data.

    Returns
    -------
    str
        32 hex digits.
    """
    return secrets.token_hex(16)


def part_head(boundary: str, content_type: str) -> bytes:
    """Return the delimiter and headers that open a part.

    Parameters
    ----------
    boundary : str
        The message boundary.
    content_type : str
        The part's media type.

    Returns
    -------
    bytes
        ``--boundary CRLF Content-Type: … CRLF CRLF``.
    """
    return f"--{boundary}\r\nContent-Type: {content_type}\r\n\r\n".encode("latin-1")


def closing(boundary: str) -> bytes:
    """Return the close delimiter of a message.

    Parameters
    ----------
    boundary : str
        The message boundary.

    Returns
    -------
    bytes
        ``--boundary-- CRLF``.
    """
    return f"--{boundary}--\r\n".encode("latin-1")


class MultipartError(ValueError):
    """A body that is not the multipart message its Content-Type promised."""


class StreamingDecoder:
    """Decode a ``multipart/related`` body fed in chunks, yielding each part's pieces as they come.

    Parameters
    ----------
    boundary : str
        The boundary from the response's Content-Type.

    Notes
    -----
    :meth:`feed` returns events: ``("headers", dict)`` when a part starts, ``("data", bytes)`` for
    its content (possibly in many pieces), ``("end", None)`` when it ends. Content is never held
    whole here, so a caller can stream a part straight to disk.
    """

    def __init__(self, boundary: str) -> None:
        self._delim = b"\r\n--" + boundary.encode("latin-1")
        self._buf = b"\r\n"  # lets the first delimiter match the same pattern as the others
        self._state = "preamble"
        self.done = False

    def feed(self, chunk: bytes) -> list[tuple[str, object]]:
        """Consume a chunk of the body.

        Parameters
        ----------
        chunk : bytes
            The next bytes.

        Returns
        -------
        list of (str, object)
            The events completed by this chunk.

        Raises
        ------
        MultipartError
            When part headers are malformed.
        """
        self._buf += chunk
        events: list[tuple[str, object]] = []
        while not self.done:
            if self._state in ("preamble", "data"):
                idx = self._buf.find(self._delim)
                if idx < 0:
                    # Keep a delimiter-length tail: the delimiter may straddle two chunks.
                    keep = len(self._delim) + 2
                    if self._state == "data" and len(self._buf) > keep:
                        events.append(("data", self._buf[:-keep]))
                        self._buf = self._buf[-keep:]
                    elif self._state == "preamble" and len(self._buf) > keep:
                        self._buf = self._buf[-keep:]
                    break
                if self._state == "data":
                    if idx:
                        events.append(("data", self._buf[:idx]))
                    events.append(("end", None))
                self._buf = self._buf[idx + len(self._delim) :]
                self._state = "after-delimiter"
            elif self._state == "after-delimiter":
                if len(self._buf) < 2:
                    break
                if self._buf.startswith(b"--"):
                    self.done = True
                    break
                end = self._buf.find(b"\r\n")
                if end < 0:
                    break
                self._buf = self._buf[end + 2 :]  # transport padding after the delimiter
                self._state = "headers"
            elif self._state == "headers":
                end = self._buf.find(b"\r\n\r\n")
                if self._buf.startswith(b"\r\n"):
                    end, skip = 0, 2
                elif end < 0:
                    if len(self._buf) > 65536:
                        raise MultipartError("A part's headers exceed 64 KiB.")
                    break
                else:
                    skip = 4
                events.append(("headers", _parse_headers(self._buf[:end])))
                self._buf = self._buf[end + skip :]
                self._state = "data"
        return events

    def close(self) -> None:
        """Check that the body ended with its close delimiter.

        Raises
        ------
        MultipartError
            When the body stopped inside a part.
        """
        if not self.done and self._state != "preamble":
            raise MultipartError("The multipart body ended before its closing boundary.")


def _parse_headers(block: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.decode("latin-1").split("\r\n"):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise MultipartError(f"Malformed part header line: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    return headers


def iter_parts(chunks: Iterable[bytes], boundary: str) -> Iterator[Part]:
    """Decode a multipart body into whole parts, one at a time.

    Parameters
    ----------
    chunks : iterable of bytes
        The body, in pieces (e.g. ``response.iter_content``).
    boundary : str
        The boundary.

    Yields
    ------
    Part
        Each part with its headers and content.
    """
    decoder = StreamingDecoder(boundary)
    current: Part | None = None
    pieces: list[bytes] = []
    for chunk in chunks:
        for kind, value in decoder.feed(chunk):
            if kind == "headers":
                assert isinstance(value, dict)
                current, pieces = Part(headers=value), []
            elif kind == "data":
                assert isinstance(value, bytes)
                pieces.append(value)
            elif current is not None:
                current.content = b"".join(pieces)
                yield current
                current, pieces = None, []
        if decoder.done:
            return
    decoder.close()


@dataclass
class Source:
    """One body part to send: its size and a way to read it in chunks."""

    size: int
    chunks: Callable[[], Iterator[bytes]]


def encode(
    sources: list[Source], part_type: str = "application/dicom"
) -> tuple[str, int, Iterator[bytes]]:
    """Encode parts as a ``multipart/related`` body streamed chunk by chunk, with its length known.

    Parameters
    ----------
    sources : list of Source
        The parts.
    part_type : str
        The media type of every part (and the ``type`` parameter).

    Returns
    -------
    (str, int, iterator of bytes)
        The Content-Type (``type`` quoted, as .NET servers need), the Content-Length, and the body.
    """
    boundary = new_boundary()
    head = part_head(boundary, part_type)
    tail = closing(boundary)
    length = sum(len(head) + s.size + 2 for s in sources) + len(tail)

    def body() -> Iterator[bytes]:
        for source in sources:
            yield head
            yield from source.chunks()
            yield b"\r\n"
        yield tail

    content_type = f'multipart/related; type="{part_type}"; boundary={boundary}'
    return content_type, length, body()


def parse_content_type(value: str) -> tuple[str, dict[str, str]]:
    """Split a Content-Type into its media type and parameters, respecting quotes.

    Parameters
    ----------
    value : str
        E.g. Orthanc's ``multipart/related; type="application/octet-stream;
        transfer-syntax=1.2.840.10008.1.2.1"; boundary=abc``.

    Returns
    -------
    (str, dict)
        The lower-case media type and the parameters (names lower-case, quotes removed).
    """
    pieces: list[str] = []
    buf: list[str] = []
    quoted = False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            pieces.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    pieces.append("".join(buf))
    params = {}
    for piece in pieces[1:]:
        name, _, val = piece.partition("=")
        if name.strip():
            params[name.strip().lower()] = val.strip().strip('"')
    return pieces[0].strip().lower(), params
