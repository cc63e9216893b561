"""Print pip constraints that pin every direct dependency to the lowest version pyproject allows.

``make test-min`` installs the package with these constraints (its ``test`` extra included) in a
virtual environment of its own and runs the tests, so the floors in ``pyproject.toml`` are tested
floors. A requirement without a ``>=`` (or ``==``/``~=``) floor is left free. Indirect dependencies
resolve as pip chooses (the newest versions compatible with the floors).

Usage: ``python .ci/min_constraints.py [EXTRA ...] > constraints-min.txt`` (default extra: test).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

FLOOR = re.compile(r"(?:>=|==|~=)\s*([0-9][0-9A-Za-z.]*)")
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def floors(requirements: list[str]) -> dict[str, str]:
    """Requirement name → its lowest allowed version (markers and extras dropped)."""
    out: dict[str, str] = {}
    for requirement in requirements:
        spec = requirement.split(";")[0]
        name = NAME.match(spec)
        floor = FLOOR.search(spec)
        if name and floor:
            out[name.group(1).lower()] = floor.group(1)
    return out


def main(extras: list[str]) -> None:
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())[
        "project"
    ]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project.get("optional-dependencies", {}).get(extra, [])
    for name, version in sorted(floors(requirements).items()):
        print(f"{name}=={version}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["test"])
