"""Tests of domain.eligibility (pure Python, no Django)."""

from __future__ import annotations

import itertools
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain.eligibility import (
    DERIVED_FIELDS,
    FIELD_CATALOGUE,
    ICCA_DEFAULT_CRITERIA,
    OPERATORS,
    AppliesTo,
    Criterion,
    CriterionKind,
    FieldSource,
    FieldType,
    RuleError,
    Status,
    Verdict,
    evaluate,
    fields_needed,
    parse_derived_field,
    raw_fields,
    rule_fields,
    screen,
    validate_criteria,
    validate_rule,
)

MET, NOT_MET, MISSING = Status.MET, Status.NOT_MET, Status.MISSING


def eligible_patient(**overrides: Any) -> dict[str, Any]:
    """A clearly eligible iCCA patient (not an expatriate)."""
    data: dict[str, Any] = {
        "screening_date": date(2025, 6, 2),
        "birth_date": date(1962, 3, 14),
        "histology": "icca",
        "histology_confirmed": True,
        "unresectable": True,
        "metastatic": False,
        "prior_systemic_therapy": False,
        "measurable_lesion_count": 2,
        "child_pugh_class": "A",
        "ecog": 0,
        "life_expectancy_weeks": 26,
        "platelets": Decimal("180"),
        "neutrophils": Decimal("3.4"),
        "haemoglobin": Decimal("128"),
        "bilirubin": Decimal("14.2"),
        "bilirubin_uln": Decimal("21"),
        "alt": Decimal("62"),
        "alt_uln": Decimal("40"),
        "ast": Decimal("55"),
        "ast_uln": Decimal("40"),
        "creatinine": Decimal("71"),
        "creatinine_uln": Decimal("106"),
        "other_malignancy": False,
        "prior_radiotherapy": False,
        "prior_major_surgery": False,
        "cns_metastases": False,
        "prior_checkpoint_inhibitor": False,
        "prior_local_therapy": False,
        "baseline_scan_date": date(2025, 5, 28),
    }
    data.update(overrides)
    return data


def expatriate_patient(**overrides: Any) -> dict[str, Any]:
    data = eligible_patient(
        consent_language_available=True,
        interpreter_available=False,
        impartial_witness_available=False,
        residence_permit_expiry_date=date(2028, 1, 31),
        planned_followup_days=730,
        remote_followup_agreed=False,
        id_document_recorded=True,
        insurance_recorded=True,
    )
    data.update(overrides)
    return data


def leaf(field: str, op: str, value: Any = None) -> dict[str, Any]:
    node: dict[str, Any] = {"field": field, "op": op}
    if op not in ("is_true", "is_false", "present"):
        node["value"] = value
    return node


# ---------------------------------------------------------------------------
# Operators
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "threshold", "actual", "expected"),
    [
        ("==", 1, 1, MET),
        ("==", 1, 2, NOT_MET),
        ("!=", 1, 2, MET),
        ("!=", 1, 1, NOT_MET),
        ("<", 2, 1, MET),
        ("<", 2, 2, NOT_MET),
        ("<=", 1, 1, MET),
        ("<=", 1, 2, NOT_MET),
        (">", 1, 2, MET),
        (">", 1, 1, NOT_MET),
        (">=", 2, 2, MET),
        (">=", 2, 1, NOT_MET),
        ("in", [0, 1], 1, MET),
        ("in", [0, 1], 3, NOT_MET),
        ("not_in", [3, 4], 1, MET),
        ("not_in", [3, 4], 4, NOT_MET),
        ("between", [0, 1], 0, MET),
        ("between", [0, 1], 1, MET),
        ("between", [1, 2], 0, NOT_MET),
        ("between", [0, 1], 2, NOT_MET),
    ],
)
def test_value_operators(op: str, threshold: Any, actual: int, expected: Status) -> None:
    outcome = evaluate(leaf("ecog", op, threshold), {"ecog": actual})
    assert outcome.status is expected
    assert outcome.missing_fields == ()


@pytest.mark.parametrize(
    ("op", "actual", "expected"),
    [
        ("is_true", True, MET),
        ("is_true", False, NOT_MET),
        ("is_false", False, MET),
        ("is_false", True, NOT_MET),
    ],
)
def test_boolean_operators(op: str, actual: bool, expected: Status) -> None:
    assert evaluate(leaf("cns_metastases", op), {"cns_metastases": actual}).status is expected


@pytest.mark.parametrize("op", [op for op in OPERATORS if op != "present"])
def test_every_value_operator_is_missing_without_data(op: str) -> None:
    value = {"in": [1], "not_in": [1], "between": [0, 1]}.get(op, 1)
    rule = leaf("cns_metastases" if op.startswith("is_") else "ecog", op, value)
    outcome = evaluate(rule, {"ecog": None})
    assert outcome.status is MISSING
    assert outcome.missing_fields == (rule["field"],)


def test_present_never_missing() -> None:
    rule = leaf("last_radiotherapy_date", "present")
    assert evaluate(rule, {"last_radiotherapy_date": "2025-01-01"}).status is MET
    absent = evaluate(rule, {})
    assert absent.status is NOT_MET
    assert absent.missing_fields == ()
    assert evaluate(rule, {"last_radiotherapy_date": "  "}).status is NOT_MET
    # For a derived field: present when everything behind it is recorded.
    age = leaf("age_years", "present")
    assert evaluate(age, {"birth_date": "1970-01-01", "screening_date": "2025-01-01"}).met
    assert evaluate(age, {"birth_date": "1970-01-01"}).status is NOT_MET


