"""Security hygiene of the embedded server: what it writes, who may ask, how much and how slowly."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from dicomweb_nb import LocalServer

from .helpers import make_instance, stow

STUDY, SERIES = "1.2.826.0.1.3680043.8.498.9", "1.2.826.0.1.3680043.8.498.9.1"


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_data_folders_and_index_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)  # the most permissive: every mode below is set, not inherited
    try:
        with LocalServer(tmp_path / "data") as server:
            assert (
                stow(server.url, [make_instance(STUDY, SERIES, f"{SERIES}.1")]).status_code == 200
            )
            root = tmp_path / "data"
            for folder in (root, root / "tmp", root / "instances", root / "instances" / STUDY):
                assert _mode(folder) == 0o700, folder
            assert _mode(root / "instances" / STUDY / SERIES) == 0o700
            for name in ("index.sqlite", "index.sqlite-wal", "index.sqlite-shm"):
                assert _mode(root / name) == 0o600, name
            [instance] = (root / "instances").rglob("*.dcm")
            assert _mode(instance) == 0o600
    finally:
        os.umask(old)
