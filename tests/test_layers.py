"""The dependency direction of design.md, checked by importing each layer in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

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
    import sys, tempfile
    from dicomweb_nb import DicomWebClient, LocalServer, hooks, samples

    FORBIDDEN = {forbidden!r}

    def loaded():
        return sorted(m for m in FORBIDDEN if m in sys.modules)

    folder = tempfile.mkdtemp()
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


def test_client_calls_load_the_notebook_layer_only_for_tables() -> None:
    code = CLIENT_CALLS.format(forbidden=NOTEBOOK_LAYER)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # Only what a DataFrame needs: pandas and the tables module, not plotting or widgets.
    assert out.stdout.strip() == "['dicomweb_nb.tables', 'pandas']", out.stdout