def test_bool_never_equals_number() -> None:
    assert evaluate(leaf("ecog", "==", 1), {"ecog": True}).status is NOT_MET
    assert evaluate(leaf("histology_confirmed", "==", True), {"histology_confirmed": 1}).status is (
        NOT_MET
    )
    # is_true on a non-boolean value is unusable data, not a silent truthiness test.
    outcome = evaluate(leaf("histology_confirmed", "is_true"), {"histology_confirmed": 1})
    assert outcome.status is MISSING
    assert outcome.missing_fields == ("histology_confirmed",)


def test_choice_operators() -> None:
    rule = leaf("histology", "in", ["hcc", "mixed_hcc_cca"])
    assert evaluate(rule, {"histology": "mixed_hcc_cca"}).met
    assert evaluate(rule, {"histology": "icca"}).status is NOT_MET
    assert evaluate(leaf("child_pugh_class", "==", "A"), {"child_pugh_class": "B"}).reason == (
        "Child-Pugh class is B (7-9 points); must be A (5-6 points)"
    )


@pytest.mark.parametrize("value", [1.5, "1.5", Decimal("1.50"), Decimal("1.5"), 1.5000], ids=repr)
def test_numbers_in_any_representation_compare_exactly(value: Any) -> None:
    assert evaluate(leaf("neutrophils", ">=", 1.5), {"neutrophils": value}).met


def test_float_threshold_has_no_binary_rounding() -> None:
    # 0.1 + 0.2 != 0.3 in binary floating point; thresholds are compared in decimal.
    assert evaluate(leaf("neutrophils", "<=", 0.3), {"neutrophils": "0.3"}).met
    assert evaluate(leaf("neutrophils", "==", 0.1), {"neutrophils": Decimal("0.1")}).met


@pytest.mark.parametrize(
    "value", [date(2025, 1, 31), datetime(2025, 1, 31, 23, 59), "2025-01-31"], ids=repr
)
def test_dates_as_date_datetime_or_iso_string(value: Any) -> None:
    rule = leaf("baseline_scan_date", "between", ["2025-01-01", "2025-01-31"])
    assert evaluate(rule, {"baseline_scan_date": value}).met
    assert evaluate(
        leaf("baseline_scan_date", ">", "2025-01-31"), {"baseline_scan_date": value}
    ).status is (NOT_MET)


def test_incomparable_data_is_reported_not_crashed() -> None:
    outcome = evaluate(leaf("ecog", "<=", 1), {"ecog": "two"})
    assert outcome.status is MISSING
    assert outcome.missing_fields == ("ecog",)
    assert "unusable" in outcome.reason and "two" in outcome.reason


def test_reason_names_field_value_and_threshold() -> None:
    outcome = evaluate(leaf("ecog", "<=", 1), {"ecog": 2})
    assert outcome.status is NOT_MET
    assert outcome.reason == "ECOG performance status is 2; must be <= 1"
    platelets = evaluate(leaf("platelets", ">=", 75), {"platelets": 60})
    assert platelets.reason == "Platelet count is 60 x10^9/L; must be >= 75 x10^9/L"
    missing = evaluate(leaf("ecog", "<=", 1), {})
    assert missing.reason == "ECOG performance status is missing"


def test_catalogue_can_be_overridden_for_labels() -> None:
    outcome = evaluate(leaf("kps", ">=", 70), {"kps": 60}, catalogue={})
    assert outcome.reason == "Kps is 60; must be >= 70"


# ---------------------------------------------------------------------------
# Derived fields
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "screening", "age"),
    [
        ("2007-06-02", "2025-06-01", 17),  # day before the 18th birthday
        ("2007-06-02", "2025-06-02", 18),  # on the birthday
        ("2007-06-02", "2025-06-03", 18),
        ("1949-06-02", "2025-06-01", 75),  # last day aged 75
        ("1949-06-02", "2025-06-02", 76),
        ("2004-02-29", "2022-02-28", 17),  # leap-day birthday, non-leap year
        ("2004-02-29", "2022-03-01", 18),
        ("2004-02-29", "2024-02-29", 20),
    ],
)
def test_age_years(birth: str, screening: str, age: int) -> None:
    data = {"birth_date": birth, "screening_date": screening}
    assert evaluate(leaf("age_years", "==", age), data).met
    expected = MET if 18 <= age <= 75 else NOT_MET
    assert evaluate(leaf("age_years", "between", [18, 75]), data).status is expected


def test_age_reason_and_missing_inputs() -> None:
    rule = leaf("age_years", "between", [18, 75])
    outcome = evaluate(rule, {"birth_date": "2007-06-02", "screening_date": "2025-06-01"})
    assert outcome.reason == (
        "Age is 17 years (date of birth 2007-06-02, screening date 2025-06-01); "
        "must be between 18 and 75 years"
    )
    missing = evaluate(rule, {"screening_date": "2025-06-01"})
    assert missing.status is MISSING
    assert missing.missing_fields == ("birth_date",)
    assert missing.reason == "Age cannot be determined: date of birth is missing"
    both = evaluate(rule, {})
    assert both.missing_fields == ("birth_date", "screening_date")


def test_birth_after_screening_is_unusable() -> None:
    outcome = evaluate(
        leaf("age_years", ">=", 18), {"birth_date": "2030-01-01", "screening_date": "2025-01-01"}
    )
    assert outcome.status is MISSING
    assert "after the screening date" in outcome.reason


