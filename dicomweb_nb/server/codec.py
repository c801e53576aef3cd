"""The one boundary around pixel codecs: whatever a decoder or encoder does, the request gets a 406.

pydicom hands compressed pixel data to plugins written in C and Rust (pylibjpeg-libjpeg, -openjpeg,
-rle). Crafted data can make them fail in ways no ``except Exception`` sees: pylibjpeg-rle panics
on some RLE segment headers, and pyo3 turns the panic into ``PanicException``, which derives from
``BaseException``. Every call into a codec goes through :func:`codec_boundary`, so such failures
become a :class:`TranscodeError` (406) with a short reason instead of uvicorn's bare 500 and a
Rust backtrace.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import BinaryIO

import numpy as np
from pydicom.pixels.encoders.base import get_encoder
from pydicom.pixels.utils import pixel_array
from pydicom.uid import JPEG2000Lossless

from .errors import RequestError

log = logging.getLogger("dicomweb_nb.server")

# What must never be turned into an answer: the interpreter stopping, a generator being closed, a
# task being cancelled.
_PASS_THROUGH = (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError)


class TranscodeError(RequestError):
    """The instance cannot be given in the requested transfer syntax: 406.

    Raised for an unsupported target or source, and for any codec failure.

    Parameters
    ----------
    message : str
        Which syntax, from which, and what to ask for instead (or why the codec failed).
    """

    def __init__(self, message: str) -> None:
        super().__init__(HTTPStatus.NOT_ACCEPTABLE, message)


def _reason(exc: BaseException) -> str:
    # One short line: a panic message or pydicom's reason, never a traceback.
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    return f"{name}: {text[:200]}" if text else name


@contextmanager
def codec_boundary(what: str) -> Iterator[None]:
    """Turn any failure inside the block into a :class:`TranscodeError` (406).

    Keep ``yield`` statements of an enclosing generator outside the block: a generator being
    closed raises ``GeneratorExit`` there, which must pass.

    Parameters
    ----------
    what : str
        What the block does, for the message (e.g. ``"Cannot decode frame 3 of 1.2.840…5"``).

    Yields
    ------
    None
        Control to the block.

    Raises
    ------
    TranscodeError
        For any exception, including ``BaseException`` subclasses such as pyo3's PanicException;
        interpreter exits, generator closes and cancellations pass unchanged.
    """
    try:
        yield
    except (RequestError, *_PASS_THROUGH):
        raise
    except BaseException as exc:  # PanicException derives from BaseException, see module doc
        log.warning("codec failure: %s: %s", what, _reason(exc))
        raise TranscodeError(f"{what}: {_reason(exc)}") from exc


def decode_frame(fh: BinaryIO, n: int, what: str) -> np.ndarray:
    """Decode one frame of an open stored file into pixels, inside the codec boundary.

    Parameters
    ----------
    fh : BinaryIO
        The stored file, open (it may have been deleted since: the open file still reads).
    n : int
        The 1-based frame number.
    what : str
        The message prefix should decoding fail.

    Returns
    -------
    numpy.ndarray
        The frame's pixels, as pydicom decodes them.

    Raises
    ------
    TranscodeError
        When the decoder fails in any way.
    """
    with codec_boundary(what):
        fh.seek(0)
        arr: np.ndarray = pixel_array(fh, index=n - 1)
    return arr


def encode_j2k_lossless(arr: np.ndarray, options: dict[str, object], what: str) -> bytes:
    """Encode one frame as a JPEG 2000 lossless codestream, inside the codec boundary.

    Parameters
    ----------
    arr : numpy.ndarray
        The frame's pixels.
    options : dict
        The encoder's image description (rows, columns, bits, photometric interpretation…).
    what : str
        The message prefix should encoding fail.

    Returns
    -------
    bytes
        The codestream.

    Raises
    ------
    TranscodeError
        When the encoder fails in any way.
    """
    with codec_boundary(what):
        data: bytes = get_encoder(JPEG2000Lossless).encode(arr, **options)  # type: ignore[arg-type]
    return data
