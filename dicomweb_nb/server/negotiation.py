"""WADO-RS content negotiation: which representation answers a retrieve's Accept header.

The accepted forms are the reference server's (docs/reference-server.md); the
media types themselves are parsed by :mod:`dicomweb_nb.protocol.media`.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal

from ..protocol.media import MediaType, parse_accept
from .errors import RequestError

ELE = "1.2.840.10008.1.2.1"
J2K_LOSSLESS = "1.2.840.10008.1.2.4.90"

Kind = Literal["bulk", "instance", "frames"]


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
        raise RequestError(
            HTTPStatus.NOT_ACCEPTABLE,
            f"The requested transfer syntax '{ts}' is not supported; use *, {ELE} (explicit VR "
            f"little endian) or {J2K_LOSSLESS} (JPEG 2000 lossless).",
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
    RequestError
        406 when nothing in the header can be served; 400 for a single-part type asked for
        several frames.
    """
    ranges = parse_accept(header) or [MediaType("*/*", {})]
    part = "application/octet-stream" if kind == "frames" else "application/dicom"
    problem: RequestError | None = None
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
                    problem = RequestError(
                        HTTPStatus.BAD_REQUEST,
                        "A single-part application/octet-stream answer holds one frame; "
                        'ask for multipart/related; type="application/octet-stream".',
                    )
                    continue
                return Choice(False, part, _syntax(m, ELE))
        except RequestError as exc:
            problem = exc
    if problem is not None:
        raise problem
    wanted = {
        "bulk": 'multipart/related; type="application/dicom"',
        "instance": 'application/dicom or multipart/related; type="application/dicom"',
        "frames": 'multipart/related; type="application/octet-stream" or type="image/jp2"',
    }[kind]
    raise RequestError(
        HTTPStatus.NOT_ACCEPTABLE,
        f"The Accept header '{header}' is not supported here; use {wanted}.",
    )


# What a rendered Accept range is answered with. PS3.18 8.3.5.1 (rendered media types) makes
# image/jpeg the default, so the wildcards a browser sends (``*/*``, ``image/*``) get it: a superset
# of the reference, which refuses them (docs/reference-server.md, WADO-RS). application/jpeg and
# application/png are what the reference's own Postman collection asks for; no such types are
# registered, and HTTP lets a server answer with the image type they plainly mean.
_RENDERED = {
    "image/jpeg": "image/jpeg",
    "image/png": "image/png",
    "image/*": "image/jpeg",
    "*/*": "image/jpeg",
    "application/jpeg": "image/jpeg",
    "application/png": "image/png",
}


def _refused(m: MediaType) -> bool:
    # q=0 means "not acceptable" (RFC 9110 12.4.2); an unreadable q counts as 1, as in sorting.
    try:
        return float(m.params.get("q", "1")) <= 0
    except ValueError:
        return False


def choose_rendered(header: str | None) -> str:
    """Pick the image type of a rendered retrieve: the first acceptable of JPEG and PNG.

    Parameters
    ----------
    header : str or None
        The Accept header; missing or blank means ``image/jpeg``.

    Returns
    -------
    str
        ``"image/jpeg"`` or ``"image/png"``: the most preferred range that names one of them, or
        a wildcard (``*/*``, ``image/*``), which means JPEG.

    Raises
    ------
    RequestError
        406 when no range names either type or a wildcard (e.g. only ``image/gif``).
    """
    ranges = parse_accept(header)
    if not ranges:
        return "image/jpeg"
    for m in ranges:
        chosen = _RENDERED.get(m.mime)
        if chosen is not None and not _refused(m):
            return chosen
    raise RequestError(
        HTTPStatus.NOT_ACCEPTABLE,
        f"The Accept header '{header}' is not supported for rendered images; "
        "use image/jpeg or image/png.",
    )
