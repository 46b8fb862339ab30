"""Arm visibility is decided in one module, ``access/blinding.py``.

A grep over the project's source and templates: the tokens an arm-visibility decision is
made of (the blinded flag of a trial, the unblinded-view permission, a look-up of the
user's own emergency unblindings) must not appear outside the access kernel. A new page
that needs to know asks ``access.blinding``; the test names the file and line otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Where a decision may be made: the kernel (its roles name the permission).
KERNEL = {"access/blinding.py", "access/roles.py"}
#: Files that may use a token, and why (each entry must still match: no stale allowances).
ALLOWED: dict[str, str] = {
    # the definition of the flag and the protocol's own validation of a blinded design
    "trials/models.py": "defines Trial.is_blinded and validates a blinded design",
    # writes the emergency-unblinding record itself (unblinded_by=acting_user)
    "patients/services/unblinding.py": "records an emergency unblinding",
}
PATTERNS = {
    "the blinded flag": re.compile(r"\.is_blinded\b|Blinding\.BLINDED\b"),
    "the unblinded-view permission": re.compile(r"\bVIEW_UNBLINDED\b|[\"']view_unblinded[\"']"),
    "own unblindings look-up": re.compile(r"\bunblinded_by(_id|__\w+)?=|unblindings\.filter"),
}
SKIP_DIRS = {".venv", "tests", "migrations", "node_modules", ".git", "bench", "docs"}


def project_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*"):
        if not path.is_file() or path.suffix not in (".py", ".html", ".txt", ".js"):
            continue
        rel = path.relative_to(ROOT)
        if set(rel.parts[:-1]) & SKIP_DIRS or rel.parts[0].endswith(".egg-info"):
            continue
        files.append(path)
    return files


def findings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in project_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel in KERNEL:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for what, pattern in PATTERNS.items():
                if pattern.search(line):
                    found.setdefault(rel, []).append(f"{rel}:{n}: {what}: {line.strip()}")
    return found


def test_no_arm_visibility_decision_outside_the_kernel():
    found = findings()
    leaks = [hit for rel, hits in found.items() if rel not in ALLOWED for hit in hits]
    assert not leaks, "ask access.blinding instead:\n" + "\n".join(leaks)


def test_every_allowance_is_still_needed():
    found = findings()
    assert set(ALLOWED) <= set(found), set(ALLOWED) - set(found)


def test_the_grep_sees_a_decision(tmp_path, monkeypatch):
    """The grep is not vacuous: a view deciding on its own is caught."""
    (tmp_path / "leaky").mkdir()
    (tmp_path / "leaky" / "views.py").write_text(
        "def page(user, trial):\n    return not trial.is_blinded or has_perm(user, 'x')\n"
    )
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    assert "leaky/views.py" in findings()
