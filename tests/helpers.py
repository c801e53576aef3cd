"""Small helpers shared by the server tests: build STOW bodies by hand, read replies."""

from __future__ import annotations

import secrets
import socket
from typing import Any

import requests

JSON = {"Accept": "application/dicom+json"}


def multipart(parts: list[bytes], part_type: str | None = "application/dicom") -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    chunks = []
    for data in parts:
        head = f"--{boundary}\r\n"
        if part_type is not None:
            head += f"Content-Type: {part_type}\r\n"
        chunks.append(head.encode() + b"\r\n" + data + b"\r\n")
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return body, f'multipart/related; type="application/dicom"; boundary={boundary}'


def stow(url: str, parts: list[bytes], study: str | None = None, **kw: Any) -> requests.Response:
    body, content_type = multipart(parts)
    target = f"{url}/studies" + (f"/{study}" if study else "")
    return requests.post(target, body, headers={**JSON, "Content-Type": content_type}, **kw)


def failure_reasons(response: requests.Response) -> list[int]:
    items = response.json().get("00081198", {}).get("Value", [])
    return [item["00081197"]["Value"][0] for item in items]


def stored_uids(response: requests.Response) -> list[str]:
    items = response.json().get("00081199", {}).get("Value", [])
    return [item["00081155"]["Value"][0] for item in items]


def make_instance(study: str, series: str, sop: str, **attrs: Any) -> bytes:
    """A small valid CT instance (8×8, 16-bit) with the given attributes, as Part-10 bytes."""
    import io

    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.file_meta.MediaStorageSOPInstanceUID = sop
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = sop
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.PatientID = "P1"
    ds.PatientName = "Doe^John"
    ds.Modality = "CT"
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelData = np.arange(64, dtype="<u2").tobytes()
    for key, value in attrs.items():
        setattr(ds, key, value)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def read_response(sock: socket.socket, timeout: float = 15) -> tuple[str, dict[str, str], bytes]:
    """Read one HTTP/1.1 answer with a Content-Length from a raw socket.

    Returns the status line, the headers (names in lower case) and the body; raises
    ConnectionError when the connection closes before the whole answer came.
    """
    sock.settimeout(timeout)
    data = bytearray()
    while True:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            status, *lines = bytes(data[:end]).decode("latin-1").split("\r\n")
            fields = dict(line.split(":", 1) for line in lines)
            headers = {name.strip().lower(): value.strip() for name, value in fields.items()}
            length = int(headers.get("content-length", "0"))
            if len(data) - end - 4 >= length:
                return status, headers, bytes(data[end + 4 : end + 4 + length])
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the connection closed before the whole answer came")
        data += chunk


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(folder: Any, port: int, *extra: str, **popen: Any) -> Any:
    """Start `dicomweb-nb serve` in its own process on a data folder (not waiting for it)."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "dicomweb_nb.cli", "serve", "--port", str(port)]
    command += ["--data", str(folder), "--log-level", "warning", *extra]
    return subprocess.Popen(command, **popen)