@pytest.mark.parametrize(
    ("bilirubin", "uln", "expected"),
    [
        ("30", "20", MET),  # exactly 1.5 x ULN
        ("30.02", "20", NOT_MET),
        (25.5, 17, MET),  # 1.5 x ULN with a float value
        ("29.9", "20", MET),
    ],
)
def test_x_uln(bilirubin: Any, uln: Any, expected: Status) -> None:
    rule = leaf("x_uln:bilirubin", "<=", 1.5)
    assert evaluate(rule, {"bilirubin": bilirubin, "bilirubin_uln": uln}).status is expected


def test_x_uln_reason_and_bad_uln() -> None:
    rule = leaf("x_uln:bilirubin", "<=", 1.5)
    outcome = evaluate(rule, {"bilirubin": 42, "bilirubin_uln": 20})
    assert outcome.status is NOT_MET
    assert outcome.reason == (
        "Total bilirubin (x ULN) is 2.1 (42 µmol/L with ULN 20 µmol/L); must be <= 1.5"
    )
    zero = evaluate(rule, {"bilirubin": 42, "bilirubin_uln": 0})
    assert zero.status is MISSING
    assert zero.missing_fields == ("bilirubin_uln",)
    assert evaluate(rule, {"bilirubin": 42}).missing_fields == ("bilirubin_uln",)


@pytest.mark.parametrize(
    ("days_ago", "within"), [(0, MET), (27, MET), (28, NOT_MET), (400, NOT_MET)]
)
def test_days_since(days_ago: int, within: Status) -> None:
    screening = date(2025, 3, 1)
    last = date.fromordinal(screening.toordinal() - days_ago)
    data = {"screening_date": screening, "last_radiotherapy_date": last}
    outcome = evaluate(leaf("days_since:last_radiotherapy_date", "<", 28), data)
    assert outcome.status is within
    assert f"is {days_ago} days" in outcome.reason


def test_days_until_and_days_between() -> None:
    data = {
        "screening_date": "2025-01-01",
        "residence_permit_expiry_date": "2025-03-01",
        "last_local_therapy_date": "2024-12-01",
        "baseline_scan_date": "2024-12-29",
    }
    assert evaluate(leaf("days_until:residence_permit_expiry_date", "==", 59), data).met
    between = leaf("days_between:last_local_therapy_date:baseline_scan_date", "==", 28)
    assert evaluate(between, data).met
    assert evaluate(leaf("years_since:last_local_therapy_date", "==", 0), data).met


@pytest.mark.parametrize(
    ("expiry", "covers"),
    [("2026-06-01", False), ("2026-06-02", True), ("2030-01-01", True)],
)
def test_permit_covers_followup(expiry: str, covers: bool) -> None:
    data = {
        "screening_date": "2025-06-02",
        "planned_followup_days": 365,  # follow-up ends 2026-06-02
        "residence_permit_expiry_date": expiry,
    }
    outcome = evaluate(leaf("permit_covers_followup", "is_true"), data)
    assert outcome.met is covers
    assert "planned follow-up ends 2026-06-02" in outcome.reason
    assert f"permit expires {expiry}" in outcome.reason


def test_permit_missing_lists_raw_fields() -> None:
    outcome = evaluate(leaf("permit_covers_followup", "is_true"), {"screening_date": "2025-01-01"})
    assert outcome.status is MISSING
    assert outcome.missing_fields == ("residence_permit_expiry_date", "planned_followup_days")


def test_parse_derived_field() -> None:
    assert parse_derived_field("ecog") is None
    d = parse_derived_field("days_between:a:b")
    assert d is not None and d.inputs == ("a", "b")
    assert raw_fields("x_uln:alt") == ("alt", "alt_uln")
    assert raw_fields("age_years") == ("birth_date", "screening_date")
    assert raw_fields("ecog") == ("ecog",)
    with pytest.raises(ValueError, match="unknown derived field"):
        parse_derived_field("weeks_since:x")
    with pytest.raises(ValueError, match="must have the form"):
        parse_derived_field("days_since:a:b")
    # Every documented derived form parses.
    for shape in DERIVED_FIELDS:
        example = shape.replace("<start date field>", "a").replace("<end date field>", "b")
        example = example.replace("<date field>", "a").replace("<lab>", "a")
        assert parse_derived_field(example) is not None


# ---------------------------------------------------------------------------
# Combinators and missing-data propagation
# ---------------------------------------------------------------------------

_FLAG_VALUES = {MET: True, NOT_MET: False, MISSING: None}


