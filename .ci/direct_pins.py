"""Print the pins of a resolved requirements file that name a direct runtime dependency.

Usage: python .ci/direct_pins.py pyproject.toml resolved.txt

.ci/run resolves pyproject.toml's dependencies at their lowest (uv's lowest-direct) and keeps
only the direct ones as constraints: transitive packages and the test tools stay free.
"""

from __future__ import annotations

import re
import sys
import tomllib


def canonical(name: str) -> str:
    """Return a distribution name in PEP 503 normal form."""
    return re.sub(r"[-_.]+", "-", name).lower()


def main(pyproject: str, resolved: str) -> int:
    """Print the direct dependencies' pins; fail if one is missing from the resolution."""
    with open(pyproject, "rb") as f:
        deps = tomllib.load(f)["project"]["dependencies"]
    direct = {canonical(re.split(r"[\s<>=!~;\[]", dep, maxsplit=1)[0]) for dep in deps}
    pins = {}
    with open(resolved, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if "==" in line:
                name, version = line.split("==", 1)
                pins[canonical(name)] = version.strip()
    missing = sorted(direct - pins.keys())
    if missing:
        print(f"not resolved: {', '.join(missing)}", file=sys.stderr)
        return 1
    for name in sorted(direct):
        print(f"{name}=={pins[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
