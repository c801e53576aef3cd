"""dicomweb-nb: DICOMweb (STOW-RS, WADO-RS, QIDO-RS) in Jupyter, with an embedded server."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import (
        DicomWebClient,
        DicomWebError,
        InvalidInput,
        NotFound,
        SearchResults,
        StoreResult,
    )
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

# Each layer loads on first use, so importing the server never pulls in the client (and the
# reverse), and neither loads the other's dependencies.
_HOMES = {name: ".client" for name in __all__ if name != "LocalServer"} | {
    "LocalServer": ".server.local"
}


def load_ipython_extension(shell: Any) -> None:
    """``%load_ext dicomweb_nb``: errors a learner meets show as one line with what to do.

    See :mod:`dicomweb_nb.teaching`.

    Parameters
    ----------
    shell : IPython.core.interactiveshell.InteractiveShell
        The shell.
    """
    from .teaching import load_ipython_extension as load

    load(shell)


def unload_ipython_extension(shell: Any) -> None:
    """``%unload_ext dicomweb_nb``: IPython's usual tracebacks again.

    Parameters
    ----------
    shell : IPython.core.interactiveshell.InteractiveShell
        The shell.
    """
    from .teaching import unload_ipython_extension as unload

    unload(shell)


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name], __name__), name)
    if name == "samples":
        return importlib.import_module(".samples", __name__)
    raise AttributeError(f"module 'dicomweb_nb' has no attribute {name!r}")
