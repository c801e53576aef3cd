"""Temporary data folders leave no trace: at exit without stop(), and after a killed kernel."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dicomweb_nb import _tempdirs, samples


def _run(code: str, tmp: Path) -> str:
    env = {**os.environ, "TMPDIR": str(tmp)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_kernel_that_ends_without_stop_leaves_no_folder(tmp_path: Path) -> None:
    server = _run(
        "from dicomweb_nb import LocalServer\n"
        "s = LocalServer().start()\n"
        "open(s.data_dir / 'marker', 'w').write('x')\n"
        "print(s.data_dir)\n",
        tmp_path,
    )
    panel = _run(
        "from dicomweb_nb.widgets import panel\n"
        "p = panel()\n"
        "p.server.start_local()\n"
        "print(p.server._server.data_dir)\n",
        tmp_path,
    )
    assert Path(server).parent == tmp_path and Path(panel).parent == tmp_path
    assert list(tmp_path.iterdir()) == []


def test_the_tutorial_files_folder_goes_with_its_kernel(tmp_path: Path) -> None:
    # The tutorial notebooks write their three sample files here at every run (8.5 MB).
    out = _run(
        "from dicomweb_nb import samples\n"
        "folder = samples.tutorial_folder()\n"
        "print(folder)\n"
        "print(' '.join(sorted(p.name for p in folder.iterdir())))\n",
        tmp_path,
    )
    folder, names = out.splitlines()
    assert Path(folder).parent == tmp_path
    assert names.split() == sorted(samples.TUTORIAL_FILES)
    assert list(tmp_path.iterdir()) == []


def test_a_server_never_stopped_is_halted_before_the_interpreter_tears_down(
    tmp_path: Path,
) -> None:
    # An event loop still running while the interpreter finalizes crashed the process now and
    # then (uvloop: SIGSEGV at exit, one run in about 35). A check registered before the server
    # starts runs after the server's exit hook (atexit is last in, first out).
    out = _run(
        "import atexit, threading\n"
        "def report():\n"
        "    alive = [t.name for t in threading.enumerate() if t.name == 'dicomweb-nb-server']\n"
        "    print('server thread alive' if alive else 'server thread ended')\n"
        "atexit.register(report)\n"
        "from dicomweb_nb import LocalServer\n"
        "s = LocalServer().start()\n"
        "import requests\n"
        "print(requests.get(s.url + '/studies', timeout=10).status_code)\n",
        tmp_path,
    )
    assert out.splitlines() == ["204", "server thread ended"]


def test_a_running_server_that_is_collected_stops_before_its_folder_goes(tmp_path: Path) -> None:
    out = _run(
        "import gc, threading\n"
        "from dicomweb_nb import LocalServer\n"
        "s = LocalServer().start()\n"
        "thread, folder = s._thread, s.data_dir\n"
        "del s\n"
        "gc.collect()\n"
        "print(thread.is_alive(), folder.exists())\n",
        tmp_path,
    )
    assert out == "False False"


def test_folders_of_dead_processes_go_at_the_next_start(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    stale = tmp_path / f"dicomweb-nb-{dead}-abc123"
    (stale / "instances").mkdir(parents=True)
    mine = tmp_path / f"dicomweb-nb-{os.getpid()}-def456"
    mine.mkdir()
    other = tmp_path / "dicomweb-nb-notours"  # not named by a pid: never touched
    other.mkdir()
    fresh = _tempdirs.make(parent=tmp_path)
    assert not stale.exists() and mine.exists() and other.exists() and fresh.exists()
    assert fresh.name.startswith(f"dicomweb-nb-{os.getpid()}-")
