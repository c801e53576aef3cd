"""The browser clients the viewer tests load, from the npm registry, cached under build/.

- dcmjs's ``dicomweb-client``: ``npm ci`` from ``tests/browser/package-lock.json``, run in a copy
  under ``build/browser/`` so the source tree gets no ``node_modules``.
- OHIF: ``npm install @ohif/app`` would fetch hundreds of packages the built app never loads (and
  failed where this was written: the registry served no ``@ohif/i18n@3.13.2``, which it asks for);
  the npm tarball alone holds the built viewer in ``dist/``. So only that tarball is fetched, with
  ``npm pack``, checked against the integrity pinned in ``package.json`` (``ohifApp``), and its
  ``dist/`` extracted without source maps to ``build/browser/ohif-app-<version>/``.

npm keeps what it downloaded in ``build/npm-cache`` (``--prefer-offline``: no registry request when
the cache has it), and each step is skipped when its result is already there, so only the first
run downloads anything (about 50 MB). ``python -m tests.browser.assets`` does both steps ahead of
the tests (what CI runs); the tests call :func:`ensure` themselves too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BUILD = ROOT / "build" / "browser"
NPM_CACHE = ROOT / "build" / "npm-cache"
# Python versions with extraction filters (3.10.12+) refuse links and absolute paths outright;
# the loop below extracts plain files and folders only, for the others.
_SAFE = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
_NPM_FLAGS = ["--cache", str(NPM_CACHE), "--prefer-offline", "--ignore-scripts", "--no-audit"]


@dataclass(frozen=True)
class Assets:
    """Where the installed browser clients are."""

    dicomweb_client_js: Path  # the UMD build, global DICOMwebClient
    ohif_dist: Path  # the built OHIF viewer: index.html, app-config.js, bundles
    ohif_version: str


def _pins() -> dict[str, str]:
    package = json.loads((HERE / "package.json").read_text())
    pins: dict[str, str] = package["ohifApp"]
    return pins


def npm_available() -> bool:
    """Tell whether ``npm`` is on the PATH."""
    return shutil.which("npm") is not None


def cached() -> bool:
    """Tell whether both clients are installed already (then npm is not needed)."""
    client = BUILD / "node_modules" / "dicomweb-client" / "build" / "dicomweb-client.js"
    ohif = BUILD / f"ohif-app-{_pins()['version']}" / ".complete"
    return client.exists() and ohif.exists()


def _dicomweb_client() -> Path:
    lock = (HERE / "package-lock.json").read_bytes()
    target = BUILD / "node_modules" / "dicomweb-client" / "build" / "dicomweb-client.js"
    installed_lock = BUILD / "package-lock.json"
    if target.exists() and installed_lock.exists() and installed_lock.read_bytes() == lock:
        return target
    BUILD.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "package.json", BUILD / "package.json")
    shutil.copy(HERE / "package-lock.json", installed_lock)
    subprocess.run(["npm", "ci", "--no-fund", *_NPM_FLAGS], cwd=BUILD, check=True)
    return target


def _sri(path: Path) -> str:
    digest = hashlib.sha512(path.read_bytes()).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def _ohif() -> tuple[Path, str]:
    pins = _pins()
    version = pins["version"]
    folder = BUILD / f"ohif-app-{version}"
    if (folder / ".complete").exists():
        return folder, version
    with tempfile.TemporaryDirectory(dir=BUILD.parent) as tmp:
        out = subprocess.run(
            [
                "npm",
                "pack",
                f"@ohif/app@{version}",
                "--pack-destination",
                tmp,
                "--json",
                *_NPM_FLAGS,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        [packed] = json.loads(out.stdout)
        tarball = Path(tmp) / packed["filename"]
        if _sri(tarball) != pins["integrity"]:
            raise RuntimeError(
                f"@ohif/app@{version} from the registry does not match the integrity pinned in "
                f"{HERE / 'package.json'}; refusing to use it."
            )
        partial = Path(tmp) / "dist"
        with tarfile.open(tarball) as tar:
            for member in tar.getmembers():
                name = member.name
                if not name.startswith("package/dist/") or name.endswith(".map"):
                    continue  # source maps: 38 MB a browser never loads unless asked
                if not (member.isfile() or member.isdir()):
                    continue
                member.name = name[len("package/dist/") :]
                tar.extract(member, partial, **_SAFE)
        if folder.exists():
            shutil.rmtree(folder)
        partial.rename(folder)
    (folder / ".complete").write_text(pins["integrity"])
    return folder, version


def ensure() -> Assets:
    """Install (or find cached) dicomweb-client and OHIF's built viewer under build/browser/.

    Returns
    -------
    Assets
        Their paths.
    """
    BUILD.mkdir(parents=True, exist_ok=True)
    client = _dicomweb_client()
    dist, version = _ohif()
    return Assets(client, dist, version)


def main() -> int:
    """Install both, saying how long it took and how much is on disk."""
    started = time.monotonic()
    assets = ensure()
    size = sum(f.stat().st_size for f in assets.ohif_dist.rglob("*") if f.is_file())
    print(f"dicomweb-client: {assets.dicomweb_client_js}")
    print(f"OHIF {assets.ohif_version}: {assets.ohif_dist} ({size / 1e6:.0f} MB)")
    print(f"ready in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
