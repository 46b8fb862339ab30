"""Reads of the CTCAE term list: search in English and Chinese, labels, grade text."""

from __future__ import annotations

import re

from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .models import CtcaeTerm

#: The general CTCAE v5.0 grade scale, shown when a term's own text is not loaded.
GENERAL_GRADES = {
    1: "Mild; asymptomatic or mild symptoms; clinical or diagnostic observations only; "
    "intervention not indicated",
    2: "Moderate; minimal, local or noninvasive intervention indicated; limiting "
    "age-appropriate instrumental ADL",
    3: "Severe or medically significant but not immediately life-threatening; "
    "hospitalization or prolongation of hospitalization indicated; disabling; limiting "
    "self care ADL",
    4: "Life-threatening consequences; urgent intervention indicated",
    5: "Death related to AE",
}

_CODE = re.compile(r"\((\d{8})\)\s*$")


def ctcae_term_label(term: CtcaeTerm) -> str:
    """ "Hypertension · 高血压 (10020772)": one string matching both languages."""
    zh = f" · {term.term_zh}" if term.term_zh else ""
    return f"{term.term}{zh} ({term.meddra_code})"


def ctcae_terms() -> list[CtcaeTerm]:
    return list(CtcaeTerm.objects.filter(active=True).order_by("soc", "term"))


def ctcae_term_lookup(value: str) -> CtcaeTerm | None:
    """The term a form value names: its label (with the MedDRA code), the code alone, or
    the exact English or Chinese term."""
    value = (value or "").strip()
    if not value:
        return None
    match = _CODE.search(value)
    code = match.group(1) if match else (value if value.isdecimal() else None)
    qs = CtcaeTerm.objects.filter(active=True)
    if code:
        return qs.filter(meddra_code=code).first()
    return qs.filter(Q(term__iexact=value) | Q(term_zh=value)).first()


def ctcae_term_search(query: str, *, limit: int = 20) -> list[CtcaeTerm]:
    """Terms whose English or Chinese name (or SOC, or code) contains ``query``."""
    query = (query or "").strip()
    qs = CtcaeTerm.objects.filter(active=True)
    if query:
        qs = qs.filter(
            Q(term__icontains=query)
            | Q(term_zh__icontains=query)
            | Q(soc__icontains=query)
            | Q(soc_zh__icontains=query)
            | Q(meddra_code=query)
        )
    return list(qs.order_by("term")[:limit])


def ctcae_soc_choices() -> list[tuple[str, str]]:
    chinese = (get_language() or "").startswith("zh")
    rows = CtcaeTerm.objects.filter(active=True).values_list("soc", "soc_zh").distinct()
    return sorted({(soc, (zh if chinese and zh else soc)) for soc, zh in rows}, key=lambda r: r[1])


def ctcae_grade_rows(term: CtcaeTerm | None) -> list[tuple[int, str]]:
    """(grade, CTCAE text) for grades 1-5 of ``term``; the general scale where the
    term's own text is not loaded (marked as such)."""
    rows = []
    own = (term.grades or {}) if term is not None else {}
    for grade in range(1, 6):
        text = own.get(str(grade))
        if text is None:
            text = _("(general scale) %(text)s") % {"text": GENERAL_GRADES[grade]}
        rows.append((grade, text))
    return rows


def ctcae_grades_json() -> dict[str, dict[str, str]]:
    """label -> {grade: text} for the terms list (the form shows the chosen term's
    definitions beside the grade without a round trip)."""
    return {
        ctcae_term_label(t): {str(g): text for g, text in ctcae_grade_rows(t)}
        for t in ctcae_terms()
    }


def ae_form_context() -> dict[str, object]:
    """What the AE form template needs for the term picker and the grade text."""
    grades = ctcae_grades_json()
    return {"ctcae_labels": list(grades), "ctcae_grades": grades}
