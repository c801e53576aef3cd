"""``GET /``: a small page saying what this is, its base URLs, and how to connect."""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from ..context import VERSIONS

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dicomweb-nb DICOMweb server</title>
<style>body{{font-family:sans-serif;max-width:46em;margin:2em auto;line-height:1.5}}
code,pre{{background:#f3f3f3;padding:.1em .3em}}pre{{padding:.6em}}</style></head>
<body><h1>dicomweb-nb DICOMweb server</h1>
<p>This is an embedded DICOMweb server (STOW-RS, WADO-RS, QIDO-RS, delete, change feed).
There is nothing to see at <code>/</code>: DICOMweb lives under a versioned base URL.</p>
<p>Base URL: <code>{base}</code> (also {others}).</p>
<h2>Connect</h2>
<pre>from dicomweb_nb import DicomWebClient
client = DicomWebClient("{base}")
client.search_for_studies()</pre>
<pre>curl -H "Accept: application/dicom+json" {base}/studies</pre>
<p>The same base URL works with <code>dicomweb-client</code> and other DICOMweb tools.
Health: <a href="{root}/health/check">{root}/health/check</a>.</p>
</body></html>
"""


async def landing(request: Request) -> Response:
    """Answer ``GET /`` with the base URLs and how to connect.

    Parameters
    ----------
    request : Request
        The request.

    Returns
    -------
    Response
        An HTML page.
    """
    root = str(request.base_url).rstrip("/")
    base = f"{root}/v1"
    others = ", ".join(f"<code>{html.escape(root)}/v{v}</code>" for v in VERSIONS if v != "1")
    return HTMLResponse(_PAGE.format(base=html.escape(base), root=html.escape(root), others=others))
