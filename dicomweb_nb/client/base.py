"""What every transaction mixin of the client shares: the session and the metadata cache."""

from __future__ import annotations

from typing import Any

from .session import Session

# Metadata path -> (ETag, DICOM JSON): what a later request with If-None-Match can reuse.
MetadataCache = dict[str, tuple[str, list[dict[str, Any]]]]


class ClientBase:
    """The state the transaction mixins of :class:`~dicomweb_nb.client.api.DicomWebClient` use.

    Each mixin (STOW, QIDO, WADO) subclasses this and relies on nothing else, so none of them
    needs to know about the others; the state is set here and only here.

    Parameters
    ----------
    session : Session
        The connection pool every request goes through.

    Attributes
    ----------
    session : Session
        As given.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._etags: MetadataCache = {}
