"""Fail clearly when pyproject.toml lists a dependency that requirements.lock lacks.

``make install`` installs exactly the lock file (``pip install --require-hashes``); a
dependency added to pyproject.toml without ``make lock`` would otherwise be missing from
the installation, or fail deep inside pip. Standard library only (runs before install).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def required(pyproject: dict) -> dict[str, str]:
    project = pyproject["project"]
    specs = list(project.get("dependencies", []))
    for extra in project.get("optional-dependencies", {}).values():
        specs += extra
    out = {}
    for spec in specs:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)", spec)
        out[normalise(match.group(1))] = spec
    return out


def locked(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
        if match:
            pins[normalise(match.group(1))] = match.group(2)
    return pins


def problems(pyproject_text: str, lock_text: str) -> list[str]:
    pins = locked(lock_text)
    found = []
    for name, spec in sorted(required(tomllib.loads(pyproject_text)).items()):
        if name not in pins:
            found.append(f"{spec!r} is in pyproject.toml but not in requirements.lock")
            continue
        try:  # the version must still satisfy the specifier (pip vendors packaging)
            from pip._vendor.packaging.requirements import Requirement

            if not Requirement(spec).specifier.contains(pins[name], prereleases=True):
                found.append(f"requirements.lock pins {name}=={pins[name]}, outside {spec!r}")
        except ImportError:  # pragma: no cover - no pip: names only
            pass
    return found


def main() -> int:
    lock = ROOT / "requirements.lock"
    if not lock.exists():
        print("requirements.lock is missing: run `make lock`.", file=sys.stderr)
        return 1
    found = problems((ROOT / "pyproject.toml").read_text(), lock.read_text())
    for problem in found:
        print(f"lock check: {problem}", file=sys.stderr)
    if found:
        print("Run `make lock` to refresh requirements.lock, and commit it.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