def _flags(statuses: tuple[Status, ...]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rules = [leaf(f"f{i}", "is_true") for i in range(len(statuses))]
    data = {f"f{i}": _FLAG_VALUES[s] for i, s in enumerate(statuses)}
    return rules, data


def _expected_all(statuses: tuple[Status, ...]) -> Status:
    if NOT_MET in statuses:
        return NOT_MET
    return MISSING if MISSING in statuses else MET


def _expected_any(statuses: tuple[Status, ...]) -> Status:
    if MET in statuses:
        return MET
    return MISSING if MISSING in statuses else NOT_MET


_COMBOS = [c for n in (1, 2, 3) for c in itertools.product((MET, NOT_MET, MISSING), repeat=n)]


@pytest.mark.parametrize("statuses", _COMBOS, ids=lambda c: "-".join(s.value for s in c))
def test_all_any_not_three_valued(statuses: tuple[Status, ...]) -> None:
    rules, data = _flags(statuses)
    swap = {MET: NOT_MET, NOT_MET: MET, MISSING: MISSING}
    assert evaluate({"all": rules}, data).status is _expected_all(statuses)
    assert evaluate({"any": rules}, data).status is _expected_any(statuses)
    assert evaluate({"not": {"all": rules}}, data).status is swap[_expected_all(statuses)]
    assert evaluate({"not": {"any": rules}}, data).status is swap[_expected_any(statuses)]
    assert evaluate({"not": {"not": {"all": rules}}}, data).status is _expected_all(statuses)


def test_missing_fields_only_reported_when_outcome_is_missing() -> None:
    rules, data = _flags((NOT_MET, MISSING))
    assert evaluate({"all": rules}, data).missing_fields == ()
    any_outcome = evaluate({"any": rules}, data)
    assert any_outcome.status is MISSING
    assert any_outcome.missing_fields == ("f1",)
    rules, data = _flags((MISSING, MET, MISSING))
    assert evaluate({"all": rules}, data).missing_fields == ("f0", "f2")
    assert evaluate({"any": rules}, data).missing_fields == ()


def test_not_phrases_the_negated_requirement() -> None:
    outcome = evaluate({"not": leaf("ecog", "<=", 1)}, {"ecog": 2})
    assert outcome.status is MET
    assert outcome.reason == "ECOG performance status is 2; must be > 1"
    outcome = evaluate({"not": leaf("cns_metastases", "is_true")}, {"cns_metastases": True})
    assert outcome.status is NOT_MET
    assert outcome.reason == "CNS metastases is yes; must be no"
    outcome = evaluate({"not": leaf("ecog", "between", [0, 1])}, {"ecog": 1})
    assert outcome.reason == "ECOG performance status is 1; must be below 0 or above 1"


def test_any_reason_lists_every_alternative() -> None:
    rule = {"any": [leaf("ecog", "<=", 1), {"all": [leaf("f", "is_true"), leaf("g", "is_true")]}]}
    outcome = evaluate(rule, {"ecog": 3, "f": True, "g": False}, catalogue={})
    assert outcome.status is NOT_MET
    assert outcome.reason == "Ecog is 3; must be <= 1 or G is no; must be yes"
    outcome = evaluate(rule, {"ecog": 3, "f": False, "g": False}, catalogue={})
    assert (
        outcome.reason
        == "Ecog is 3; must be <= 1 or (F is no; must be yes and G is no; must be yes)"
    )


def test_rules_survive_json_round_trip() -> None:
    for criterion in ICCA_DEFAULT_CRITERIA:
        copy = json.loads(json.dumps(criterion.rule))
        data = expatriate_patient()
        assert evaluate(copy, data) == evaluate(criterion.rule, data)


def test_json_snapshot_of_data_evaluates_the_same() -> None:
    # Django's JSON encoder stores dates as ISO strings and decimals as strings.
    data = expatriate_patient()
    snapshot = json.loads(json.dumps(data, default=str))
    assert screen(ICCA_DEFAULT_CRITERIA, snapshot, True) == screen(
        ICCA_DEFAULT_CRITERIA, data, True
    )


# ---------------------------------------------------------------------------
# Malformed rules
# ---------------------------------------------------------------------------


def test_validate_rule_accepts_good_rules() -> None:
    assert validate_rule(leaf("ecog", "<=", 1), FIELD_CATALOGUE) == []
    assert validate_rule(leaf("x_uln:bilirubin", "<=", 1.5), FIELD_CATALOGUE) == []
    assert validate_rule({"not": leaf("histology", "in", ["hcc"])}, FIELD_CATALOGUE) == []
    assert validate_rule(leaf("birth_date", ">=", "1950-01-01"), FIELD_CATALOGUE) == []


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        (leaf("ecog", "=<", 1), "unknown operator '=<'"),
        (leaf("ecgo", "<=", 1), "unknown field 'ecgo'; did you mean 'ecog'?"),
        (leaf("ecog", "<=", "1"), "'1' is not a whole number"),
        (leaf("ecog", "<=", 1.5), "1.5 is not a whole number"),
        (leaf("platelets", ">=", True), "True is not a number"),
        (leaf("platelets", ">=", 75000), "outside the plausible range of Platelet count"),
        (leaf("child_pugh_class", "==", "D"), "'D' is not a valid choice for Child-Pugh class"),
        (leaf("child_pugh_class", "<=", "B"), "operator '<=' cannot be used on a choice field"),
        (leaf("cns_metastases", "==", "yes"), "'yes' is not true/false"),
        (leaf("birth_date", ">", "1950-13-01"), "is not a date 'YYYY-MM-DD'"),
        (leaf("birth_date", ">", 1950), "is not a date"),
        (leaf("ecog", "in", 1), "needs a non-empty list"),
        (leaf("ecog", "in", []), "needs a non-empty list"),
        (leaf("ecog", "between", [1]), "needs a list [low, high]"),
        (leaf("ecog", "between", [2, 1]), "low bound 2 is greater than high bound 1"),
        ({"field": "cns_metastases", "op": "is_true", "value": True}, "takes no value"),
        (leaf("ecog", "is_true"), "needs a yes/no field"),
        ({"field": "ecog", "op": "<="}, "needs a 'value'"),
        ({"field": "ecog", "op": "<=", "value": None}, "must be a single value"),
        ({"field": "ecog", "value": 1}, "has no 'op'"),
        ({"field": "ecog", "op": "<=", "vale": 1}, "unexpected key(s) 'vale'"),
        ({"all": []}, "'all' needs a non-empty list"),
        ({"any": leaf("ecog", "<=", 1)}, "'any' needs a non-empty list"),
        ({"all": [leaf("ecog", "<=", 1)], "any": []}, "exactly one of"),
        ({"op": "<="}, "exactly one of"),
        ("ecog <= 1", "a rule must be an object"),
        (leaf("x_uln:nonsense", "<=", 1), "unknown field 'nonsense' (needed by 'x_uln:nonsense')"),
        (leaf("days_since:ecog", "<", 28), "needs 'ecog' to be a date field"),
        (leaf("weeks_since:birth_date", "<", 28), "unknown derived field"),
        (leaf("days_between:birth_date", "<", 28), "must have the form"),
        (leaf("__import__('os')", "==", 1), "is not a valid field name"),
        (leaf("age_years", "<", "18"), "'18' is not a whole number"),
        (leaf("permit_covers_followup", ">=", 1), "cannot be used on a yes/no field"),
    ],
)
def test_validate_rule_reports_problems(rule: Any, fragment: str) -> None:
    problems = validate_rule(rule, FIELD_CATALOGUE)
    assert problems, rule
    assert any(fragment in p for p in problems), problems


