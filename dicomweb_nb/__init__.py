"""dicomweb-nb: DICOMweb (STOW-RS, WADO-RS, QIDO-RS) in Jupyter, with an embedded server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .client import (
    DicomWebClient,
    DicomWebError,
    InvalidInput,
    NotFound,
    SearchResults,
    StoreResult,
)

if TYPE_CHECKING:
    from .server.local import LocalServer

__all__ = [
    "DicomWebClient",
    "DicomWebError",
    "InvalidInput",
    "LocalServer",
    "NotFound",
    "SearchResults",
    "StoreResult",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The server's dependencies (starlette, uvicorn) load only when it is used.
    if name == "LocalServer":
        from .server.local import LocalServer

        return LocalServer
    raise AttributeError(f"module 'dicomweb_nb' has no attribute {name!r}")
