"""The pre-screening engine on the default iCCA criteria: pure, no database."""

from __future__ import annotations

import datetime

from domain.eligibility import ICCA_DEFAULT_CRITERIA
from domain.prescreen import Kind, Option, Question, Verdict, birth_date_for_age, prescreen

TODAY = datetime.date(2026, 12, 2)
QUESTIONS = [
    Question("age", "birth_date", Kind.AGE),
    Question(
        "histology",
        "histology",
        Kind.CHOICE,
        (
            Option("icca", {"histology": "icca"}),
            Option("hcc", {"histology": "hcc"}),
            Option("dk", {}),
        ),
    ),
    Question("biopsy", "histology_confirmed", Kind.YES_NO),
    Question("systemic", "prior_systemic_therapy", Kind.YES_NO),
    Question(
        "other",
        "other_malignancy",
        Kind.CHOICE,
        (
            Option("no", {"other_malignancy": False}),
            Option("recent", {"other_malignancy": True, "other_malignancy_date": "@today"}),
        ),
    ),
    Question("permit", "residence_permit_expiry_date", Kind.DATE, expatriate_only=True),
]
GOOD = {"age": 56, "histology": "icca", "biopsy": "yes", "systemic": "no", "other": "no"}
KNOWN = {"planned_followup_days": 730, "consent_language_available": True}


def run(answers: dict, *, expat: bool = False):
    return prescreen(
        ICCA_DEFAULT_CRITERIA, QUESTIONS, answers, today=TODAY, is_expatriate=expat, known=KNOWN
    )


def test_matching_answers_may_be_eligible_and_labs_are_left_to_the_clinic() -> None:
    outcome = run(GOOD)
    assert outcome.verdict is Verdict.MAY_BE_ELIGIBLE
    assert "INC-PLATELETS" in outcome.clinic_checks and "INC-ECOG" in outcome.clinic_checks
    assert outcome.not_met == () and outcome.to_check == ()


def test_age_outside_the_range_is_probably_not_eligible_because_of_age() -> None:
    outcome = run({**GOOD, "age": 80})
    assert outcome.verdict is Verdict.PROBABLY_NOT
    assert outcome.not_met == ("INC-AGE",)


def test_liver_cell_cancer_fails_inclusion_and_exclusion() -> None:
    outcome = run({**GOOD, "histology": "hcc"})
    assert set(outcome.not_met) == {"INC-HISTOLOGY", "EXC-HISTOLOGY"}


def test_dont_know_means_a_doctor_needs_to_check() -> None:
    outcome = run({**GOOD, "biopsy": "unknown"})
    assert outcome.verdict is Verdict.DOCTOR_CHECK
    assert outcome.to_check == ("INC-HISTOLOGY",)


def test_prior_systemic_treatment_needs_a_doctor_for_the_adjuvant_exception() -> None:
    outcome = run({**GOOD, "systemic": "yes"})
    assert outcome.verdict is Verdict.DOCTOR_CHECK
    assert "INC-NO-PRIOR-SYSTEMIC" in outcome.to_check


def test_recent_other_cancer_excludes() -> None:
    assert run({**GOOD, "other": "recent"}).not_met == ("EXC-OTHER-CANCER",)


def test_expatriate_permit_short_of_follow_up_needs_a_doctor_long_enough_passes() -> None:
    short = run({**GOOD, "permit": TODAY + datetime.timedelta(days=100)}, expat=True)
    assert "EXP-PERMIT" in short.to_check
    long = run({**GOOD, "permit": TODAY + datetime.timedelta(days=800)}, expat=True)
    assert "EXP-PERMIT" not in long.to_check + long.not_met + long.clinic_checks
    # Residents are not asked about permits: the criterion does not apply to them.
    assert "EXP-PERMIT" not in run(GOOD).clinic_checks


def test_age_is_turned_into_a_birth_date_of_exactly_that_age() -> None:
    assert birth_date_for_age(56, TODAY) == datetime.date(1970, 12, 2)
    assert birth_date_for_age(3, datetime.date(2028, 2, 29)) == datetime.date(2025, 2, 28)
    assert run({**GOOD, "age": 18}).verdict is Verdict.MAY_BE_ELIGIBLE
    assert run({**GOOD, "age": 17}).not_met == ("INC-AGE",)