def test_validate_rule_reports_every_problem_with_a_path() -> None:
    rule = {"all": [leaf("ecog", "<=", 1), {"any": [leaf("ecgo", "<=", 1), leaf("ecog", "??", 1)]}]}
    problems = validate_rule(rule, FIELD_CATALOGUE)
    assert len(problems) == 2
    assert problems[0].startswith("rule.all[1].any[0]: unknown field 'ecgo'")
    assert problems[1].startswith("rule.all[1].any[1]: unknown operator '??'")


def test_validate_rule_with_field_names_only() -> None:
    names = ["ecog", "alt", "alt_uln"]
    assert validate_rule(leaf("ecog", "<=", 1), names) == []
    assert validate_rule(leaf("x_uln:alt", "<=", 5), names) == []
    assert "unknown field 'platelets'" in validate_rule(leaf("platelets", ">=", 75), names)[0]
    # Without types, structural checks still apply.
    assert validate_rule(leaf("ecog", "between", [2, 1]), names)


def test_validate_rule_rejects_deep_nesting() -> None:
    rule: dict[str, Any] = leaf("ecog", "<=", 1)
    for _ in range(40):
        rule = {"not": rule}
    assert any("nested" in p for p in validate_rule(rule, FIELD_CATALOGUE))


def test_evaluate_raises_on_malformed_rule() -> None:
    with pytest.raises(RuleError) as info:
        evaluate({"field": "ecog", "op": "~", "value": 1}, {"ecog": 1})
    assert "unknown operator '~'" in str(info.value)
    assert info.value.problems
    with pytest.raises(RuleError):
        evaluate({"all": []}, {})
    with pytest.raises(RuleError):
        evaluate({"field": "ecog.__class__", "op": "present"}, {})


# ---------------------------------------------------------------------------
# Default iCCA criteria and catalogue
# ---------------------------------------------------------------------------


def test_default_criteria_are_valid_against_the_catalogue() -> None:
    assert validate_criteria(ICCA_DEFAULT_CRITERIA, FIELD_CATALOGUE) == []
    codes = [c.code for c in ICCA_DEFAULT_CRITERIA]
    assert len(codes) == len(set(codes))
    for c in ICCA_DEFAULT_CRITERIA:
        assert c.text.endswith(".")
        prefix = {"INC": CriterionKind.INCLUSION, "EXC": CriterionKind.EXCLUSION}
        if c.code.startswith("EXP-"):
            assert c.applies_to is AppliesTo.EXPATRIATE
        else:
            assert c.applies_to is AppliesTo.ALL
            assert c.kind is prefix[c.code[:3]]


def test_default_criteria_cover_the_domain() -> None:
    codes = {c.code for c in ICCA_DEFAULT_CRITERIA}
    assert {
        "INC-AGE",
        "INC-HISTOLOGY",
        "INC-UNRESECTABLE",
        "INC-NO-PRIOR-SYSTEMIC",
        "INC-MEASURABLE",
        "INC-CHILD-PUGH",
        "INC-ECOG",
        "INC-LIFE-EXPECTANCY",
        "INC-PLATELETS",
        "INC-NEUTROPHILS",
        "INC-HAEMOGLOBIN",
        "INC-BILIRUBIN",
        "INC-TRANSAMINASES",
        "INC-CREATININE",
        "EXC-HISTOLOGY",
        "EXC-OTHER-CANCER",
        "EXC-RADIOTHERAPY",
        "EXC-MAJOR-SURGERY",
        "EXC-CNS",
        "EXC-PRIOR-CHECKPOINT",
        "EXC-RECENT-LOCAL-THERAPY",
        "EXP-CONSENT-LANGUAGE",
        "EXP-PERMIT",
        "EXP-ID-DOCUMENT",
        "EXP-INSURANCE",
    } == codes


def test_catalogue_is_exactly_the_fields_the_defaults_need() -> None:
    assert fields_needed(ICCA_DEFAULT_CRITERIA, True) == set(FIELD_CATALOGUE)


