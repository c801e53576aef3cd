"""Turn what users hand to ``store_instances`` into parts to send, reporting what is not DICOM."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_partial
from pydicom.tag import BaseTag, Tag

from ..protocol.multipart import BodyPart
from .errors import InvalidInput

CHUNK = 1 << 20
NOT_DICOM = "not a DICOM Part 10 file (no 'DICM' prefix after the 128-byte preamble); not sent"
StoreItem = str | os.PathLike[str] | bytes | bytearray | IO[bytes] | Dataset

DICOM = "application/dicom"


@dataclass
class Prepared:
    """An input ready to send (``source`` set) or refused before sending (``problem`` set).

    ``index`` is its position among the flattened inputs (see :func:`flatten`).
    """

    label: str
    source: BodyPart | None = None
    sop_instance_uid: str | None = None
    sop_class_uid: str | None = None
    problem: str = ""
    index: int = 0


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _identify(fp: Any) -> tuple[str | None, str | None]:
    ds = pydicom.dcmread(
        fp, stop_before_pixels=True, specific_tags=["SOPInstanceUID", "SOPClassUID"]
    )
    return _uids(ds)


def _uids(ds: Dataset) -> tuple[str | None, str | None]:
    return (
        str(ds.get("SOPInstanceUID", "") or "") or None,
        str(ds.get("SOPClassUID", "") or "") or None,
    )


# A file's first bytes, read at once to identify it: enough for the header of most images.
HEAD_BYTES = 64 * 1024
# Where dcmread(stop_before_pixels=True) stops.
_PIXEL_DATA_TAGS = frozenset({0x7FE00010, 0x7FE00009, 0x7FE00008})
_UID_TAGS: list[BaseTag | int] = [Tag("SOPInstanceUID"), Tag("SOPClassUID")]


def _identify_file(path: Path) -> tuple[str | None, str | None]:
    """Identify a file as :func:`_identify` does, from its first bytes when they suffice.

    pydicom reads a file element by element, in many small reads; parsing one 64 KiB read in
    memory is cheaper. Its answer is the one reading the file gives when the parse reached the
    pixel data (where that reading stops too) or the bytes were the whole file. Otherwise, and
    on any error, the file is read as before, so problems are reported exactly as before.
    """
    reached = False

    def at_pixel_data(tag: int, *_: object) -> bool:
        nonlocal reached
        reached = tag in _PIXEL_DATA_TAGS
        return reached

    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
        whole = len(head) < HEAD_BYTES
        ds = read_partial(io.BytesIO(head), stop_when=at_pixel_data, specific_tags=_UID_TAGS)
        if reached or whole:
            return _uids(ds)
    except Exception:
        pass
    return _identify(path)


def _prepare_path(path: Path) -> Prepared:
    label = str(path)
    try:
        sop, cls = _identify_file(path)
    except InvalidDicomError:
        return Prepared(label, problem=NOT_DICOM)
    except (OSError, EOFError, ValueError, TypeError, KeyError) as exc:
        return Prepared(label, problem=f"unreadable DICOM file ({type(exc).__name__}: {exc})")
    size = path.stat().st_size
    return Prepared(label, BodyPart(DICOM, size, lambda: _file_chunks(path)), sop, cls)


def _prepare_bytes(data: bytes, label: str) -> Prepared:
    try:
        sop, cls = _identify(io.BytesIO(data))
    except InvalidDicomError:
        return Prepared(label, problem=NOT_DICOM)
    except (EOFError, ValueError, TypeError, KeyError) as exc:
        return Prepared(label, problem=f"unreadable DICOM data ({type(exc).__name__}: {exc})")
    return Prepared(label, BodyPart(DICOM, len(data), lambda: iter((data,))), sop, cls)


def _dataset_bytes(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    if not getattr(ds, "file_meta", None) or "TransferSyntaxUID" not in ds.file_meta:
        raise InvalidInput(
            f"Dataset {ds.get('SOPInstanceUID', '?')} has no file_meta.TransferSyntaxUID; "
            "set ds.file_meta (pydicom.dataset.FileMetaDataset) before storing it."
        )
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _is_single(items: object) -> bool:
    return isinstance(items, str | os.PathLike | bytes | bytearray | Dataset) or hasattr(
        items, "read"
    )


def _expand(items: StoreItem | Iterable[StoreItem]) -> Iterator[tuple[StoreItem, str]]:
    many: Iterable[Any] = [items] if _is_single(items) else items  # type: ignore[assignment]
    for n, item in enumerate(many):
        if isinstance(item, str | os.PathLike):
            path = Path(item)
            if path.is_dir():
                for child in sorted(p for p in path.rglob("*") if p.is_file()):
                    yield child, str(child)
            elif not path.exists():
                raise InvalidInput(f"{path}: no such file or folder.")
            else:
                yield path, str(path)
        else:
            label = getattr(item, "name", None) or f"item {n}"
            yield item, str(label)


Input = tuple[StoreItem, str]


def flatten(items: StoreItem | Iterable[StoreItem]) -> list[Input] | Iterator[Input]:
    """Return the inputs one by one with their labels, folders expanded into their files.

    Parameters
    ----------
    items : item or iterable of items
        What the caller gave ``store_instances``.

    Returns
    -------
    list or iterator of (item, label)
        One entry per file or object, folders walked recursively in name order; an entry's
        position is the ``index`` of its outcome. A list (so its length is known, and a path
        that does not exist is found before anything is sent), except when ``items`` is a
        one-shot iterator such as a generator of Datasets: that stays an iterator, so the
        objects are made one at a time and memory does not grow with their number.

    Raises
    ------
    InvalidInput
        For a path that does not exist (from the iterator, when it is reached).
    """
    flat = _expand(items)
    if not _is_single(items) and isinstance(items, Iterator):
        return flat
    return list(flat)


def prepare(inputs: Iterable[Input]) -> Iterator[Prepared]:
    """Prepare flattened inputs one at a time: files, bytes, binary files, Datasets.

    Parameters
    ----------
    inputs : iterable of (item, label)
        What :func:`flatten` returns.

    Yields
    ------
    Prepared
        One per input, with its ``index`` in ``inputs``. Files are read when sent, so memory
        does not grow with their number.

    Raises
    ------
    InvalidInput
        For a Dataset without file meta, or an object that cannot be stored.
    """
    for index, (item, label) in enumerate(inputs):
        if isinstance(item, Path):
            prepared = _prepare_path(item)
        elif isinstance(item, Dataset):
            prepared = _prepare_bytes(_dataset_bytes(item), label)
        elif isinstance(item, bytes | bytearray):
            prepared = _prepare_bytes(bytes(item), label)
        elif hasattr(item, "read"):
            prepared = _prepare_bytes(item.read(), label)
        else:
            raise InvalidInput(
                f"Cannot store {type(item).__name__}: give paths, folders, bytes, binary files "
                "or pydicom Datasets."
            )
        prepared.index = index
        yield prepared
