"""The engines' method statements, definitions, data problems and RECIST notes reach
readers in Chinese (``ui.engine_text``), while the stored figures keep their English."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.utils import translation

from domain import statistics
from domain.analysis import analyze, patient_outcome, response_settings
from domain.analysis_settings import analysis_settings
from domain.eligibility.icca import ICCA_DEFAULT_CRITERIA
from domain.eligibility.screening import screen
from domain.recist import Response
from tests.trials.test_analysis import datacut, patient, scan
from ui import engine_text
from ui.eligibility_text import translate_reason

CJK = re.compile(r"[\u4e00-\u9fff]")
TEXT_KEYS = {"method", "median_method", "follow_up_method", "denominator", "message"}


def _texts(node: Any, into: list[str]) -> list[str]:
    """Every engine-written sentence of a statistics dict: methods, denominators,
    definitions, data problems and the RECIST notes of each outcome."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in TEXT_KEYS and isinstance(value, str):
                into.append(value)
            elif key == "definitions" and isinstance(value, dict):
                into.extend(v for v in value.values() if isinstance(v, str))
            else:
                _texts(value, into)
    elif isinstance(node, list | tuple):
        for item in node:
            _texts(item, into)
    return into


def _cut(**trial: Any) -> dict[str, Any]:
    return datacut(
        [
            patient(
                "P1",
                "A",
                "S1",
                [scan("2026-02-18", {"T1": 60}), scan("2026-05-13", {"T1": 80})],
            ),
            # SD too early to count (day 42 rule), then nothing
            patient("P2", "B", "S2", [scan("2026-01-20", {"T1": 90})], alive="2026-10-01"),
            patient("P3", "B", "S1", [scan("2026-02-18", {"T1": 130})], death="2026-03-01"),
            # a response never confirmed, a recorded response differing from the
            # calculated one, a scan before the baseline and an unknown site
            patient("P4", "A", "S1", [scan("2026-02-18", {"T1": 20}, recorded="SD")]),
            patient("P5", "A", "S9", [scan("2025-12-01", {"T1": 95})]),
        ],
        **trial,
    )


SETTINGS = [
    {},
    {"ci_band": "plain", "time_origin": "first_treatment", "population": "itt"},
    {
        "ci_band": "log",
        "population": "per_protocol",
        "nya_handling": "include_as_ne",
        "orr_null_rate": 0.2,
        "orr_sided": "one-sided",
        "confirmation_required": True,
    },
]


@pytest.mark.parametrize("trial", SETTINGS, ids=["defaults", "plain-itt", "log-pp-binomial"])
def test_every_engine_statement_of_an_analysis_has_its_chinese(trial: dict[str, Any]) -> None:
    stats = analyze(_cut(**trial))
    texts = sorted(set(_texts(stats, [])))
    cut = _cut(**trial)
    settings, analysis = response_settings(cut["trial"]), analysis_settings(cut["trial"])
    notes = sorted(
        {
            note
            for p in cut["patients"]
            for note in patient_outcome(p, settings, date(2026, 11, 1), analysis=analysis)["notes"]
        }
    )
    assert len(texts) > 15  # methods, definitions, denominators, problems
    assert any("not in sites" in t for t in texts)  # the data problem is among them
    assert notes  # RECIST notes of the patients' best overall response
    with translation.override("zh-hans"):
        english_only = [t for t in texts + notes if not CJK.search(engine_text.translate(t))]
    assert english_only == []


def test_composed_statements_are_translated_to_the_last_clause() -> None:
    km = statistics.kaplan_meier([1.0, 2.0, 3.0], [1, 0, 1], ci_method="log-log")
    with translation.override("zh-hans"):
        method = engine_text.translate(km.method)
        median = engine_text.translate(km.median_method)
    # "Kaplan-Meier estimator ...; pointwise {level} CI: {band}": the band is itself a
    # translated template, the level a number kept as it is
    assert method.startswith("Kaplan-Meier 估计")
    assert "95% 置信区间" in method and "Greenwood 方差" in method
    assert "逐点 log-log 置信带" in median
    # English readers get the engine's own words, unchanged
    with translation.override("en"):
        assert engine_text.translate(km.method) == km.method


