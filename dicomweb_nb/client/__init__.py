"""The client core: DICOMweb transactions over requests, with no Jupyter imports."""

from .api import DicomWebClient
from .errors import (
    Conflict,
    ConnectionFailed,
    DicomWebError,
    DicomWebWarning,
    HTTPStatusError,
    InvalidInput,
    NotAcceptable,
    NotFound,
    PartitionNotFound,
    ProtocolError,
    Timeout,
    Unauthorized,
    UnsupportedMediaType,
)
from .results import InstanceOutcome, SearchResults, StoreResult

__all__ = [
    "Conflict",
    "ConnectionFailed",
    "DicomWebClient",
    "DicomWebError",
    "DicomWebWarning",
    "HTTPStatusError",
    "InstanceOutcome",
    "InvalidInput",
    "NotAcceptable",
    "NotFound",
    "PartitionNotFound",
    "ProtocolError",
    "SearchResults",
    "StoreResult",
    "Timeout",
    "Unauthorized",
    "UnsupportedMediaType",
]
