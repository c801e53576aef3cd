"""A STOW endpoint that does only part of a server's work: the floor under a one-instance STOW.

    python benchmarks/floor_app.py --port 8100 --tier parse --data /tmp/floor

Run by ``stow_floor.py``, on the same HTTP stack as our server (Starlette on uvicorn, configured
by :func:`dicomweb_nb.server.serving.uvicorn_config`: httptools, uvloop). ``POST /v1/studies``
does, by tier, cumulatively:

``http``
    read the whole request body, answer 200 with a small DICOM JSON body;
``sync``
    also write the body's one part to a new file and ``fdatasync`` it, the one sync Orthanc makes
    per instance;
``parse``
    also, before writing, decode the multipart body with our decoder and read the part with
    pydicom (as any server that checks what it stores must).

Nothing is indexed, checked or answered per instance. Not a server: a measuring stick.
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
from pathlib import Path

import pydicom
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dicomweb_nb.protocol.media import parse_media_type
from dicomweb_nb.protocol.multipart import iter_parts
from dicomweb_nb.server.serving import uvicorn_config

TIERS = ("http", "sync", "parse")
# About what a server answers for one stored instance (its ReferencedSOPSequence item).
ANSWER = b'{"00081199": {"vr": "SQ", "Value": [{}]}}'


def create_app(tier: str, data: Path) -> Starlette:
    """Return the app of one tier.

    Parameters
    ----------
    tier : {"http", "sync", "parse"}
        How much of a STOW to do (see the module docstring).
    data : Path
        Where the ``sync`` and ``parse`` tiers write their files.

    Returns
    -------
    Starlette
        The app.
    """
    data.mkdir(parents=True, exist_ok=True)
    names = itertools.count()

    async def store(request: Request) -> Response:
        body = await request.body()
        content = body
        if tier == "parse":
            media = parse_media_type(request.headers["content-type"])
            (part,) = iter_parts([body], media.params["boundary"])
            pydicom.dcmread(io.BytesIO(part.content))
            content = part.content
        if tier != "http":
            path = data / f"{next(names)}.dcm"
            with open(path, "wb") as fh:
                fh.write(content)
                fh.flush()
                os.fdatasync(fh.fileno())
        return Response(ANSWER, media_type="application/dicom+json")

    async def health(_request: Request) -> Response:
        return Response(b"ok")

    return Starlette(
        routes=[
            Route("/v1/studies", store, methods=["POST"]),
            Route("/health/check", health),
        ]
    )


def main() -> None:
    """Serve one tier on 127.0.0.1 until stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tier", choices=TIERS, required=True)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    app = create_app(args.tier, args.data)
    config = uvicorn_config(app, host="127.0.0.1", port=args.port, log_level="warning")
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
