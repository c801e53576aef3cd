"""What a path answers beyond its routes: ``OPTIONS``, other methods, and ``$``-operations.

Starlette answers a method a path does not serve with the ``Allow`` of the *first* route that
matched the path, so ``PUT /v1/studies`` said ``Allow: POST`` although GET is served there too,
and ``OPTIONS`` was a 405. :class:`OtherMethods` sits behind all routes of one path and knows all
of its methods: ``OPTIONS`` is answered 204 with them (RFC 9110 9.3.7), anything else 405 with
them. A CORS preflight never gets here: :mod:`..cors` answers it before the token gate.

``POST /studies/$bulkupdate`` (an operation of Microsoft's server, in its Postman collection) once
reached STOW as a study UID and was refused as a bad UID. A ``$``-segment names an operation, not
a UID: :class:`UnsupportedOperation` answers every method on it 404 in words that say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from http import HTTPStatus

from starlette.convertors import Convertor
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..errors import plain_error

# The order Allow lists methods in: stable, so answers (and tests) do not depend on set order.
_ORDER = ("GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS")

# Operations of the reference (KnownRoutes.cs at eeefbe4d7) the embedded server does not offer,
# lower-cased: ASP.NET matches routes case-insensitively, and its Postman collection writes
# "$bulkupdate" where the code says "$bulkUpdate".
REFERENCE_OPERATIONS = {"$bulkupdate": "bulk update of study attributes"}


def allow_header(methods: Iterable[str]) -> str:
    """Return the ``Allow`` value of a path serving ``methods`` (with HEAD for GET, and OPTIONS).

    Parameters
    ----------
    methods : iterable of str
        The methods of the path's routes.

    Returns
    -------
    str
        E.g. ``"GET, HEAD, POST, OPTIONS"``.
    """
    allowed = {m.upper() for m in methods} | {"OPTIONS"}
    if "GET" in allowed:
        allowed.add("HEAD")  # Starlette serves HEAD wherever GET is
    rank = {m: i for i, m in enumerate(_ORDER)}
    return ", ".join(sorted(allowed, key=lambda m: (rank.get(m, len(rank)), m)))


class OtherMethods:
    """ASGI endpoint behind a path's routes: ``OPTIONS`` 204, other methods 405, with ``Allow``.

    Parameters
    ----------
    methods : iterable of str
        The methods the path's routes serve.
    """

    def __init__(self, methods: Iterable[str]) -> None:
        self.allow = allow_header(methods)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a request no route of the path took.

        Parameters
        ----------
        scope : Scope
            The ASGI scope.
        receive : Receive
            The ASGI receive callable.
        send : Send
            The ASGI send callable.
        """
        headers = {"Allow": self.allow}
        if scope["method"] == "OPTIONS":
            response = Response(status_code=HTTPStatus.NO_CONTENT, headers=headers)
        else:
            response = plain_error(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"The method {scope['method']} is not allowed here; this path serves {self.allow}.",
                headers,
            )
        await response(scope, receive, send)


class OperationConvertor(Convertor[str]):
    """A path segment that names an operation: ``$`` and a name, e.g. ``$bulkupdate``."""

    regex = r"\$[^/]*"

    def convert(self, value: str) -> str:
        """Return the segment as it is.

        Parameters
        ----------
        value : str
            The matched segment.

        Returns
        -------
        str
            The same text.
        """
        return value

    def to_string(self, value: str) -> str:
        """Return the segment as it is (for ``url_path_for``).

        Parameters
        ----------
        value : str
            The operation.

        Returns
        -------
        str
            The same text.
        """
        return value


class UnsupportedOperation:
    """ASGI endpoint for ``../studies/$…``: 404 naming the operation, whatever the method."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer 404: the operation is not offered (or not known at all).

        Parameters
        ----------
        scope : Scope
            The ASGI scope (``path_params["operation"]`` is the ``$``-segment).
        receive : Receive
            The ASGI receive callable.
        send : Send
            The ASGI send callable.
        """
        operation = scope["path_params"]["operation"]
        known = REFERENCE_OPERATIONS.get(operation.lower())
        if known is not None:
            message = (
                f"The operation {operation} ({known}) of Microsoft's DICOM server is not offered "
                "by the embedded server; delete the instances and store the changed ones instead."
            )
        else:
            message = f"There is no operation {operation}; a study UID has digits and dots only."
        await plain_error(HTTPStatus.NOT_FOUND, message)(scope, receive, send)
