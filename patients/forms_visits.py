"""Forms for visits, end-of-study statuses and adverse events.

Field types are checked here; the rules (windows, dates, CTCAE/ICH E2A consistency)
live in the services, whose errors the views put back onto these fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sites.models import TrialSite
from ui.widgets import DateInput

from .models import AdverseEvent, AdverseEventCausality, CtcaeTerm, Patient, Visit
from .selectors_ctcae import (
    ctcae_grade_rows,
    ctcae_soc_choices,
    ctcae_term_label,
    ctcae_term_lookup,
)
from .services.safety import adverse_event_errors, causality_field


def _reason_field(label: Any = None, help_text: Any = None) -> forms.CharField:
    return forms.CharField(
        label=label or _("Reason for change"),
        max_length=1000,
        error_messages={"required": _("A reason for change is required when editing saved data.")},
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=help_text or _("Required: kept in the audit trail with the change."),
    )


ECOG_CHOICES = [
    ("", _("Not assessed")),
    (0, _("0 – fully active")),
    (1, _("1 – restricted in strenuous activity")),
    # xgettext:no-python-format
    (2, _("2 – ambulatory, up > 50% of waking hours")),
    # xgettext:no-python-format
    (3, _("3 – limited self-care, in bed/chair > 50%")),
    (4, _("4 – completely disabled")),
    (5, _("5 – dead")),
]


class VisitSubmitForm(forms.Form):
    actual_date = forms.DateField(label=_("Visit date"), widget=DateInput())
    vital_status = forms.ChoiceField(
        label=_("Vital status"), choices=[("", "---------"), *Visit.VitalStatus.choices]
    )
    ecog = forms.TypedChoiceField(
        label=_("ECOG performance status"),
        choices=ECOG_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    ae_review_done = forms.BooleanField(
        label=_("Adverse events reviewed with the patient"), required=False
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    deviation_reason = forms.CharField(
        label=_("Deviation reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Required when the visit took place outside its window: it is then recorded "
            "as a protocol deviation."
        ),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["reason"] = _reason_field()

    @classmethod
    def initial_for(cls, visit: Visit) -> dict[str, Any]:
        if visit.is_submitted:
            return {
                "actual_date": visit.actual_date,
                "vital_status": visit.vital_status,
                "ecog": visit.ecog,
                "ae_review_done": visit.ae_review_done,
                "notes": visit.notes,
                "deviation_reason": visit.deviation_reason,
            }
        return {"vital_status": Visit.VitalStatus.ALIVE}

    def service_data(self) -> dict[str, Any]:
        data = {
            f: self.cleaned_data[f]
            for f in (
                "actual_date",
                "vital_status",
                "ecog",
                "ae_review_done",
                "notes",
                "deviation_reason",
            )
        }
        data["reason"] = self.cleaned_data.get("reason")
        return data


class VisitRescheduleForm(forms.Form):
    new_date = forms.DateField(label=_("New date"), widget=DateInput())
    reason = _reason_field(label=_("Reason for rescheduling"))


class VisitUnscheduledForm(forms.Form):
    scheduled_date = forms.DateField(label=_("Date of the visit"), widget=DateInput())
    reason = forms.CharField(
        label=_("Reason for the unscheduled visit"),
        max_length=300,
        help_text=_("For example: symptoms, a toxicity check, a repeat scan."),
    )


class VisitMissedForm(forms.Form):
    reason = _reason_field(
        label=_("Why was the visit missed?"),
        help_text=_("Kept in the audit trail; a missed visit can still be submitted later."),
    )


class PatientStatusForm(forms.Form):
    """One form for the end-of-study statuses; each needs its own date."""

    CHOICES = [
        (Patient.Status.COMPLETED, _("Completed the study")),
        (Patient.Status.LOST, _("Lost to follow-up")),
        (Patient.Status.DIED, _("Died")),
        (Patient.Status.WITHDRAWN, _("Withdrawn from the study (treatment and follow-up)")),
        (Patient.Status.ON_STUDY, _("Back on study (lost patient reached again)")),
    ]
    status = forms.ChoiceField(label=_("New status"), choices=CHOICES, widget=forms.RadioSelect)
    on_date = forms.DateField(
        label=_("Date"),
        required=False,
        widget=DateInput(),
        help_text=_("Completion, withdrawal or contact date."),
    )
    last_known_alive_date = forms.DateField(
        label=_("Last known alive"),
        required=False,
        widget=DateInput(),
        help_text=_("For lost to follow-up: the last date the patient was known to be alive."),
    )
    death_date = forms.DateField(label=_("Date of death"), required=False, widget=DateInput())
    reason = _reason_field(label=_("Reason"), help_text=_("Kept in the audit trail."))


def _visit_label(visit: Visit) -> str:
    name = visit.definition.display_name if visit.definition_id else _("Unscheduled visit")
    return f"{name} · {(visit.actual_date or visit.scheduled_date).isoformat()}"


class AdverseEventForm(forms.Form):
    ctcae_term = forms.CharField(
        label=_("CTCAE term"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"list": "ctcae-terms", "autocomplete": "off"}),
        help_text=_("Type in English or Chinese (e.g. hypertension, 高血压) and pick the term."),
    )
    other_specify = forms.CharField(
        label=_("Other, specify"),
        required=False,
        max_length=200,
        help_text=_("Only when no CTCAE term fits: describe the event."),
    )
    other_soc = forms.ChoiceField(
        label=_("System organ class of the other event"), required=False, choices=[]
    )
    grade = forms.TypedChoiceField(
        label=_("CTCAE grade"),
        coerce=int,
        choices=[
            ("", "---------"),
            (1, _("1 – mild")),
            (2, _("2 – moderate")),
            (3, _("3 – severe or medically significant")),
            (4, _("4 – life-threatening")),
            (5, _("5 – death related to the event")),
        ],
    )
    serious = forms.BooleanField(
        label=_("Serious (ICH E2A)"),
        required=False,
        help_text=_("Seriousness is not intensity: a severe event need not be serious."),
    )
    serious_criteria = forms.MultipleChoiceField(
        label=_("Seriousness criteria"),
        required=False,
        choices=AdverseEvent.SeriousCriterion.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    onset_date = forms.DateField(label=_("Onset date"), widget=DateInput())
    resolution_date = forms.DateField(
        label=_("Resolution date"), required=False, widget=DateInput()
    )
    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", "---------"), *AdverseEvent.Outcome.choices]
    )
    action_taken = forms.ChoiceField(
        label=_("Action taken"), choices=[("", "---------"), *AdverseEvent.Action.choices]
    )
    visit = forms.ModelChoiceField(
        label=_("Reported at visit"),
        required=False,
        queryset=Visit.objects.none(),
        empty_label=_("Not at a visit"),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    awareness_at = forms.DateTimeField(
        label=_("Awareness (date and time)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_(
            "When the site first learned of the event; empty means now. Serious events are "
            "reported within 24 hours of it."
        ),
    )

    def __init__(
        self,
        *args: Any,
        interventions: list[Any],
        visits: Any,
        editing: bool = False,
        mask_names: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visit"].queryset = visits
        self.fields["visit"].label_from_instance = _visit_label
        self.fields["other_soc"].choices = [("", "---------"), *ctcae_soc_choices()]
        self.interventions = interventions
        for n, intervention in enumerate(interventions, start=1):
            name = (
                _("study treatment %(n)s") % {"n": n} if mask_names else intervention.display_name
            )
            self.fields[causality_field(intervention.pk)] = forms.ChoiceField(
                label=_("Relatedness to %(name)s") % {"name": name},
                choices=[("", "---------"), *AdverseEventCausality.Relatedness.choices],
            )
        if editing:
            self.fields["reason"] = _reason_field()

    @classmethod
    def initial_for(cls, event: AdverseEvent) -> dict[str, Any]:
        initial = {
            f: getattr(event, f)
            for f in (
                "grade",
                "serious",
                "serious_criteria",
                "onset_date",
                "resolution_date",
                "outcome",
                "action_taken",
                "description",
                "other_specify",
                "other_soc",
            )
        }
        if event.ctcae_term_id:
            initial["ctcae_term"] = ctcae_term_label(event.ctcae_term)
        elif not event.other_specify:
            initial["other_specify"] = event.term
        initial["visit"] = event.visit_id
        initial["awareness_at"] = event.awareness_at
        for row in event.causality.all():
            initial[causality_field(row.intervention_id)] = row.relatedness
        return initial

    def clean_ctcae_term(self) -> CtcaeTerm | None:
        value = self.cleaned_data.get("ctcae_term") or ""
        if not value.strip():
            legacy = (self.data.get("term") or "").strip()  # older clients post a free term
            return ctcae_term_lookup(legacy) if legacy else None
        term = ctcae_term_lookup(value)
        if term is None:
            raise forms.ValidationError(
                _("Pick a term from the list, or describe the event under “other, specify”.")
            )
        return term

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        coded, other = data.get("ctcae_term"), data.get("other_specify")
        legacy = (self.data.get("term") or "").strip()
        if "ctcae_term" in data and coded is None and not other and legacy:
            # An older client's free term that is not in the list: kept as uncoded text
            # (safety tables show it under "Not coded"); the form itself never posts it.
            data["other_specify"] = other = legacy[:200]
            return data
        if "ctcae_term" in data and coded is None and not other:
            self.add_error("ctcae_term", _("Choose the CTCAE term."))
        if coded is not None and other:
            self.add_error(
                "other_specify",
                _("Either choose a CTCAE term or describe the event as “other, specify”."),
            )
        if other and not data.get("other_soc"):
            self.add_error("other_soc", _("Choose the system organ class."))
        return data

    def grade_definitions(self) -> list[tuple[int, str]]:
        """Grade text of the chosen term, shown beside the grade field."""
        term = None
        if self.is_bound and hasattr(self, "cleaned_data"):
            term = self.cleaned_data.get("ctcae_term")
        elif self.initial.get("ctcae_term"):
            term = ctcae_term_lookup(str(self.initial["ctcae_term"]))
        return ctcae_grade_rows(term)

    def rule_errors(self, patient: Any) -> dict[str, list[str]]:
        """The service's rules on the fields that passed (the form has errors already):
        shown with them, so nothing is flagged only on the next submit."""
        data = dict(getattr(self, "cleaned_data", {}))
        causality = {
            i.pk: data.get(causality_field(i.pk)) or ""
            for i in self.interventions
            if causality_field(i.pk) in data
        }
        return adverse_event_errors(patient=patient, data=data, causality=causality)

    def service_data(self) -> dict[str, Any]:
        data = {
            f: self.cleaned_data[f]
            for f in (
                "ctcae_term",
                "other_specify",
                "other_soc",
                "grade",
                "serious",
                "serious_criteria",
                "onset_date",
                "resolution_date",
                "outcome",
                "action_taken",
                "description",
                "visit",
            )
        }
        data["causality"] = {
            i.pk: self.cleaned_data[causality_field(i.pk)] for i in self.interventions
        }
        data["awareness_at"] = self.cleaned_data.get("awareness_at")
        return data


class AdverseEventFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"), required=False, max_length=100, help_text=_("Term or subject id")
    )
    grade = forms.TypedChoiceField(
        label=_("Grade"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any grade")), *[(g, str(g)) for g in range(1, 6)]],
    )
    serious = forms.ChoiceField(
        label=_("Serious"),
        required=False,
        choices=[("", _("All")), ("yes", _("Serious")), ("no", _("Non-serious"))],
    )
    trial_site = forms.ModelChoiceField(
        label=_("Site"),
        required=False,
        queryset=TrialSite.objects.none(),
        empty_label=_("All my sites"),
    )

    def __init__(self, *args: Any, trial_sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trial_site"].queryset = trial_sites