def test_recist_notes_and_unknown_texts() -> None:
    with translation.override("zh-hans"):
        assert engine_text.translate("response on day 42 not confirmed") == "第 42 天的缓解未获确认"
        recorded = f"recorded response {Response.PR} used; calculated {Response.SD}"
        assert engine_text.translate(recorded).startswith("采用记录的疗效")
        # a text no template knows is shown as written, never dropped or garbled
        assert engine_text.translate("a sentence no engine writes") == "a sentence no engine writes"
        assert engine_text.translate("") == "" and engine_text.translate(None) is None


def test_every_template_has_a_chinese_translation() -> None:
    with translation.override("zh-hans"):
        missing = [t for t in engine_text.TEMPLATES if not CJK.search(translation.gettext(t))]
    # "one-sided" and the like are translated too: nothing in the catalogue stays English
    assert missing == []


# --- eligibility reasons (ui.eligibility_text) -------------------------------------

COMPLETE = {
    "screening_date": "2026-11-21",
    "birth_date": "1972-12-01",
    "histology": "icca",
    "histology_confirmed": True,
    "unresectable": True,
    "metastatic": False,
    "measurable_lesion_count": 2,
    "prior_systemic_therapy": True,
    "prior_systemic_adjuvant_only": True,
    "adjuvant_therapy_end_date": "2025-01-10",
    "recurrence_date": "2025-09-01",
    "prior_checkpoint_inhibitor": False,
    "prior_radiotherapy": True,
    "last_radiotherapy_date": "2026-10-20",
    "prior_major_surgery": False,
    "prior_local_therapy": False,
    "baseline_scan_date": "2026-11-15",
    "other_malignancy": False,
    "cns_metastases": False,
    "child_pugh_class": "A",
    "ecog": 2,
    "life_expectancy_weeks": 24,
    "platelets": 150,
    "neutrophils": 1.2,
    "haemoglobin": 125,
    "bilirubin": 12,
    "bilirubin_uln": 21,
    "alt": 40,
    "alt_uln": 40,
    "ast": 35,
    "ast_uln": 40,
    "creatinine": 70,
    "creatinine_uln": 104,
    "consent_language_available": True,
    "interpreter_available": False,
    "impartial_witness_available": True,
    "residence_permit_expiry_date": "2027-03-01",
    "planned_followup_days": 730,
    "remote_followup_agreed": True,
    "id_document_recorded": True,
    "insurance_recorded": False,
}


def _reasons(data: dict[str, Any], is_expatriate: bool = False) -> list[str]:
    decision = screen(ICCA_DEFAULT_CRITERIA, data, is_expatriate)
    return [r.reason for r in decision.results]


@pytest.mark.parametrize(
    "data",
    [
        COMPLETE,
        {k: v for k, v in COMPLETE.items() if k not in ("alt_uln", "platelets", "ecog")},
        {**COMPLETE, "birth_date": "2027-01-01", "child_pugh_class": "B", "alt_uln": 0},
        {"screening_date": "2026-11-21"},
    ],
    ids=["complete", "missing-values", "problems", "nearly-empty"],
)
def test_every_reason_of_the_default_criteria_reads_in_chinese(data: dict[str, Any]) -> None:
    reasons = _reasons(data, is_expatriate=True)
    assert len(reasons) > 15
    with translation.override("zh-hans"):
        english = [r for r in reasons if not CJK.search(translate_reason(r))]
        translated = [translate_reason(r) for r in reasons]
    assert english == []
    # no English sentence glue is left in any translated reason
    glue = re.compile(r"\b(is|must|and|or|cannot|missing|between|with)\b")
    assert [t for t in translated if glue.search(t)] == []
    with translation.override("en"):
        assert [translate_reason(r) for r in reasons] == reasons  # English: as stored


def test_a_reason_reads_naturally_and_unknown_parts_keep_the_english() -> None:
    with translation.override("zh-hans"):
        assert (
            translate_reason("Platelet count is 150 x10^9/L; must be >= 75 x10^9/L")
            == "血小板计数为 150 x10^9/L；须 ≥ 75 x10^9/L"
        )
        assert translate_reason(
            "ALT (x ULN) is 1 (40 U/L with ULN 40 U/L); must be <= 5 and AST (x ULN) is 2; "
            "must be <= 5"
        ) == (
            "ALT（× 正常值上限）为 1（40 U/L，正常值上限 40 U/L）；须 ≤ 5；且 "
            "AST（× 正常值上限）为 2；须 ≤ 5"
        )
        # a label nobody translated: the whole reason stays as the engine wrote it
        odd = "Platelet count is 150 x10^9/L; must be >= 75 x10^9/L and Flux capacity is 3; must be <= 1"
        assert translate_reason(odd) == odd