def test_catalogue_entries_are_consistent() -> None:
    for name, spec in FIELD_CATALOGUE.items():
        assert spec.label and spec.label[0].isupper(), name
        assert isinstance(spec.type, FieldType)
        assert bool(spec.choices) == (spec.type is FieldType.CHOICE), name
        if spec.min_value is not None and spec.max_value is not None:
            assert spec.min_value < spec.max_value, name
        if spec.type in (FieldType.INT, FieldType.DECIMAL):
            assert spec.min_value is not None and spec.max_value is not None, name
        if spec.type is FieldType.INT:
            assert isinstance(spec.min_value, int) and isinstance(spec.max_value, int)
        if spec.type is FieldType.DECIMAL:
            assert isinstance(spec.min_value, Decimal) and isinstance(spec.max_value, Decimal)
        json.dumps(spec.to_dict())
    assert FIELD_CATALOGUE["planned_followup_days"].source is FieldSource.TRIAL
    assert FIELD_CATALOGUE["platelets"].unit == "x10^9/L"
    assert FIELD_CATALOGUE["haemoglobin"].unit == "g/L"
    assert dict(FIELD_CATALOGUE["child_pugh_class"].choices).keys() == {"A", "B", "C"}
    assert {"icca", "hcc", "mixed_hcc_cca"} <= dict(FIELD_CATALOGUE["histology"].choices).keys()


def test_default_thresholds_lie_within_the_plausible_ranges() -> None:
    # validate_rule checks thresholds against min/max; a stricter catalogue would fail.
    for c in ICCA_DEFAULT_CRITERIA:
        assert validate_rule(c.rule, FIELD_CATALOGUE) == [], c.code


# ---------------------------------------------------------------------------
# Screening
# ---------------------------------------------------------------------------


def test_clearly_eligible_patient() -> None:
    decision = screen(ICCA_DEFAULT_CRITERIA, eligible_patient(), is_expatriate=False)
    assert decision.verdict is Verdict.ELIGIBLE, [
        r.reason for r in decision.results if not r.satisfied
    ]
    assert decision.eligible
    assert decision.missing_fields == ()
    assert {r.code for r in decision.results} == {
        c.code for c in ICCA_DEFAULT_CRITERIA if c.applies_to is AppliesTo.ALL
    }
    assert set(decision.not_applicable) == {
        c.code for c in ICCA_DEFAULT_CRITERIA if c.applies_to is AppliesTo.EXPATRIATE
    }
    for r in decision.results:
        assert r.satisfied is True
        expected = MET if r.kind is CriterionKind.INCLUSION else NOT_MET
        assert r.status is expected, r.code
    json.dumps(decision.to_dict())


def test_clearly_eligible_expatriate() -> None:
    decision = screen(ICCA_DEFAULT_CRITERIA, expatriate_patient(), is_expatriate=True)
    assert decision.eligible
    assert decision.not_applicable == ()
    assert len(decision.results) == len(ICCA_DEFAULT_CRITERIA)


def test_ecog_2_fails_with_reason() -> None:
    decision = screen(ICCA_DEFAULT_CRITERIA, eligible_patient(ecog=2), False)
    assert decision.verdict is Verdict.NOT_ELIGIBLE
    assert not decision.eligible
    assert [r.code for r in decision.failed] == ["INC-ECOG"]
    result = decision.result("INC-ECOG")
    assert result.status is NOT_MET
    assert result.satisfied is False
    assert result.reason == "ECOG performance status is 2; must be <= 1"


def test_residence_permit_expiring_before_end_of_followup() -> None:
    data = expatriate_patient(residence_permit_expiry_date="2026-12-31", planned_followup_days=730)
    decision = screen(ICCA_DEFAULT_CRITERIA, data, True)
    assert not decision.eligible
    permit = decision.result("EXP-PERMIT")
    assert permit.status is NOT_MET
    assert permit.satisfied is False
    assert "Residence permit" in permit.reason
    assert "permit expires 2026-12-31" in permit.reason
    assert "planned follow-up ends 2027-06-02" in permit.reason
    assert "Remote follow-up agreed is no" in permit.reason
    # The same patient with remote follow-up agreed is eligible.
    data["remote_followup_agreed"] = True
    decision = screen(ICCA_DEFAULT_CRITERIA, data, True)
    assert decision.result("EXP-PERMIT").status is MET
    assert decision.eligible


def test_permit_criterion_ignored_for_residents() -> None:
    data = eligible_patient(residence_permit_expiry_date="2020-01-01")
    decision = screen(ICCA_DEFAULT_CRITERIA, data, False)
    assert decision.eligible
    assert "EXP-PERMIT" in decision.not_applicable


def test_consent_by_interpreter_and_witness() -> None:
    base = {"consent_language_available": False, "interpreter_available": True}
    ok = screen(
        ICCA_DEFAULT_CRITERIA, expatriate_patient(**base, impartial_witness_available=True), True
    )
    assert ok.result("EXP-CONSENT-LANGUAGE").status is MET
    no_witness = screen(
        ICCA_DEFAULT_CRITERIA, expatriate_patient(**base, impartial_witness_available=False), True
    )
    result = no_witness.result("EXP-CONSENT-LANGUAGE")
    assert result.status is NOT_MET
    assert "Impartial witness" in result.reason


def test_exclusion_condition_present_makes_ineligible() -> None:
    decision = screen(ICCA_DEFAULT_CRITERIA, eligible_patient(cns_metastases=True), False)
    cns = decision.result("EXC-CNS")
    assert cns.kind is CriterionKind.EXCLUSION
    assert cns.status is MET  # the excluding condition is present
    assert cns.satisfied is False
    assert cns.reason == "CNS metastases is yes; must be no"
    assert decision.verdict is Verdict.NOT_ELIGIBLE


