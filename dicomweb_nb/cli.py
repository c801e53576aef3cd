"""The ``dicomweb-nb`` command: ``serve`` the embedded DICOMweb server, write ``samples``."""

from __future__ import annotations

import argparse
import errno
import os
import re
import socket
import stat
import sys
from collections.abc import Sequence
from pathlib import Path

TOKEN_VARIABLE = "DICOMWEB_NB_TOKEN"


class CommandError(Exception):
    """A failure the command reports in one line (exit status 1), without a traceback."""


def _listen(host: str, port: int) -> socket.socket:
    # Bound before anything is printed or loaded: a busy port fails first, in one line.
    from .server.serving import listening_socket

    try:
        return listening_socket(host, port)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(
                f"Port {port} on {host} is already in use (another dicomweb-nb serve?): stop "
                f"that program, or choose another port with --port {port + 1}."
            ) from exc
        raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from exc


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_size(text: str) -> int | None:
    """Parse a byte count such as ``4G``, ``512M``, ``1048576``; ``0`` or ``none`` means no limit.

    Parameters
    ----------
    text : str
        Digits with an optional binary unit K, M, G or T (``KiB``, ``MB``… read the same).

    Returns
    -------
    int or None
        The bytes, or None for no limit.

    Raises
    ------
    argparse.ArgumentTypeError
        For anything else.
    """
    if text.strip().lower() == "none":
        return None
    match = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)(?:I?B)?\s*", text.upper())
    if match is None:
        raise argparse.ArgumentTypeError(f"'{text}' is not a size such as 4G, 512M or 1048576.")
    size = int(match.group(1)) * _UNITS[match.group(2)]
    return size or None


def _origins(text: str) -> tuple[str, ...]:
    from .server.cors import parse_origins

    try:
        return parse_origins(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _token(args: argparse.Namespace) -> str | None:
    # The command line is visible to every local user (ps); a file or the environment is not.
    if args.token_file:
        path = Path(args.token_file)
        token = path.read_text(encoding="utf-8").strip()
        if not token:
            raise CommandError(f"The token file {path} is empty.")
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            print(f"Warning: {path} can be read by other users; chmod 600 it.", file=sys.stderr)
        return token
    if args.token:
        print(
            f"Note: a token on the command line is visible to other users (ps); prefer "
            f"--token-file or {TOKEN_VARIABLE}.",
            file=sys.stderr,
        )
        return str(args.token)
    return os.environ.get(TOKEN_VARIABLE) or None


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from . import _tempdirs
    from .server.app import create_app
    from .server.serving import uvicorn_config

    token = _token(args)
    generated = False
    if args.workshop:
        from .workshop import workshop_token

        token, generated = workshop_token(token, args.host)
    partitions = args.partitions or args.workshop
    sock = _listen(args.host, args.port)
    port = int(sock.getsockname()[1])
    # A temporary folder goes when the command ends (and, after a kill, at the next start).
    data = Path(args.data) if args.data else _tempdirs.make()
    try:
        app = create_app(
            data,
            token=token,
            max_body=args.max_body,
            partitions=partitions,
            cors=args.cors,
            bulkdata_uris=args.bulkdata_uris,
        )
    except OSError as exc:
        sock.close()
        raise CommandError(f"Cannot use {data} as the data folder: {exc.strerror or exc}.") from exc
    if args.samples:
        from .samples import write_tutorial_samples
        from .server.store import Archive, import_files

        folder = data / "samples"
        outcomes = import_files(Archive(data), write_tutorial_samples(folder))
        stored = sum(o.stored for o in outcomes)
        print(
            f"Loaded the tutorial samples: {stored} stored, {len(outcomes) - stored} already there."
        )
    print(f"Data folder: {data}")
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"DICOMweb base URL: http://{host}:{port}/v1 (also /v2)", flush=True)
    if args.cors:
        print(f"CORS: pages from {', '.join(args.cors)} may call it.")
    if partitions:
        print(f"Data partitions: on (http://{host}:{port}/v1/partitions/<name>/…)")
    if args.workshop:
        from .workshop import connect_block

        print(connect_block(args.host, port, token, generated=generated), flush=True)
    if token is None and args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            "Warning: listening beyond loopback without a token; use --token-file or "
            f"{TOKEN_VARIABLE} to require a bearer token."
        )
    config = uvicorn_config(app, log_level=args.log_level, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def _samples(args: argparse.Namespace) -> int:
    from .samples import write_samples

    try:
        paths = write_samples(Path(args.folder), synthetic=not args.tutorial_only)
    except OSError as exc:
        where = exc.filename or args.folder
        raise CommandError(
            f"Cannot write the samples to {where}: {exc.strerror or exc}. Give a folder you "
            "can write to (it is created when missing)."
        ) from exc
    print(f"Wrote {len(paths)} files under {args.folder}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser.

    Returns
    -------
    argparse.ArgumentParser
        The parser with the ``serve`` and ``samples`` sub-commands.
    """
    parser = argparse.ArgumentParser(
        prog="dicomweb-nb", description="DICOMweb in Jupyter: an embedded server and sample data."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the embedded DICOMweb server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    serve.add_argument("--data", help="data folder (default: a new temporary folder)")
    given = serve.add_mutually_exclusive_group()
    given.add_argument(
        "--token",
        help=f"require Authorization: Bearer TOKEN (visible in ps; prefer --token-file or "
        f"{TOKEN_VARIABLE})",
    )
    given.add_argument(
        "--token-file", metavar="PATH", help="require the bearer token read from this file"
    )
    serve.add_argument(
        "--max-body",
        type=parse_size,
        default="4G",
        metavar="SIZE",
        help="refuse request bodies larger than SIZE with 413 (default 4G; 0 for no limit)",
    )
    serve.add_argument(
        "--cors",
        type=_origins,
        default=(),
        metavar="ORIGIN[,ORIGIN…]",
        help="let pages from these origins call the server (e.g. an OHIF viewer on "
        "http://localhost:3000); * for any origin (default: no CORS)",
    )
    serve.add_argument(
        "--bulkdata-uris",
        action="store_true",
        help="give metadata a BulkDataURI for pixel data and other binary values (beyond the "
        "reference, which leaves them out)",
    )
    serve.add_argument(
        "--samples", action="store_true", help="store the tutorial's three sample files at start"
    )
    serve.add_argument(
        "--partitions",
        action="store_true",
        help="serve data partitions: /v1/partitions/NAME/... (Microsoft's EnableDataPartitions)",
    )
    serve.add_argument(
        "--workshop",
        action="store_true",
        help="one server for a class: partitions on, a token required beyond loopback "
        "(generated if none is given), and how participants connect printed at start",
    )
    serve.add_argument("--log-level", default="info", help="uvicorn log level (default info)")
    serve.set_defaults(func=_serve)
    samples = sub.add_parser("samples", help="write generated sample DICOM files into a folder")
    samples.add_argument("folder", help="where to write them")
    samples.add_argument(
        "--tutorial-only", action="store_true", help="only the tutorial's three files"
    )
    samples.set_defaults(func=_samples)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status.
    """
    args = build_parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except CommandError as exc:
        print(f"dicomweb-nb {args.command}: {exc}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
