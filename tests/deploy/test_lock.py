"""requirements.lock pins every dependency of pyproject.toml with hashes, and
``make install`` refuses a pyproject dependency that the lock lacks."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("check_lock", ROOT / "scripts" / "check_lock.py")
check_lock = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_lock)


def test_the_committed_lock_covers_pyproject_with_exact_versions_and_hashes():
    lock = (ROOT / "requirements.lock").read_text()
    assert check_lock.problems((ROOT / "pyproject.toml").read_text(), lock) == []
    entries = re.split(r"\n(?=[a-z0-9])", lock.split("\n", 2)[2])
    pins = [e for e in entries if "==" in e.split("\n", 1)[0]]
    assert len(pins) > 50
    for entry in pins:
        assert "--hash=sha256:" in entry, entry.split("\n", 1)[0]


def test_a_dependency_missing_from_the_lock_is_named():
    pyproject = (
        (ROOT / "pyproject.toml")
        .read_text()
        .replace('"gunicorn>=22",', '"gunicorn>=22",\n  "some-new-package>=1.0",')
    )
    found = check_lock.problems(pyproject, (ROOT / "requirements.lock").read_text())
    assert found == ["'some-new-package>=1.0' is in pyproject.toml but not in requirements.lock"]


def test_a_lock_outside_the_specifier_is_named():
    lock = (ROOT / "requirements.lock").read_text()
    lock = re.sub(r"^gunicorn==\S+", "gunicorn==20.0.0", lock, flags=re.M)
    found = check_lock.problems((ROOT / "pyproject.toml").read_text(), lock)
    assert found == ["requirements.lock pins gunicorn==20.0.0, outside 'gunicorn>=22'"]


def test_make_install_installs_from_the_lock_with_hashes():
    makefile = (ROOT / "Makefile").read_text()
    assert "$(STAMP): pyproject.toml requirements.lock" in makefile
    assert "--require-hashes -r requirements.lock" in makefile
    assert "--no-deps -e ." in makefile
    assert "scripts/check_lock.py" in makefile