def test_hcc_histology_fails_inclusion_and_exclusion() -> None:
    decision = screen(ICCA_DEFAULT_CRITERIA, eligible_patient(histology="mixed_hcc_cca"), False)
    assert {r.code for r in decision.failed} == {"INC-HISTOLOGY", "EXC-HISTOLOGY"}
    assert "combined hepatocellular-cholangiocarcinoma" in decision.result("EXC-HISTOLOGY").reason


def test_unconfirmed_histology_fails() -> None:
    decision = screen(ICCA_DEFAULT_CRITERIA, eligible_patient(histology_confirmed=False), False)
    assert [r.code for r in decision.failed] == ["INC-HISTOLOGY"]


@pytest.mark.parametrize(
    ("days_ago", "excluded"), [(10, True), (27, True), (28, False), (90, False)]
)
def test_recent_radiotherapy(days_ago: int, excluded: bool) -> None:
    screening = date(2025, 6, 2)
    data = eligible_patient(
        prior_radiotherapy=True,
        last_radiotherapy_date=date.fromordinal(screening.toordinal() - days_ago),
    )
    result = screen(ICCA_DEFAULT_CRITERIA, data, False).result("EXC-RADIOTHERAPY")
    assert result.status is (MET if excluded else NOT_MET)
    assert result.satisfied is (not excluded)
    if excluded:
        assert f"Days since end date of the most recent radiotherapy is {days_ago} days" in (
            result.reason
        )


def test_exclusion_gate_false_does_not_need_the_date() -> None:
    # No radiotherapy at all: the date is not needed, nothing is missing.
    decision = screen(ICCA_DEFAULT_CRITERIA, eligible_patient(prior_radiotherapy=False), False)
    assert decision.result("EXC-RADIOTHERAPY").satisfied is True
    # Radiotherapy given but its date not recorded: undecidable.
    decision = screen(ICCA_DEFAULT_CRITERIA, eligible_patient(prior_radiotherapy=True), False)
    result = decision.result("EXC-RADIOTHERAPY")
    assert result.status is MISSING
    assert result.satisfied is None
    assert result.missing_fields == ("last_radiotherapy_date",)
    assert decision.verdict is Verdict.INCOMPLETE
    assert decision.missing_fields == ("last_radiotherapy_date",)


def test_local_therapy_is_measured_to_the_baseline_scan() -> None:
    data = eligible_patient(
        prior_local_therapy=True,
        last_local_therapy_date=date(2025, 5, 10),
        baseline_scan_date=date(2025, 5, 28),  # 18 days later
    )
    result = screen(ICCA_DEFAULT_CRITERIA, data, False).result("EXC-RECENT-LOCAL-THERAPY")
    assert result.status is MET
    assert "is 18 days" in result.reason
    data["baseline_scan_date"] = date(2025, 6, 7)  # 28 days later
    result = screen(ICCA_DEFAULT_CRITERIA, data, False).result("EXC-RECENT-LOCAL-THERAPY")
    assert result.status is NOT_MET


@pytest.mark.parametrize(
    ("recurrence", "met"),
    [("2024-07-01", False), ("2024-07-03", False), ("2024-07-04", True), ("2025-01-01", True)],
)
def test_prior_adjuvant_therapy(recurrence: str, met: bool) -> None:
    # Adjuvant therapy ended 2024-01-02; more than 183 days later is 2024-07-04 or after.
    data = eligible_patient(
        prior_systemic_therapy=True,
        prior_systemic_adjuvant_only=True,
        adjuvant_therapy_end_date="2024-01-02",
        recurrence_date=recurrence,
    )
    assert (
        screen(ICCA_DEFAULT_CRITERIA, data, False).result("INC-NO-PRIOR-SYSTEMIC").satisfied is met
    )


def test_prior_systemic_therapy_for_advanced_disease_fails() -> None:
    data = eligible_patient(prior_systemic_therapy=True, prior_systemic_adjuvant_only=False)
    result = screen(ICCA_DEFAULT_CRITERIA, data, False).result("INC-NO-PRIOR-SYSTEMIC")
    assert result.satisfied is False
    assert "Any prior systemic anticancer therapy is yes; must be no" in result.reason


def test_other_malignancy_within_five_years() -> None:
    recent = eligible_patient(other_malignancy=True, other_malignancy_date="2020-06-03")
    old = eligible_patient(other_malignancy=True, other_malignancy_date="2020-06-02")
    assert screen(ICCA_DEFAULT_CRITERIA, recent, False).result("EXC-OTHER-CANCER").status is MET
    assert screen(ICCA_DEFAULT_CRITERIA, old, False).result("EXC-OTHER-CANCER").status is NOT_MET


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"birth_date": date(1949, 6, 1)}, "INC-AGE"),
        ({"unresectable": False, "metastatic": False}, "INC-UNRESECTABLE"),
        ({"measurable_lesion_count": 0}, "INC-MEASURABLE"),
        ({"child_pugh_class": "B"}, "INC-CHILD-PUGH"),
        ({"life_expectancy_weeks": 11}, "INC-LIFE-EXPECTANCY"),
        ({"platelets": 74}, "INC-PLATELETS"),
        ({"neutrophils": Decimal("1.4")}, "INC-NEUTROPHILS"),
        ({"haemoglobin": 89}, "INC-HAEMOGLOBIN"),
        ({"bilirubin": 33, "bilirubin_uln": 21}, "INC-BILIRUBIN"),
        ({"ast": 201}, "INC-TRANSAMINASES"),
        ({"creatinine": 160}, "INC-CREATININE"),
        (
            {"prior_major_surgery": True, "last_major_surgery_date": date(2025, 5, 20)},
            "EXC-MAJOR-SURGERY",
        ),
        ({"prior_checkpoint_inhibitor": True}, "EXC-PRIOR-CHECKPOINT"),
    ],
)
def test_single_failures(overrides: dict[str, Any], code: str) -> None:
    decision = screen(ICCA_DEFAULT_CRITERIA, eligible_patient(**overrides), False)
    assert [r.code for r in decision.failed] == [code]


