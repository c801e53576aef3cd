"""Media types: ``Content-Type`` and ``Accept`` values parsed the way DICOMweb peers write them.

Parsed leniently (be lenient in what you accept): quoted or unquoted parameters, a trailing ``;``,
and Orthanc's habit of nesting ``transfer-syntax`` inside the quoted ``type`` parameter
(``multipart/related; type="application/dicom; transfer-syntax=…"``).
"""

from __future__ import annotations

from dataclasses import dataclass

DICOM_JSON = "application/dicom+json"
# Accept values that let an answer be application/dicom+json (PS3.18 8.7.3; the reference adds
# application/json).
DICOM_JSON_RANGES = frozenset({DICOM_JSON, "application/json", "application/*", "*/*"})


@dataclass(frozen=True)
class MediaType:
    """A parsed media type: lower-case ``type/subtype`` and parameters (names lower-cased)."""

    mime: str
    params: dict[str, str]

    def param(self, name: str) -> str | None:
        """Return a parameter's value, or None.

        Parameters
        ----------
        name : str
            The parameter's name in lower case.

        Returns
        -------
        str or None
            The value without quotes.
        """
        return self.params.get(name)


def split_unquoted(text: str, sep: str) -> list[str]:
    """Split ``text`` at ``sep`` wherever it is not inside double quotes.

    Parameters
    ----------
    text : str
        A header value.
    sep : str
        One character, e.g. ``;`` or ``,``.

    Returns
    -------
    list of str
        The pieces, not stripped.
    """
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
    pieces = split_unquoted(text, ";")
    mime = pieces[0].strip().lower()
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        name, _, value = piece.partition("=")
        name = name.strip().lower()
        if not name:
            continue
        value = value.strip()
        if value[:1] == value[-1:] == '"' and len(value) > 1:
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
    ranges = [parse_media_type(p) for p in split_unquoted(header, ",") if p.strip()]

    def quality(m: MediaType) -> float:
        try:
            return float(m.params.get("q", "1"))
        except ValueError:
            return 1.0

    return sorted(ranges, key=quality, reverse=True)


def accepts_dicom_json(header: str | None) -> bool:
    """Tell whether an Accept header lets the answer be ``application/dicom+json``.

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
