"""Eligibility criteria as data, evaluated safely.

A criterion's logic is a JSON-serialisable *rule* that a data manager can configure
in the admin; it is interpreted here by a small tree walker. Nothing is ever passed
to ``eval``/``exec`` and no attribute of any object is looked up by name: the
evaluator only reads keys of the screening-data mapping.

Rule format
-----------
Comparison (a *leaf*)::

    {"field": "ecog", "op": "<=", "value": 1}

Operators: ``== != < <= > >= in not_in between is_true is_false present``.

* ``in`` / ``not_in`` take a non-empty list, ``between`` a two-element list
  ``[low, high]`` (both inclusive).
* ``is_true`` / ``is_false`` / ``present`` take no ``value``. ``present`` is MET when
  the field (or every raw field behind a derived field) is recorded; it is the only
  operator that never yields MISSING.
* Dates in rules are ISO strings (``"2025-01-31"``).

Combinators: ``{"all": [rule, ...]}``, ``{"any": [rule, ...]}``, ``{"not": rule}``.

Three-valued logic
------------------
Every rule evaluates to MET, NOT_MET or MISSING (data not recorded, or unusable).

* ``all``: NOT_MET if any child is NOT_MET, else MISSING if any child is MISSING,
  else MET.
* ``any``: MET if any child is MET, else MISSING if any child is MISSING, else
  NOT_MET.
* ``not``: swaps MET and NOT_MET, keeps MISSING.

This is Kleene's logic, for which De Morgan's laws hold, so ``not`` is implemented by
pushing the negation down to the leaves (``not all`` = ``any not``, ``not <=`` =
``>``). The result is the same as swapping the outcome, but the reason can then be
phrased positively ("CNS metastases is yes; must be no") instead of as a double
negation.

Derived fields
--------------
See :data:`DERIVED_FIELDS`. They are computed from raw screening data relative to
``screening_date``, so a screening can be re-evaluated later with the same result.


Package layout (one seam each): ``base`` (vocabulary, operators, errors), ``catalogue``
(screening fields, derived fields), ``values`` (normalisation, comparison), ``wording``
(how outcomes are phrased), ``rules`` (evaluation), ``validation`` (a rule as configured),
``screening`` (criteria and the decision), ``icca`` (the flagship trial's defaults).
Import from the package: ``from domain.eligibility import screen``.
"""

from __future__ import annotations

from .base import (
    OPERATORS,
    AppliesTo,
    CriterionKind,
    FieldSource,
    FieldType,
    RuleError,
    Status,
    Verdict,
)
from .catalogue import (
    DERIVED_FIELDS,
    FIELD_CATALOGUE,
    DerivedField,
    FieldSpec,
    parse_derived_field,
    raw_fields,
)
from .icca import ICCA_DEFAULT_CRITERIA
from .rules import Outcome, evaluate
from .screening import (
    Criterion,
    CriterionResult,
    ScreeningDecision,
    fields_needed,
    screen,
    validate_criteria,
)
from .validation import rule_fields, validate_rule

__all__ = [
    "DERIVED_FIELDS",
    "FIELD_CATALOGUE",
    "ICCA_DEFAULT_CRITERIA",
    "OPERATORS",
    "AppliesTo",
    "Criterion",
    "CriterionKind",
    "CriterionResult",
    "DerivedField",
    "FieldSource",
    "FieldSpec",
    "FieldType",
    "Outcome",
    "RuleError",
    "ScreeningDecision",
    "Status",
    "Verdict",
    "evaluate",
    "fields_needed",
    "parse_derived_field",
    "raw_fields",
    "rule_fields",
    "screen",
    "validate_criteria",
    "validate_rule",
]
