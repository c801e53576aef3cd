"""Bulk data (PS3.18 8.7.3.5, F.2.2): where the binary values left out of metadata can be fetched.

The stored metadata leaves out every value of VR OB, OD, OF, OL, OV, OW and UN (:mod:`.ingest`),
as the reference does, which offers no bulk data at all. The embedded server can say where those
values are: with ``bulkdata_uris`` on (``dicomweb-nb serve --bulkdata-uris``,
``LocalServer(bulkdata_uris=True)``), each left-out element appears in metadata as
``{"vr": "OW", "BulkDataURI": "…/instances/{i}/bulkdata/{path}"}``, read from the stored file
when the metadata is asked for. Off by default: v1 and v2 answers keep the reference's shape, so a
client written against Microsoft's server sees what it would see there, and clients that cannot
add a query parameter to a metadata request (OHIF, dicomweb-client) still get the URIs when the
server is started with them.

``{path}`` is the element's tag, and for an element inside a sequence the tags and 0-based item
indexes down to it: ``7FE00010``, ``00540016/0/00181072``. The route serves any such path whether
metadata named it or not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, BinaryIO

import numpy as np
import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian

from ..protocol.dicomjson import tag_text
from .errors import RequestError
from .index import InstanceRecord
from .metadata_json import BULK_VRS
from .store import Archive
from .transcode import PIXEL_DATA, read_header

CHUNK = 1 << 20
_TAG = re.compile(r"^[0-9A-Fa-f]{8}$")
# Values of these VRs are words; a big-endian file holds them byte-swapped (PS3.5 7.3).
_WORD_SIZE = {"OW": 2, "OF": 4, "OL": 4, "OD": 8, "OV": 8}
_BIG_ENDIAN = str(ExplicitVRBigEndian)
_DEFLATED = str(DeflatedExplicitVRLittleEndian)


@dataclass(frozen=True)
class BulkElement:
    """One element whose value is bulk data: where it is and what it is."""

    path: tuple[int, ...]  # tag, item index, tag, … (item indexes 0-based)
    vr: str
    empty: bool

    @property
    def uri_path(self) -> str:
        """The ``{path}`` of its URI: hex tags and item indexes joined by ``/``."""
        return "/".join(
            f"{step:08X}" if i % 2 == 0 else str(step) for i, step in enumerate(self.path)
        )


def _vr_of(raw: RawDataElement | DataElement, tag: int) -> str:
    vr = getattr(raw, "VR", None)
    if vr:
        return str(vr)
    try:
        return str(dictionary_VR(tag))
    except KeyError:
        return "UN"  # a private element of an implicit VR file


def bulk_vr(vr: str) -> str | None:
    """Return the VR a bulk element is given in metadata, or None when ``vr`` is not bulk.

    Parameters
    ----------
    vr : str
        The element's VR, as read or from the dictionary (``"OB or OW"`` for implicit files).

    Returns
    -------
    str or None
        ``vr`` itself for OB, OD, OF, OL, OV, OW, UN; ``"OW"`` for an ambiguous VR that may be
        OW (implicit VR Pixel Data and LUT data are OW, PS3.5 A.1), ``"OB"`` for one that may
        be OB; None otherwise.
    """
    if vr in BULK_VRS:
        return vr
    if " or " in vr:
        choices = vr.split(" or ")
        return "OW" if "OW" in choices else "OB" if "OB" in choices else None
    return None


def bulk_elements(ds: Dataset, prefix: tuple[int, ...] = ()) -> Iterator[BulkElement]:
    """Yield the bulk elements of a dataset, also those inside sequence items.

    Parameters
    ----------
    ds : Dataset
        The dataset, read with deferred values (:func:`.transcode.read_header`).
    prefix : tuple of int
        The path of the item ``ds`` is (empty for the top level).

    Yields
    ------
    BulkElement
        Each element whose value metadata leaves out, in tag order.
    """
    for tag in list(ds.keys()):  # keys, not iteration: iterating would read deferred values
        raw = ds.get_item(tag, keep_deferred=True)
        vr = _vr_of(raw, int(tag))
        if vr == "SQ":
            for index, item in enumerate(ds[tag].value or []):
                yield from bulk_elements(item, (*prefix, int(tag), index))
            continue
        kind = bulk_vr(vr)
        if kind is not None:
            length = getattr(raw, "length", None)
            empty = length == 0 if length is not None else not raw.value
            yield BulkElement((*prefix, int(tag)), kind, empty)


def with_uris(data: dict[str, Any], elements: list[BulkElement], instance_url: str) -> str:
    """Add ``BulkDataURI`` elements to an instance's stored metadata.

    Parameters
    ----------
    data : dict
        The stored DICOM JSON object of the instance, parsed (changed in place).
    elements : list of BulkElement
        Its bulk elements (:func:`bulk_elements`).
    instance_url : str
        The instance's URL, ``…/studies/{s}/series/{se}/instances/{i}``.

    Returns
    -------
    str
        The object as JSON, each bulk element as ``{"vr": …, "BulkDataURI": …}`` (an empty one as
        ``{"vr": …}``), the keys of each object in tag order.
    """
    for element in elements:
        target: dict[str, Any] | None = data
        for i in range(0, len(element.path) - 1, 2):
            items = (target or {}).get(f"{element.path[i]:08X}", {}).get("Value", [])
            index = element.path[i + 1]
            target = items[index] if index < len(items) else None
        if target is None:
            continue  # a sequence item the stored metadata does not hold
        entry: dict[str, Any] = {"vr": element.vr}
        if not element.empty:
            entry["BulkDataURI"] = f"{instance_url}/bulkdata/{element.uri_path}"
        target[f"{element.path[-1]:08X}"] = entry
    return json.dumps(_sorted(data), separators=(",", ":"), ensure_ascii=False)


def metadata_with_uris(
    archive: Archive, records: list[InstanceRecord], texts: list[str], base: str
) -> list[str]:
    """Add ``BulkDataURI`` elements to the stored metadata of ``records``, read from their files.

    Parameters
    ----------
    archive : Archive
        The archive (opens the files).
    records : list of InstanceRecord
        The instances of the scope.
    texts : list of str
        Their stored DICOM JSON objects, as :meth:`.index.Index.metadata` gives them.
    base : str
        The versioned base URL.

    Returns
    -------
    list of str
        The objects with URIs; one whose file is gone meanwhile is returned as stored.
    """
    by_uids: dict[tuple[str | None, str | None], InstanceRecord] = {
        (r.series_uid, r.sop_uid): r for r in records
    }
    out = []
    for text in texts:
        data = json.loads(text)
        key = (_first(data, "0020000E"), _first(data, "00080018"))
        record = by_uids.get(key)
        try:
            fh = archive.open_file(record) if record is not None else None
        except FileNotFoundError:
            fh = None  # deleted since the index was read
        if record is None or fh is None:
            out.append(text)
            continue
        with fh:
            elements = list(bulk_elements(read_header(fh)))
        url = (
            f"{base}/studies/{record.study_uid}/series/{record.series_uid}"
            f"/instances/{record.sop_uid}"
        )
        out.append(with_uris(data, elements, url))
    return out


def _first(data: dict[str, Any], key: str) -> str | None:
    values = data.get(key, {}).get("Value") or [None]
    return str(values[0]) if values[0] is not None else None


def _sorted(data: Any) -> Any:
    if isinstance(data, dict):
        keys = sorted(data) if all(_TAG.match(k) for k in data) else list(data)
        return {k: _sorted(data[k]) for k in keys}
    if isinstance(data, list):
        return [_sorted(v) for v in data]
    return data


def parse_path(raw: str) -> tuple[int, ...]:
    """Parse the ``{path}`` of a bulk data URI.

    Parameters
    ----------
    raw : str
        E.g. ``7FE00010`` or ``00540016/0/00181072``.

    Returns
    -------
    tuple of int
        Tag, item index, tag, …

    Raises
    ------
    RequestError
        400 for anything else.
    """
    steps = raw.strip("/").split("/")
    ok = len(steps) % 2 == 1 and all(
        _TAG.match(s) if i % 2 == 0 else s.isdigit() for i, s in enumerate(steps)
    )
    if not ok:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            f"The bulk data path '{raw}' is not a tag, or tags and 0-based item indexes "
            "separated by '/' (e.g. 7FE00010 or 00540016/0/00181072).",
        )
    return tuple(int(s, 16) if i % 2 == 0 else int(s) for i, s in enumerate(steps))


@dataclass(frozen=True)
class BulkValue:
    """A bulk value found in a stored file: its bytes, made when sent, and their count."""

    size: int
    chunks: Callable[[], Iterator[bytes]]
    is_pixel_data: bool
    encapsulated: bool


def find(fh: BinaryIO, path: tuple[int, ...]) -> tuple[Dataset, BulkValue]:
    """Find the bulk value at ``path`` in an open stored file.

    Parameters
    ----------
    fh : BinaryIO
        The stored file; a top-level value is read from it while it is sent.
    path : tuple of int
        From :func:`parse_path`.

    Returns
    -------
    (Dataset, BulkValue)
        The file's dataset (deferred) and the value. Words of a big-endian file are swapped to
        little endian: ``application/octet-stream`` without a transfer syntax means explicit VR
        little endian (docs/reference-server.md, WADO-RS). Encapsulated Pixel Data is left in the
        file (``size`` 0): it is sent frame by frame (:func:`.frame_parts.frame_parts`).

    Raises
    ------
    RequestError
        404 when there is no such element or item, or the element is not bulk data.
    """
    ds = read_header(fh)
    syntax = str(ds.file_meta.TransferSyntaxUID)
    if syntax == _DEFLATED:
        # Its offsets are those of the inflated data set, not of the file: read it whole.
        fh.seek(0)
        ds = pydicom.dcmread(fh)
    big_endian = syntax == _BIG_ENDIAN
    where = ds
    for i in range(0, len(path) - 1, 2):
        tag, index = path[i], path[i + 1]
        items = where[tag].value if tag in where and _vr_of(where[tag], tag) == "SQ" else None
        if items is None or index >= len(items):
            raise _missing(path)
        where = items[index]
    tag = path[-1]
    if tag not in where:
        raise _missing(path)
    raw = where.get_item(tag, keep_deferred=True)
    vr = bulk_vr(_vr_of(raw, tag))
    if vr is None:
        raise RequestError(
            HTTPStatus.NOT_FOUND,
            f"{tag_text(tag)} is not bulk data; its value is in the metadata.",
        )
    is_pixel_data = len(path) == 1 and tag == PIXEL_DATA
    length = getattr(raw, "length", None)
    encapsulated = length == 0xFFFFFFFF
    if encapsulated and is_pixel_data:
        return ds, BulkValue(0, lambda: iter(()), True, True)
    swap = _WORD_SIZE.get(vr) if big_endian else None
    if isinstance(raw, RawDataElement) and raw.value is None and swap is None and not encapsulated:
        # Deferred: streamed from the file, never held whole.
        start, size = raw.value_tell, int(raw.length)
        return ds, BulkValue(size, lambda: _file_chunks(fh, start, size), is_pixel_data, False)
    value = where[tag].value or b""
    data = bytes(value) if isinstance(value, bytes | bytearray) else b""
    if swap:
        data = np.frombuffer(data, dtype=f">u{swap}").astype(f"<u{swap}").tobytes()
    return ds, BulkValue(len(data), lambda: iter((data,)), is_pixel_data, encapsulated)


def _missing(path: tuple[int, ...]) -> RequestError:
    shown = "/".join(f"{s:08X}" if i % 2 == 0 else str(s) for i, s in enumerate(path))
    return RequestError(HTTPStatus.NOT_FOUND, f"The instance has no element at '{shown}'.")


def _file_chunks(fh: BinaryIO, start: int, size: int) -> Iterator[bytes]:
    done = 0
    while done < size:
        fh.seek(start + done)
        piece = fh.read(min(CHUNK, size - done))
        if not piece:
            raise OSError(f"The stored value ends {size - done} bytes early.")
        done += len(piece)
        yield piece
