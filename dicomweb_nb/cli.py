"""The ``dicomweb-nb`` command: ``serve`` the embedded DICOMweb server, write ``samples``."""

from __future__ import annotations

import argparse
import errno
import socket
import sys
from collections.abc import Sequence
from pathlib import Path


class CommandError(Exception):
    """A failure the command reports in one line (exit status 1), without a traceback."""


def _listen(host: str, port: int) -> socket.socket:
    # Bound before anything is printed or loaded: a busy port fails first, in one line.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CommandError(
                f"Port {port} on {host} is already in use (another dicomweb-nb serve?): stop "
                f"that program, or choose another port with --port {port + 1}."
            ) from exc
        raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from exc
    return sock


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from . import _tempdirs
    from .server.app import create_app

    sock = _listen(args.host, args.port)
    # A temporary folder goes when the command ends (and, after a kill, at the next start).
    data = Path(args.data) if args.data else _tempdirs.make()
    try:
        app = create_app(data, token=args.token)
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
    print(f"DICOMweb base URL: http://{host}:{sock.getsockname()[1]}/v1 (also /v2)", flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("Warning: listening beyond loopback; use --token to require a bearer token.")
    config = uvicorn.Config(app, log_level=args.log_level, lifespan="off")
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
    serve.add_argument("--token", help="require Authorization: Bearer TOKEN")
    serve.add_argument(
        "--samples", action="store_true", help="store the tutorial's three sample files at start"
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