def test_missing_data_makes_screening_incomplete() -> None:
    data = eligible_patient()
    del data["ecog"]
    data["platelets"] = None
    decision = screen(ICCA_DEFAULT_CRITERIA, data, False)
    assert decision.verdict is Verdict.INCOMPLETE
    assert not decision.eligible and decision.incomplete
    assert {r.code for r in decision.undetermined} == {"INC-ECOG", "INC-PLATELETS"}
    assert set(decision.missing_fields) == {"ecog", "platelets"}
    assert decision.result("INC-ECOG").reason == "ECOG performance status is missing"


def test_definite_failure_wins_over_missing_data() -> None:
    data = eligible_patient(ecog=3)
    del data["platelets"]
    decision = screen(ICCA_DEFAULT_CRITERIA, data, False)
    assert decision.verdict is Verdict.NOT_ELIGIBLE
    assert decision.missing_fields == ("platelets",)


def test_expatriate_missing_data() -> None:
    data = expatriate_patient()
    del data["residence_permit_expiry_date"]
    decision = screen(ICCA_DEFAULT_CRITERIA, data, True)
    permit = decision.result("EXP-PERMIT")
    assert permit.status is MISSING
    assert permit.missing_fields == ("residence_permit_expiry_date",)
    assert decision.verdict is Verdict.INCOMPLETE


def test_screen_rejects_duplicate_codes_and_bad_rules() -> None:
    c = Criterion("X", CriterionKind.INCLUSION, "X.", leaf("ecog", "<=", 1))
    with pytest.raises(ValueError, match="duplicate criterion code 'X'"):
        screen([c, c], {}, False)
    bad = Criterion(
        "BAD", CriterionKind.INCLUSION, "Bad.", {"field": "ecog", "op": "=<", "value": 1}
    )
    with pytest.raises(RuleError, match="BAD: rule: unknown operator"):
        screen([bad], {}, False)
    assert validate_criteria([c, c, bad], FIELD_CATALOGUE) == [
        "X: duplicate criterion code",
        "BAD: rule: unknown operator '=<'; use one of: == != < <= > >= in not_in between "
        "is_true is_false present",
    ]


def test_criterion_accepts_strings_and_round_trips() -> None:
    c = Criterion(
        "EXP-X", "inclusion", "Text.", leaf("insurance_recorded", "is_true"), "expatriate"
    )  # type: ignore[arg-type]
    assert c.kind is CriterionKind.INCLUSION
    assert c.applies_to is AppliesTo.EXPATRIATE
    assert Criterion.from_dict(json.loads(json.dumps(c.to_dict()))) == c
    with pytest.raises(ValueError):
        Criterion("X", "maybe", "Text.", {})  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Criterion(" ", CriterionKind.INCLUSION, "Text.", {})


# ---------------------------------------------------------------------------
# fields_needed
# ---------------------------------------------------------------------------


def test_fields_needed_expands_derived_fields() -> None:
    criteria = [
        Criterion("A", CriterionKind.INCLUSION, "Age.", leaf("age_years", ">=", 18)),
        Criterion("B", CriterionKind.INCLUSION, "Bili.", leaf("x_uln:bilirubin", "<=", 1.5)),
        Criterion(
            "C",
            CriterionKind.INCLUSION,
            "Permit.",
            {
                "any": [
                    leaf("permit_covers_followup", "is_true"),
                    leaf("remote_followup_agreed", "is_true"),
                ]
            },
            AppliesTo.EXPATRIATE,
        ),
    ]
    assert fields_needed(criteria, False) == {
        "birth_date",
        "screening_date",
        "bilirubin",
        "bilirubin_uln",
    }
    assert fields_needed(criteria, True) == {
        "birth_date",
        "screening_date",
        "bilirubin",
        "bilirubin_uln",
        "residence_permit_expiry_date",
        "planned_followup_days",
        "remote_followup_agreed",
    }


def test_fields_needed_for_residents_excludes_expatriate_fields() -> None:
    resident = fields_needed(ICCA_DEFAULT_CRITERIA, False)
    expatriate_only = set(FIELD_CATALOGUE) - resident
    assert expatriate_only == {
        "consent_language_available",
        "interpreter_available",
        "impartial_witness_available",
        "residence_permit_expiry_date",
        "planned_followup_days",
        "remote_followup_agreed",
        "id_document_recorded",
        "insurance_recorded",
    }


def test_rule_fields_lists_names_as_written() -> None:
    rule = {"not": {"any": [leaf("x_uln:alt", "<=", 5), {"all": [leaf("ecog", "<=", 1)]}]}}
    assert rule_fields(rule) == {"x_uln:alt", "ecog"}
