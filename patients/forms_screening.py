"""The screening form, generated from the eligibility field catalogue.

It asks exactly the fields the applicable criteria read (``fields_needed``), minus those
already on record (date of birth, residence permit, identity document, insurance,
consent languages, planned follow-up: shown read-only with a link to edit the patient).
Every answer is optional: what is left blank makes the screening *incomplete*, naming
the missing data. Types and plausible ranges are checked here and again in the service.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from domain.eligibility import (
    FIELD_CATALOGUE,
    Criterion,
    FieldSpec,
    FieldType,
    fields_needed,
)
from ui.widgets import DateInput

from .models import Patient
from .selectors_screening import RecordValues
from .services.screening import ANSWER_FIELDS, screening_date_problems
from .services.visits import patient_local_today

#: Form sections, in display order; a field in no section goes to "Other".
GROUPS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    (
        "disease",
        gettext_lazy("Diagnosis and disease extent"),
        (
            "histology",
            "histology_confirmed",
            "unresectable",
            "metastatic",
            "measurable_lesion_count",
            "baseline_scan_date",
            "cns_metastases",
            "other_malignancy",
            "other_malignancy_date",
        ),
    ),
    (
        "prior_therapy",
        gettext_lazy("Prior therapy"),
        (
            "prior_systemic_therapy",
            "prior_systemic_adjuvant_only",
            "adjuvant_therapy_end_date",
            "recurrence_date",
            "prior_checkpoint_inhibitor",
            "prior_radiotherapy",
            "last_radiotherapy_date",
            "prior_major_surgery",
            "last_major_surgery_date",
            "prior_local_therapy",
            "last_local_therapy_date",
        ),
    ),
    (
        "performance",
        gettext_lazy("Performance status and liver function"),
        ("ecog", "child_pugh_class", "life_expectancy_weeks"),
    ),
    (
        "labs",
        gettext_lazy("Laboratory values"),
        (
            "platelets",
            "neutrophils",
            "haemoglobin",
            "bilirubin",
            "bilirubin_uln",
            "alt",
            "alt_uln",
            "ast",
            "ast_uln",
            "creatinine",
            "creatinine_uln",
        ),
    ),
    (
        "expatriate",
        gettext_lazy("Expatriate patient requirements"),
        ("interpreter_available", "impartial_witness_available", "remote_followup_agreed"),
    ),
)
_GROUP_OF = {name: key for key, _title, names in GROUPS for name in names}

#: Fields that only matter after a "yes" to another question.
_ONLY_IF = {
    "prior_systemic_adjuvant_only": "prior_systemic_therapy",
    "adjuvant_therapy_end_date": "prior_systemic_therapy",
    "recurrence_date": "prior_systemic_therapy",
    "last_radiotherapy_date": "prior_radiotherapy",
    "last_major_surgery_date": "prior_major_surgery",
    "last_local_therapy_date": "prior_local_therapy",
    "other_malignancy_date": "other_malignancy",
}


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _label(spec: FieldSpec) -> str:
    label = _(spec.label)  # catalogue strings are data; translatable once catalogued
    return f"{label} ({spec.unit})" if spec.unit else label


def _help(name: str, spec: FieldSpec) -> str:
    parts = [_(spec.help_text)] if spec.help_text else []
    if name in _ONLY_IF:
        parts.append(
            _("Only needed if “%(question)s” is yes.")
            % {"question": _(FIELD_CATALOGUE[_ONLY_IF[name]].label)}
        )
    if spec.type is FieldType.DECIMAL and spec.min_value is not None:
        parts.append(
            _("Plausible range %(min)s to %(max)s %(unit)s: check the unit.")
            % {"min": spec.min_value, "max": spec.max_value, "unit": spec.unit}
        )
    return " ".join(parts)


def catalogue_field(name: str, spec: FieldSpec) -> forms.Field:
    """A typed, optional form field for one catalogue entry."""
    common = {"label": _label(spec), "help_text": _help(name, spec), "required": False}
    match spec.type:
        case FieldType.INT:
            return forms.IntegerField(
                min_value=spec.min_value,
                max_value=spec.max_value,
                widget=forms.NumberInput(attrs={"step": 1, "inputmode": "numeric"}),
                **common,
            )
        case FieldType.DECIMAL:
            return forms.DecimalField(
                min_value=spec.min_value,
                max_value=spec.max_value,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
                **common,
            )
        case FieldType.DATE:
            attrs = {}
            if isinstance(spec.min_value, datetime.date):
                attrs["min"] = spec.min_value.isoformat()
            return forms.DateField(widget=DateInput(attrs=attrs), **common)
        case FieldType.BOOL:
            return forms.TypedChoiceField(
                choices=[("yes", _("Yes")), ("no", _("No")), ("", _("Not recorded"))],
                coerce=_yes_no,
                empty_value=None,
                widget=forms.RadioSelect(attrs={"class": "inline-choices"}),
                **common,
            )
        case _:
            return forms.ChoiceField(
                choices=[("", _("Not recorded"))] + [(v, _(lab)) for v, lab in spec.choices],
                **common,
            )


@dataclass
class FieldGroup:
    """A section of the form, shaped like a form for ``includes/form_fields.html``."""

    key: str
    title: str
    fields: list[forms.BoundField]
    errors: Any = None

    def visible_fields(self) -> list[forms.BoundField]:
        return self.fields

    def hidden_fields(self) -> list[forms.BoundField]:
        return []

    def non_field_errors(self) -> list[str]:
        return []


@dataclass
class RecordItem:
    """A value taken from the patient record, shown read-only on the form."""

    name: str
    label: str
    value: str


def _stored_to_initial(spec: FieldSpec, value: Any) -> Any:
    if value is None:
        return None
    if spec.type is FieldType.BOOL:
        return "yes" if value is True else "no" if value is False else None
    if spec.type is FieldType.DECIMAL:
        try:
            return Decimal(str(value))
        except ArithmeticError:
            return None
    return value


class ScreeningForm(forms.Form):
    screening_date = forms.DateField(
        label=gettext_lazy("Screening date"),
        widget=DateInput(),
        help_text=gettext_lazy(
            "Date the eligibility assessment refers to; ages and intervals are computed "
            "relative to it."
        ),
        error_messages={"required": gettext_lazy("Enter the screening date.")},
    )

    def __init__(
        self,
        *args: Any,
        patient: Patient,
        criteria: list[Criterion],
        previous: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.patient = patient
        needed = fields_needed(criteria, patient.is_expatriate)
        self.asked = [name for name in ANSWER_FIELDS if name in needed]
        self.record_fields = needed - set(self.asked) - {"screening_date"}
        previous = previous or {}
        for name in self.asked:
            spec = FIELD_CATALOGUE[name]
            self.fields[name] = catalogue_field(name, spec)
            if not self.is_bound and name in previous:
                self.initial[name] = _stored_to_initial(spec, previous[name])
        if not self.is_bound:
            self.initial.setdefault("screening_date", patient_local_today(patient))

    def clean_screening_date(self) -> datetime.date:
        value = self.cleaned_data["screening_date"]
        problems = screening_date_problems(self.patient, value)
        if problems:
            raise forms.ValidationError(problems)
        return value

    def answers(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.asked}

    def groups(self) -> list[FieldGroup]:
        sections: dict[str, list[forms.BoundField]] = {}
        for name in self.asked:
            sections.setdefault(_GROUP_OF.get(name, "other"), []).append(self[name])
        titles = [(key, str(title)) for key, title, _names in GROUPS]
        titles.append(("other", _("Other")))
        groups = [FieldGroup("date", pgettext("section", "Screening"), [self["screening_date"]])]
        groups += [
            FieldGroup(key, title, sections[key]) for key, title in titles if key in sections
        ]
        return groups

    def record_items(self, records: RecordValues, on_date: datetime.date) -> list[RecordItem]:
        """The needed values taken from records (as of ``on_date``), for display."""
        v = records.values
        p = self.patient
        yes, no = _("yes"), _("no")
        items: list[RecordItem] = []
        for name in (n for n in FIELD_CATALOGUE if n in self.record_fields):
            label = _(FIELD_CATALOGUE[name].label)
            value = v.get(name)
            match name:
                case "birth_date":
                    shown = (
                        f"{p.birth_date:%Y-%m-%d} ("
                        + _("%(n)s years today") % {"n": p.age_years}
                        + ")"
                    )
                case "residence_permit_expiry_date":
                    shown = value or _("not recorded")
                    days = v.get("planned_followup_days")
                    if p.residence_permit_expiry and days is not None:
                        end = on_date + datetime.timedelta(days=days)
                        covered = p.residence_permit_expiry >= end
                        shown += (
                            " ("
                            + (
                                _("covers the planned follow-up, which ends %(date)s")
                                if covered
                                else _("ends before the planned follow-up, which ends %(date)s")
                            )
                            % {"date": end.isoformat()}
                            + ")"
                        )
                case "consent_language_available":
                    language = p.get_preferred_language_display()
                    if records.consent_version is not None:
                        shown = _("yes: consent version %(version)s in %(language)s") % {
                            "version": records.consent_version.version,
                            "language": language,
                        }
                    else:
                        shown = _("no approved consent version in %(language)s") % {
                            "language": language
                        }
                case "planned_followup_days":
                    trial = p.trial_site.trial
                    shown = _("%(days)s days (%(months)s months, from the trial protocol)") % {
                        "days": value,
                        "months": trial.planned_followup_months,
                    }
                case _:
                    shown = yes if value is True else no if value is False else str(value)
            items.append(RecordItem(name, label, shown))
        return items


class ScreeningLogFilterForm(forms.Form):
    trial = forms.ModelChoiceField(
        label=gettext_lazy("Trial"),
        required=False,
        queryset=None,
        empty_label=gettext_lazy("All my trials"),
    )
    trial_site = forms.ModelChoiceField(
        label=gettext_lazy("Site"),
        required=False,
        queryset=None,
        empty_label=gettext_lazy("All my sites"),
    )
    date_from = forms.DateField(label=gettext_lazy("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=gettext_lazy("To"), required=False, widget=DateInput())

    def __init__(self, *args: Any, trials: Any, trial_sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trial"].queryset = trials
        self.fields["trial_site"].queryset = trial_sites

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period cannot be before its start."))
        return data
