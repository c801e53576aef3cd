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
# How much of a chunk is joined at a time to a header block that began in the chunk before.
HEAD_STEP = 4096


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

    Content is not copied on its way through: each chunk is searched where it lies, a chunk that
    is all content is handed on as it is, and a part's first and last pieces are slices of the
    chunks it starts and ends in. Only a possible start of a delimiter at the end of a chunk
    (``CRLF--`` and part of the boundary, never more than the delimiter's length) and a header
    block split between chunks are kept here, the first searched together with the start of
    the next chunk.
    """

    def __init__(self, boundary: str, max_header_bytes: int = MAX_HEADER_BYTES) -> None:
        if not boundary or len(boundary) > MAX_BOUNDARY_LENGTH:
            raise MultipartError(
                f"The multipart boundary must be 1 to {MAX_BOUNDARY_LENGTH} characters long."
            )
        self._delim = b"\r\n--" + boundary.encode("latin-1")
        # Bytes carried over to the next chunk. Before and in content: the end of the last chunk
        # when it could be the start of a delimiter (a proper prefix of it, so it never holds
        # one whole). Between a delimiter and content: the unread part of the delimiter line and
        # header block. It starts as CRLF so that a body's first delimiter, which has none,
        # matches the same pattern as the others.
        self._kept = b"\r\n"
        self._state = "preamble"
        self._max_header = max_header_bytes
        self.fed = False
        self.done = False

    @property
    def in_part(self) -> bool:
        """True between a part's headers and its end."""
        return self._state == "data"

    def feed(
        self, chunk: bytes | bytearray | memoryview, *, views: bool = False
    ) -> list[tuple[str, object]]:
        """Consume a chunk of the body.

        Parameters
        ----------
        chunk : bytes, bytearray or memoryview
            The next bytes (anything but ``bytes`` is copied first).
        views : bool
            Hand out content that lies inside ``chunk`` as read-only ``memoryview`` slices of it
            instead of ``bytes`` copies (a chunk that is all content is still the chunk itself).
            For a caller that writes or joins the pieces at once: a view keeps the whole chunk
            alive for as long as it is held.

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
        if not isinstance(chunk, bytes):
            chunk = bytes(chunk)  # content handed on must not change under its holder
        events: list[tuple[str, object]] = []
        view = memoryview(chunk) if views else None
        pos = 0
        while not self.done:
            if self._state in ("preamble", "data"):
                after = self._content(chunk, pos, view, events)
                if after < 0:
                    break
                if self._state == "data":
                    events.append(("end", None))
                self._state = "after-delimiter"
                pos = after
            elif self._kept:
                pos = self._split_head(chunk, pos, events)
                if pos < 0:
                    break
            else:
                at, started = self._head(chunk, pos, events)
                if not started:
                    if not self.done:
                        self._kept = chunk[at:]
                    break
                pos = at
        return events

    def _content(
        self,
        chunk: bytes,
        pos: int,
        view: memoryview | None,
        events: list[tuple[str, object]],
    ) -> int:
        """Pass on content (or skip the preamble) from ``_kept`` and ``chunk[pos:]``.

        Returns where the next delimiter ends in ``chunk``, or -1 when ``chunk`` ended first.
        """
        delim = self._delim
        size = len(delim)
        emit = self._state == "data"
        kept = self._kept
        if kept:
            # A delimiter that starts in the kept bytes ends within the next size - 1 bytes.
            window = kept + chunk[pos : pos + size - 1]
            idx = window.find(delim)
            if idx >= 0:
                if emit and idx:
                    events.append(("data", window[:idx]))
                self._kept = b""
                return pos + idx + size - len(kept)
            if len(window) - len(kept) < size - 1:
                # The chunk ended inside the window: carry what may still begin a delimiter.
                keep = _delimiter_start(window, delim, 0)
                if emit and len(window) > keep:
                    events.append(("data", window[: len(window) - keep]))
                self._kept = window[len(window) - keep :]
                return -1
            if emit:
                events.append(("data", kept))  # no delimiter starts in it: content
            self._kept = b""
        end = chunk.find(delim, pos)
        if end >= 0:
            if emit and end > pos:
                events.append(("data", view[pos:end] if view is not None else chunk[pos:end]))
            return end + size
        keep = _delimiter_start(chunk, delim, pos)
        stop = len(chunk) - keep
        if emit and stop > pos:
            if pos == 0 and keep == 0:
                events.append(("data", chunk))  # the common case: the whole chunk, uncopied
            else:
                events.append(("data", view[pos:stop] if view is not None else chunk[pos:stop]))
        self._kept = chunk[stop:]
        return -1

    def _head(self, buf: bytes, at: int, events: list[tuple[str, object]]) -> tuple[int, bool]:
        """Read the rest of a delimiter line and a part's headers from ``buf[at:]``.

        Returns ``(offset, True)`` with where the part's content starts, or ``(offset, False)``
        with how far ``buf`` was used when it ended first (or the close delimiter was read).
        Only a bounded stretch of ``buf`` is searched, so a long chunk is not scanned for a
        header end that would be refused anyway.
        """
        if self._state == "after-delimiter":
            if len(buf) - at < len(b"--"):
                return at, False  # not yet known whether this is the close delimiter
            if buf.startswith(b"--", at):
                self.done = True
                return at, False
            end = buf.find(b"\r\n", at, at + self._max_header + 2)
            if end < 0:
                # Refused once no CRLF can begin within the bound (the CR may be the last byte).
                if len(buf) - at > self._max_header + 1:
                    raise MultipartError("A multipart delimiter line is too long.")
                return at, False
            at = end + 2  # transport padding after the delimiter
            self._state = "headers"
        if buf.startswith(b"\r\n", at):
            end, skip = at, 2
        else:
            end, skip = buf.find(b"\r\n\r\n", at, at + self._max_header + 4), 4
        if end < 0:
            if len(buf) - at > self._max_header + 4:
                raise MultipartError(f"A part's headers are larger than {self._max_header} bytes.")
            return at, False
        events.append(("headers", _parse_headers(buf[at:end])))
        self._state = "data"
        return end + skip, True

    def _split_head(self, chunk: bytes, pos: int, events: list[tuple[str, object]]) -> int:
        """Go on with a delimiter line or header block that began in an earlier chunk.

        The kept bytes are joined with the chunk's start, a bounded step at a time, so a long
        chunk is not copied. Returns where content starts in ``chunk``, or -1 when it ended
        first (or the close delimiter was read).
        """
        while True:
            kept = self._kept
            step = chunk[pos : pos + HEAD_STEP]
            buf = kept + step
            at, started = self._head(buf, 0, events)
            if started:
                # The head did not end inside the kept bytes (it would have been read then).
                self._kept = b""
                return pos + at - len(kept)
            if self.done:
                return -1
            self._kept = buf[at:]
            pos += len(step)
            if pos >= len(chunk):
                return -1

    def close(self) -> None:
        """Check that the body ended with its close delimiter.

        Raises
        ------
        MultipartError
            When the body stopped inside a part.
        """
        if not self.done and self._state != "preamble":
            raise MultipartError("The multipart body ended before its closing boundary.")


def _delimiter_start(data: bytes, delim: bytes, start: int) -> int:
    """Return the length of the longest end of ``data[start:]`` that begins ``delim``.

    Only those bytes need carrying to the next chunk; in binary content there are usually none.
    Every delimiter begins with CR, so only the CRs near the end are candidates.
    """
    lo = max(start, len(data) - (len(delim) - 1))
    i = data.find(b"\r", lo)
    while i >= 0:
        if delim.startswith(data[i:]):
            return len(data) - i
        i = data.find(b"\r", i + 1)
    return 0


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
        Each part with its headers and content. A part's bytes are copied once at most: its
        pieces are views of the chunks, joined when it ends; a part that is one whole chunk is
        that chunk.

    Raises
    ------
    MultipartError
        When the body is malformed or ends inside a part.
    """
    decoder = StreamingDecoder(boundary)
    current: Part | None = None
    pieces: list[bytes | memoryview] = []
    for chunk in chunks:
        for kind, value in decoder.feed(chunk, views=True):
            if kind == "headers":
                assert isinstance(value, dict)
                current, pieces = Part(headers=value), []
            elif kind == "data":
                assert isinstance(value, bytes | memoryview)
                pieces.append(value)
            elif current is not None:
                current.content = _joined(pieces)
                yield current
                current, pieces = None, []
        if decoder.done:
            return
    decoder.close()


def _joined(pieces: list[bytes | memoryview]) -> bytes:
    if len(pieces) == 1 and isinstance(pieces[0], bytes):
        return pieces[0]
    return b"".join(pieces)
