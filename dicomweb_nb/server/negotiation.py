"""Content negotiation: parse media types and pick what to answer a WADO, QIDO or STOW request with.

The accepted forms are the reference server's (``shared/reference/server-behaviour.md``,
"Accept gate", "WADO-RS"), parsed leniently: quoted or unquoted parameters, a trailing ``;``,
and Orthanc's habit of nesting ``transfer-syntax`` inside the quoted ``type``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ELE = "1.2.840.10008.1.2.1"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"
DICOM_JSON_RANGES = frozenset(
    {"application/dicom+json", "application/json", "application/*", "*/*"}
)

Kind = Literal["bulk", "instance", "frames"]


class NotAcceptable(Exception):
    """The Accept header asks for nothing the server can send (406)."""


class BadAccept(Exception):
    """The Accept header is acceptable in form but not for this request (400)."""


@dataclass(frozen=True)
class MediaType:
    """A parsed media type: lower-case ``type/subtype`` and parameters (names lower-cased)."""

    mime: str
    params: dict[str, str]

    def param(self, name: str) -> str | None:
        """Return a parameter's value, or None."""
        return self.params.get(name)


def _split(text: str, sep: str) -> list[str]:
    out: list[str] = []
    buf: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    out.append("".join(buf))
    return out


def parse_media_type(text: str) -> MediaType:
    """Parse one media type with its parameters.

    Parameters
    ----------
    text : str
        E.g. ``multipart/related; type="application/dicom"; transfer-syntax=*``.

    Returns
    -------
    MediaType
        The parsed form. A ``type`` parameter holding its own parameters (``type="a/b;
        transfer-syntax=X"``) is unfolded: ``type`` becomes ``a/b`` and ``transfer-syntax`` is set.
    """
    pieces = _split(text, ";")
    mime = pieces[0].strip().lower()
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        name, _, value = piece.partition("=")
        name = name.strip().lower()
        if not name:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        params[name] = value.strip()
    inner = params.get("type")
    if inner and ";" in inner:
        nested = parse_media_type(inner)
        params["type"] = nested.mime
        for key, val in nested.params.items():
            params.setdefault(key, val)
    return MediaType(mime, params)


def parse_accept(header: str | None) -> list[MediaType]:
    """Parse an Accept header into media ranges, most preferred first (by ``q``, then order).

    Parameters
    ----------
    header : str or None
        The header value.

    Returns
    -------
    list of MediaType
        Empty when the header is missing or blank.
    """
    if not header or not header.strip():
        return []
    ranges = [parse_media_type(p) for p in _split(header, ",") if p.strip()]

    def quality(m: MediaType) -> float:
        try:
            return float(m.params.get("q", "1"))
        except ValueError:
            return 1.0

    return sorted(ranges, key=quality, reverse=True)


def accepts_dicom_json(header: str | None) -> bool:
    """Tell whether an Accept header lets the server answer ``application/dicom+json``.

    Parameters
    ----------
    header : str or None
        The Accept header; missing means no (the reference answers 406).

    Returns
    -------
    bool
        True when acceptable.
    """
    return any(m.mime in DICOM_JSON_RANGES for m in parse_accept(header))


@dataclass(frozen=True)
class Choice:
    """How to answer a retrieve: multipart or single part, the part media type, the syntax."""

    multipart: bool
    part_type: str
    transfer_syntax: str


def _syntax(m: MediaType, default: str) -> str:
    ts = m.param("transfer-syntax")
    ts = default if ts is None or ts == "" else ts
    if ts not in ("*", ELE, J2K_LOSSLESS):
        raise NotAcceptable(
            f"The requested transfer syntax '{ts}' is not supported; use *, {ELE} (explicit VR "
            f"little endian) or {J2K_LOSSLESS} (JPEG 2000 lossless)."
        )
    return ts


def choose(header: str | None, kind: Kind, frame_count: int = 1) -> Choice:
    """Pick the representation of a WADO-RS retrieve from its Accept header.

    Parameters
    ----------
    header : str or None
        The Accept header (missing counts as ``*/*``).
    kind : {"bulk", "instance", "frames"}
        Study/series retrieve, instance retrieve, or frames retrieve.
    frame_count : int
        How many frames were asked for (single-part answers carry one).

    Returns
    -------
    Choice
        The representation.

    Raises
    ------
    NotAcceptable
        Nothing in the header can be served (406).
    BadAccept
        A single-part type for several frames (400).
    """
    ranges = parse_accept(header) or [MediaType("*/*", {})]
    part = "application/octet-stream" if kind == "frames" else "application/dicom"
    problem: Exception | None = None
    for m in ranges:
        try:
            if m.mime == "*/*":
                return Choice(True, part, _syntax(m, "*"))
            if m.mime == "multipart/related":
                inner = (m.param("type") or part).lower()
                if inner == "*/*":
                    # dicomweb-client's default for frames; a superset of the reference.
                    return Choice(True, part, _syntax(m, "*"))
                if kind == "frames" and inner == "image/jp2":
                    return Choice(True, inner, _syntax(m, J2K_LOSSLESS))
                if inner == part:
                    return Choice(True, part, _syntax(m, ELE))
                continue
            if m.mime == part and kind != "bulk":
                if kind == "frames" and frame_count > 1:
                    problem = BadAccept(
                        "A single-part application/octet-stream answer holds one frame; "
                        'ask for multipart/related; type="application/octet-stream".'
                    )
                    continue
                return Choice(False, part, _syntax(m, ELE))
        except NotAcceptable as exc:
            problem = exc
    if problem is not None:
        raise problem
    wanted = {
        "bulk": 'multipart/related; type="application/dicom"',
        "instance": 'application/dicom or multipart/related; type="application/dicom"',
        "frames": 'multipart/related; type="application/octet-stream" or type="image/jp2"',
    }[kind]
    raise NotAcceptable(f"The Accept header '{header}' is not supported here; use {wanted}.")


def choose_rendered(header: str | None) -> str:
    """Pick the image type of a rendered retrieve (exactly one of image/jpeg and image/png).

    Parameters
    ----------
    header : str or None
        The Accept header; missing means ``image/jpeg``.

    Returns
    -------
    str
        ``"image/jpeg"`` or ``"image/png"``.

    Raises
    ------
    NotAcceptable
        For ``*/*``, any other type, or several values (the reference's rule).
    """
    ranges = parse_accept(header)
    if header is None or not ranges:
        return "image/jpeg"
    if len(ranges) == 1 and ranges[0].mime in ("image/jpeg", "image/png"):
        return ranges[0].mime
    raise NotAcceptable(
        f"The Accept header '{header}' is not supported for rendered images; "
        "use exactly image/jpeg or image/png."
    )
