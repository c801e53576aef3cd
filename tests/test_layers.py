"""The dependency direction of design.md, checked by importing each layer in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECKS = {
    "dicomweb_nb.client": [
        "starlette",
        "uvicorn",
        "pandas",
        "matplotlib",
        "ipywidgets",
        "dicomweb_nb.server",
    ],
    "dicomweb_nb.server.app": ["dicomweb_nb.client", "pandas", "matplotlib", "ipywidgets"],
    "dicomweb_nb.samples": ["starlette", "dicomweb_nb.client", "dicomweb_nb.server"],
}


@pytest.mark.parametrize(("module", "forbidden"), CHECKS.items())
def test_layer_imports(module: str, forbidden: list[str]) -> None:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print(sorted(m for m in {forbidden!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
