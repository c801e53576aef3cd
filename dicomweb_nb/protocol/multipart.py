"""``multipart/related`` (RFC 2387, PS3.18 8.6.1.2): one streaming decoder and one encoder.

The client decodes WADO answers and encodes STOW bodies with these; the server decodes STOW bodies
and encodes WADO answers with the same code.

The decoder scans only new bytes plus a delimiter-length overlap, so one large part costs O(n),
not O(n²) (dicomweb-client issue #127). It accepts what RFC 2046 allows and strict parsers refuse
(a preamble, transport padding after a delimiter, a body without a final CRLF); per-part
``Content-Length`` is optional and never relied upon. Header blocks are bounded, so a hostile
body cannot make it buffer without limit. python-multipart was the server's parser before; it
refuses preambles and transport padding, which a client must accept from servers, so both ends
now share this one.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

# RFC 2046 5.1.1: a boundary is 1 to 70 characters; peers in the wild send longer ones, and the
# reference server refuses boundaries over 256 characters (.NET's MultipartReader default).
MAX_BOUNDARY_LENGTH = 256
MAX_HEADER_BYTES = 16 * 1024
MAX_HEADER_LINES = 32


class MultipartError(ValueError):
    """A body that is not the multipart message its Content-Type promised."""


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
        The part's media type, with its parameters.

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


def related_content_type(boundary: str, part_type: str | None = None) -> str:
    """Return the Content-Type of a ``multipart/related`` message.

    Parameters
    ----------
    boundary : str
        The message boundary.
    part_type : str, optional
        The root ``type`` parameter, written quoted (.NET servers need the quotes); omitted when
        None, as the reference server answers WADO requests.

    Returns
    -------
    str
        E.g. ``multipart/related; type="application/dicom"; boundary=…``.
    """
    if part_type is None:
        return f"multipart/related; boundary={boundary}"
    return f'multipart/related; type="{part_type}"; boundary={boundary}'


@dataclass
class BodyPart:
    """One part to send: its Content-Type, its size when known, and its content in chunks.

    ``chunks`` is called once, when the part's turn comes, so a file is opened (or an instance
    transcoded) only then.
    """

    content_type: str
    size: int | None
    chunks: Callable[[], Iterable[bytes]]


def message_length(parts: Iterable[BodyPart], boundary: str) -> int | None:
    """Return the length of the encoded message, or None when a part's size is unknown.

    Parameters
    ----------
    parts : iterable of BodyPart
        The parts, in order.
    boundary : str
        The message boundary.

    Returns
    -------
    int or None
        The number of bytes :func:`iter_message` yields.
    """
    total = len(closing(boundary))
    for part in parts:
        if part.size is None:
            return None
        total += len(part_head(boundary, part.content_type)) + part.size + 2
    return total


def iter_message(parts: Iterable[BodyPart], boundary: str) -> Iterator[bytes]:
    """Encode parts as a multipart body, streamed chunk by chunk.

    Parameters
    ----------
    parts : iterable of BodyPart
        The parts; may be a generator that makes each part when it is reached.
    boundary : str
        The message boundary.

    Yields
    ------
    bytes
        The body: each part's head, content and CRLF, then the close delimiter.
    """
    for part in parts:
        yield part_head(boundary, part.content_type)
        yield from part.chunks()
        yield b"\r\n"
    yield closing(boundary)


def encode(parts: list[BodyPart], part_type: str) -> tuple[str, int | None, Iterator[bytes]]:
    """Encode parts as a ``multipart/related`` body with a fresh boundary.

    Parameters
    ----------
    parts : list of BodyPart
        The parts.
    part_type : str
        The root ``type`` parameter.

    Returns
    -------
    (str, int or None, iterator of bytes)
        The Content-Type, the Content-Length (None when a part's size is unknown), and the body.
    """
    boundary = new_boundary()
    return (
        related_content_type(boundary, part_type),
        message_length(parts, boundary),
        iter_message(parts, boundary),
    )


class StreamingDecoder:
    """Decode a ``multipart/related`` body fed in chunks, yielding each part's pieces as they come.

    Parameters
    ----------
    boundary : str
        The boundary from the message's Content-Type.
    max_header_bytes : int
        The largest header block a part may have.

    Notes
    -----
    :meth:`feed` returns events: ``("headers", dict)`` when a part starts, ``("data", bytes)`` for
    its content (possibly in many pieces), ``("end", None)`` when it ends. Content is never held
    whole here, so a caller can stream a part straight to disk.
    """

    def __init__(self, boundary: str, max_header_bytes: int = MAX_HEADER_BYTES) -> None:
        if not boundary or len(boundary) > MAX_BOUNDARY_LENGTH:
            raise MultipartError(
                f"The multipart boundary must be 1 to {MAX_BOUNDARY_LENGTH} characters long."
            )
        self._delim = b"\r\n--" + boundary.encode("latin-1")
        self._buf = b"\r\n"  # lets the first delimiter match the same pattern as the others
        self._state = "preamble"
        self._max_header = max_header_bytes
        self.fed = False
        self.done = False

    @property
    def in_part(self) -> bool:
        """True between a part's headers and its end."""
        return self._state == "data"

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
            When part headers are malformed or too large.
        """
        if chunk:
            self.fed = True
        self._buf += chunk
        events: list[tuple[str, object]] = []
        while not self.done:
            if self._state in ("preamble", "data"):
                idx = self._buf.find(self._delim)
                if idx < 0:
                    # Keep a delimiter-length tail: the delimiter may straddle two chunks.
                    keep = len(self._delim) + 2
                    if len(self._buf) > keep:
                        if self._state == "data":
                            events.append(("data", self._buf[:-keep]))
                        self._buf = self._buf[-keep:]
                    break
                if self._state == "data":
                    if idx:
                        events.append(("data", self._buf[:idx]))
                    events.append(("end", None))
                self._buf = self._buf[idx + len(self._delim) :]
                self._state = "after-delimiter"
            elif self._state == "after-delimiter":
                if len(self._buf) < len(b"--"):
                    break  # not yet known whether this is the close delimiter
                if self._buf.startswith(b"--"):
                    self.done = True
                    break
                end = self._buf.find(b"\r\n")
                if end < 0:
                    if len(self._buf) > self._max_header:
                        raise MultipartError("A multipart delimiter line is too long.")
                    break
                self._buf = self._buf[end + 2 :]  # transport padding after the delimiter
                self._state = "headers"
            else:  # headers
                if self._buf.startswith(b"\r\n"):
                    end, skip = 0, 2
                else:
                    end, skip = self._buf.find(b"\r\n\r\n"), 4
                if end < 0 or end > self._max_header:
                    if end > self._max_header or len(self._buf) > self._max_header + 4:
                        raise MultipartError(
                            f"A part's headers are larger than {self._max_header} bytes."
                        )
                    break
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
    lines = [line for line in block.decode("latin-1").split("\r\n") if line.strip()]
    if len(lines) > MAX_HEADER_LINES:
        raise MultipartError(f"A part has more than {MAX_HEADER_LINES} header lines.")
    for line in lines:
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

    Raises
    ------
    MultipartError
        When the body is malformed or ends inside a part.
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
