"""The layers of ARCHITECTURE.md: which part of the package may import which.

Two checks: every module's import statements (also those inside functions, which a runtime check
misses until they run) against the table below, read from the source; and a fresh interpreter
that imports a layer, or drives the client, to see which third-party packages it loads.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dicomweb_nb"

# Each layer and the parts of the package it may import (besides itself). The top of the stack
# is widgets; the protocol core is the bottom and imports nothing of ours.
ALLOWED: dict[str, set[str]] = {
    "protocol": set(),
    "hooks": set(),
    "pixels": {"protocol"},
    "client": {"protocol", "hooks", "pixels"},
    "server": {"protocol", "pixels", "_tempdirs"},
    "tables": {"protocol"},
    "display": {"protocol", "pixels", "_fonts"},
    "samples": {"protocol", "_synthetic", "_tempdirs"},
    "_synthetic": {"protocol", "_phantom"},
    "_phantom": set(),
    "_fonts": set(),
    "_tempdirs": set(),
    # The IPython extension of the notebooks: one-line errors for the client's and requests'.
    "teaching": {"client"},
    # The server panel starts an embedded server (LocalServer) for a notebook that has none.
    "widgets": {
        "client",
        "tables",
        "display",
        "protocol",
        "pixels",
        "hooks",
        "server",
        "_tempdirs",
    },
    "cli": {"server", "samples", "workshop", "_tempdirs"},
    "workshop": set(),
}
# The package's __init__ re-exports the public names lazily; it may name every layer.
TOP = "__init__"


def _layer_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[str]:
    """Absolute dicomweb_nb modules imported anywhere in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ["dicomweb_nb", *path.relative_to(PACKAGE).parent.parts]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("dicomweb_nb")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
                names = [] if node.module else [f"{module}.{a.name}" for a in node.names]
                found += names or [module]
            elif node.module and node.module.startswith("dicomweb_nb"):
                found.append(node.module)
    return found


def test_every_module_keeps_to_its_layer() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    layers = {_layer_of(p) for p in modules} - {TOP}
    assert layers == set(ALLOWED), "a new part of the package needs its row in ALLOWED"
    problems = []
    for path in modules:
        layer = _layer_of(path)
        if layer == TOP:
            continue
        for module in _imports(path):
            parts = module.split(".")
            target = parts[1] if len(parts) > 1 else TOP
            if target != layer and target not in ALLOWED[layer]:
                problems.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert problems == []


# What the notebook layer brings in; the client must not load any of it by itself.
NOTEBOOK_LAYER = [
    "pandas",
    "matplotlib",
    "ipywidgets",
    "IPython",
    "dicomweb_nb.tables",
    "dicomweb_nb.display",
    "dicomweb_nb.widgets",
]

CHECKS = {
    "dicomweb_nb.client": ["starlette", "uvicorn", "dicomweb_nb.server", *NOTEBOOK_LAYER],
    "dicomweb_nb.server.app": ["dicomweb_nb.client", "pandas", "matplotlib", "ipywidgets"],
    "dicomweb_nb.samples": ["starlette", "dicomweb_nb.client", "dicomweb_nb.server"],
    "dicomweb_nb.hooks": ["dicomweb_nb.client", "dicomweb_nb.server", *NOTEBOOK_LAYER],
    "dicomweb_nb.protocol.multipart": ["requests", "starlette", "numpy", *NOTEBOOK_LAYER],
    "dicomweb_nb.protocol.media": ["pydicom", "requests", "starlette", *NOTEBOOK_LAYER],
    "dicomweb_nb.tables": ["matplotlib", "ipywidgets", "starlette", "dicomweb_nb.client"],
    "dicomweb_nb.display": ["pandas", "ipywidgets", "starlette", "IPython", "dicomweb_nb.client"],
}


@pytest.mark.parametrize(("module", "forbidden"), CHECKS.items())
def test_layer_imports(module: str, forbidden: list[str]) -> None:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print(sorted(m for m in {forbidden!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


# Every kind of client call against the embedded server (whose imports were checked above to
# include none of the notebook layer), then the two ways into the notebook layer: a registered
# formatter keeps pandas out, the default one brings it in only when a table is asked for.
CLIENT_CALLS = textwrap.dedent(
    """
    import sys
    from dicomweb_nb import DicomWebClient, LocalServer, hooks, samples

    FORBIDDEN = {forbidden!r}

    def loaded():
        return sorted(m for m in FORBIDDEN if m in sys.modules)

    folder = {folder!r}  # pytest's tmp_path: removed with the test's other folders
    with LocalServer(folder + "/data") as server, DicomWebClient(server.url) as client:
        S, SE, I = samples.STUDY_UID, samples.SERIES_UID_GREEN_RED, samples.INSTANCE_UID_RED
        stored = client.store_instances(samples.write_tutorial_samples(folder + "/in"))
        repr(stored), stored.rows()
        client.store_instance_single(samples.tutorial_dataset("blue-circle.dcm"))
        studies = client.search_for_studies({{"PatientName": "anon"}}, fuzzymatching=True)
        repr(studies), client.search_for_series(S), client.search_for_instances(S, SE)
        client.retrieve_study(S), client.retrieve_series(S, SE), client.retrieve_instance(S, SE, I)
        client.retrieve_study_metadata(S), client.retrieve_instance_metadata(S, SE, I)
        client.retrieve_instance_frames(S, SE, I), client.retrieve_instance_frame_arrays(S, SE, I)
        client.retrieve_instance_rendered(S, SE, I)
        client.retrieve_instance_frames_rendered(S, SE, I, media_type="image/jpeg")
        client.save_study(S, folder + "/out")
        list(client.iter_changes())
        client.delete_instance(S, SE, I)
        assert loaded() == [], ("client calls", loaded())

        class Table:
            def _repr_html_(self):
                return "<table>rows</table>"

        hooks.register_table_formatter(lambda items, level: Table())
        assert studies._repr_html_() == "<table>rows</table>"
        assert loaded() == [], ("a registered formatter", loaded())

        hooks.register_table_formatter(None)
        frame = studies.to_dataframe()
        assert "<table" in studies._repr_html_() and len(frame) == 1
        print(loaded())
    """
)


def test_client_calls_load_the_notebook_layer_only_for_tables(tmp_path: Path) -> None:
    code = CLIENT_CALLS.format(forbidden=NOTEBOOK_LAYER, folder=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # Only what a DataFrame needs: pandas and the tables module, not plotting or widgets.
    assert out.stdout.strip() == "['dicomweb_nb.tables', 'pandas']", out.stdout
