"""The ``dicomweb-nb`` command: ``serve`` the embedded DICOMweb server, write ``samples``."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .server.app import create_app

    data = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="dicomweb-nb-"))
    app = create_app(data, token=args.token)
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
    print(f"DICOMweb base URL: http://{args.host}:{args.port}/v1 (also /v2)")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("Warning: listening beyond loopback; use --token to require a bearer token.")
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, lifespan="off")
    return 0


def _samples(args: argparse.Namespace) -> int:
    from .samples import write_samples

    paths = write_samples(Path(args.folder), synthetic=not args.tutorial_only)
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
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
