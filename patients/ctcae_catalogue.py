"""Reading the CTCAE term list: the JSON shipped in the repo, or NCI's spreadsheet.

NCI publishes CTCAE v5.0 as ``CTCAE_v5.0_2017-11-27.xlsx`` with the columns
``MedDRA Code``, ``MedDRA SOC``, ``CTCAE Term``, ``Grade 1`` ... ``Grade 5`` and
``Definition`` (a dash "-" where a grade is not defined). Save that sheet as CSV (UTF-8)
and load it with ``manage.py load_ctcae_terms <file.csv>``: codes already present are
updated (their Chinese names kept), new ones added, none deleted (recorded AEs point to
them).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

SHIPPED = Path(__file__).resolve().parent / "data" / "ctcae_v5_terms.json"
NCI_COLUMNS = ("MedDRA Code", "MedDRA SOC", "CTCAE Term")


def shipped_terms() -> list[dict[str, Any]]:
    """The terms shipped in ``patients/data/ctcae_v5_terms.json``."""
    return json.loads(SHIPPED.read_text(encoding="utf-8"))["terms"]


def _clean(text: str | None) -> str:
    return " ".join((text or "").replace("\u2013", "-").split())


def read_nci_csv(path: str | Path) -> list[dict[str, Any]]:
    """Rows of NCI's CTCAE spreadsheet saved as CSV, as term dicts.

    Raises ``ValueError`` naming the missing columns when the file is not in NCI's format.
    """
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in NCI_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"not NCI's CTCAE format: missing column(s) {', '.join(missing)}")
        rows = []
        for raw in reader:
            row = {(k or "").strip(): v for k, v in raw.items()}
            code = _clean(row.get("MedDRA Code"))
            term = _clean(row.get("CTCAE Term"))
            if not code or not term:
                continue
            grades = {}
            for n in range(1, 6):
                text = _clean(row.get(f"Grade {n}"))
                if text and text != "-":
                    grades[str(n)] = text
            rows.append(
                {
                    "meddra_code": code,
                    "term": term,
                    "soc": _clean(row.get("MedDRA SOC")),
                    "grades": grades,
                    "definition": _clean(row.get("Definition")),
                }
            )
    return rows
