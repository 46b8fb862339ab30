"""CSV injection: every CSV the application writes goes through ``domain.csv_safety``."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from domain.csv_safety import safe_cell, writer

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "raw",
    [
        '=HYPERLINK("http://evil","click")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1",
        "\r=1",
        "-",
        "+86 138 0000 1111",
        "-3.5+A1",
    ],
)
def test_formula_like_text_is_quoted(raw):
    assert safe_cell(raw) == "'" + raw


@pytest.mark.parametrize("value", [-3.5, -3, 0, 2.25, Decimal("-1.50"), None, True])
def test_numbers_stay_numbers(value):
    assert safe_cell(value) is value


@pytest.mark.parametrize("text", ["-3.5", "-30", "+2", "-1e-3", ".5", "-0.25", "12"])
def test_numeric_text_is_a_number_not_a_formula(text):
    """The export writes numbers as text: a negative change from baseline stays summable."""
    assert safe_cell(text) == text


def test_ordinary_text_is_unchanged():
    assert safe_cell("Hypertension = grade 2") == "Hypertension = grade 2"
    assert safe_cell("肝内胆管癌") == "肝内胆管癌"


def test_writer_neutralises_every_cell():
    out = io.StringIO()
    writer(out).writerows([["=1+1", -3.5, "-3.5", "ok"]])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'=1+1", "-3.5", "-3.5", "ok"]


def test_no_csv_writer_bypasses_the_helper():
    """Any new ``csv.writer``/``DictWriter`` outside the helper would bypass it."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {".venv", "tests", "var", "node_modules"} or rel == Path(
            "domain/csv_safety.py"
        ):
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"csv\.(writer|DictWriter)\(", text):
            offenders.append(str(rel))
    assert offenders == []
