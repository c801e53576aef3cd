"""Seams between the layers: how the client's results become tables without the client knowing.

The client returns search results and metadata that show as tables in Jupyter, but tables need
pandas, which belongs to the notebook layer (:mod:`dicomweb_nb.tables`). The client never
imports that layer: :class:`~dicomweb_nb.client.SearchResults` asks this module for the *table
formatter* when a table is wanted, and only then is the notebook layer loaded. By default the
formatter is :func:`dicomweb_nb.tables.to_dataframe` (named in
:data:`DEFAULT_TABLE_FORMATTER`, imported on first use); :func:`register_table_formatter`
puts another in its place.

This module imports only the standard library, so every layer can use it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

#: ``formatter(dicom_json_objects, level)`` -> a table. ``level`` is ``"study"``,
#: ``"series"``, ``"instance"`` or None (guess). What it returns is what
#: ``SearchResults.to_dataframe()`` returns; the notebook shows its ``_repr_html_()``.
TableFormatter = Callable[[Sequence[dict[str, Any]], str | None], Any]

#: The notebook layer's formatter, as ``"module:function"``: imported when a table is first
#: wanted and no other formatter is registered.
DEFAULT_TABLE_FORMATTER = "dicomweb_nb.tables:to_dataframe"

_registered: TableFormatter | None = None


def register_table_formatter(formatter: TableFormatter | None) -> TableFormatter | None:
    """Make search results and metadata use ``formatter`` for their tables.

    Parameters
    ----------
    formatter : callable or None
        ``formatter(dicom_json_objects, level)`` returning a table (e.g. a DataFrame); None
        goes back to :data:`DEFAULT_TABLE_FORMATTER`.

    Returns
    -------
    callable or None
        The formatter registered before (None for the default), to put back later.
    """
    global _registered
    previous, _registered = _registered, formatter
    return previous


def table_formatter() -> TableFormatter:
    """Return the formatter in use, importing the default one on first use.

    Returns
    -------
    callable
        The registered formatter, else :data:`DEFAULT_TABLE_FORMATTER` (the notebook layer,
        which loads pandas).
    """
    if _registered is not None:
        return _registered
    module, _, name = DEFAULT_TABLE_FORMATTER.partition(":")
    formatter: TableFormatter = getattr(importlib.import_module(module), name)
    return formatter
