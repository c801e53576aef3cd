"""Small helpers shared by the server tests: build STOW bodies by hand, read replies."""

from __future__ import annotations

import secrets
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
