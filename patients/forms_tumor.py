"""Forms for tumour assessments: the baseline (a formset of lesion rows) and the
follow-up (one row per baseline target lesion).

Only field types are checked here; every rule (RECIST selection, dates, states) lives
in ``patients.services.tumor``, whose errors the views put back on the rows and fields.
Row fields are all optional so that a refused rule comes back with the service's own
message naming the field, not a generic "This field is required".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ui.widgets import DateInput

from .models import Lesion, LesionMeasurement, TumorAssessment, Visit

#: Offered in the organ field's datalist; any other organ may be typed.
COMMON_ORGANS = (
    "liver",
    "lymph node",
    "lung",
    "peritoneum",
    "bone",
    "adrenal",
    "pleura",
    "abdominal wall",
    "spleen",
    "kidney",
    "pancreas",
    "brain",
    "soft tissue",
)


def _reason_field() -> forms.CharField:
    return forms.CharField(
        label=_("Reason for change"),
        max_length=1000,
        required=False,  # the service refuses a blank reason with its own message
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required: kept in the audit trail with the change."),
    )


class _AssessmentForm(forms.Form):
    assessment_date = forms.DateField(label=_("Scan date"), required=False, widget=DateInput())
    method = forms.ChoiceField(
        label=_("Imaging method"), choices=TumorAssessment.Method.choices, required=False
    )
    visit = forms.ModelChoiceField(
        label=_("Visit"),
        queryset=Visit.objects.none(),
        required=False,
        empty_label=_("Not linked to a visit"),
    )

    def __init__(self, *args: Any, patient: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visit"].queryset = (
            Visit.objects.filter(patient=patient)
            .exclude(status=Visit.Status.CANCELLED)
            .select_related("definition")
            .order_by("scheduled_date", "pk")
        )
        self.fields["visit"].label_from_instance = _visit_label
        self.fields["notes"] = forms.CharField(
            label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea({"rows": 2})
        )
        if editing:
            self.fields["reason"] = _reason_field()


def _visit_label(visit: Visit) -> str:
    name = visit.definition.display_name if visit.definition_id else _("Unscheduled visit")
    when = visit.actual_date or visit.scheduled_date
    return f"{name} · {when:%Y-%m-%d}"


class BaselineForm(_AssessmentForm):
    """The baseline scan; its lesions come in ``LesionFormSet``."""


class LesionRowForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    code = forms.CharField(
        label=_("Code"),
        required=False,
        max_length=10,
        help_text=_("Blank: T1.. for targets, NT1.. for non-targets."),
        widget=forms.TextInput(attrs={"size": 4}),
    )
    organ = forms.CharField(
        label=_("Organ"),
        required=False,
        max_length=60,
        widget=forms.TextInput(attrs={"list": "organ-list", "size": 12}),
    )
    location = forms.CharField(
        label=_("Location"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"size": 14}),
    )
    nodal = forms.BooleanField(label=_("Lymph node"), required=False)
    target = forms.BooleanField(label=_("Target"), required=False)
    ablated = forms.BooleanField(label=_("Previously ablated"), required=False)
    diameter_mm = forms.FloatField(
        label=_("Diameter (mm)"),
        required=False,
        help_text=_("Longest diameter; short axis for a lymph node."),
        widget=forms.NumberInput(attrs={"step": "0.1", "class": "input-mm"}),
    )

    CONTENT_FIELDS = ("code", "organ", "location", "diameter_mm")

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not any(data.get(name) not in (None, "") for name in self.CONTENT_FIELDS)

    def service_row(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "id": data.get("id"),
            "code": data.get("code") or "",
            "organ": data.get("organ") or "",
            "location": data.get("location") or "",
            "nodal": bool(data.get("nodal")),
            "target": bool(data.get("target")),
            "ablated": bool(data.get("ablated")),
            "diameter_mm": data.get("diameter_mm"),
        }


LesionFormSet = forms.formset_factory(LesionRowForm, extra=8, max_num=40, absolute_max=60)
LesionEditFormSet = forms.formset_factory(
    LesionRowForm, extra=3, can_delete=True, max_num=40, absolute_max=60
)


def lesion_initial(lesions: Sequence[Lesion]) -> list[dict[str, Any]]:
    return [
        {
            "id": lesion.pk,
            "code": lesion.code,
            "organ": lesion.organ,
            "location": lesion.location,
            "nodal": lesion.nodal,
            "target": lesion.target,
            "ablated": lesion.ablated,
            "diameter_mm": lesion.baseline_mm,
        }
        for lesion in lesions
    ]


class FollowupForm(_AssessmentForm):
    """A follow-up scan; the target lesions' measurements come in ``MeasurementFormSet``."""

    non_target_status = forms.ChoiceField(
        label=_("Non-target lesions"),
        required=False,
        choices=[("", "---------"), *TumorAssessment.NonTarget.choices],
    )
    new_lesions = forms.ChoiceField(
        label=_("New lesions"),
        required=False,
        choices=TumorAssessment.NewLesions.choices,
        initial=TumorAssessment.NewLesions.NONE,
    )
    new_lesions_increased = forms.BooleanField(
        label=_("New lesions grew or increased in number (iRECIST)"), required=False
    )
    nontarget_increased = forms.BooleanField(
        label=_("Further non-target increase (iRECIST)"), required=False
    )
    recorded_response = forms.ChoiceField(
        label=_("Recorded response"),
        required=False,
        choices=[
            ("", _("None: calculate from the measurements")),
            *TumorAssessment.RecordedResponse.choices,
        ],
        help_text=_(
            "A response given elsewhere (e.g. central review), used as given instead of the "
            "calculated one. Measurements may then be left empty."
        ),
    )
    recorded_response_source = forms.CharField(
        label=_("Source of the recorded response"), required=False, max_length=200
    )

    HEAD = ("assessment_date", "method", "visit")

    def head_fields(self) -> list[forms.BoundField]:
        """Scan date, method and visit: shown above the lesion rows."""
        return [self[name] for name in self.HEAD]

    def tail_fields(self) -> list[forms.BoundField]:
        """Non-target status, new lesions, iRECIST flags, recorded response, notes, reason."""
        return [self[name] for name in self.fields if name not in self.HEAD]

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "assessment_date": data.get("assessment_date"),
            "method": data.get("method") or "",
            "visit": data.get("visit"),
            "notes": data.get("notes") or "",
            "non_target_status": data.get("non_target_status") or "",
            "new_lesions": data.get("new_lesions") or TumorAssessment.NewLesions.NONE,
            "new_lesions_increased": bool(data.get("new_lesions_increased")),
            "nontarget_increased": bool(data.get("nontarget_increased")),
            "recorded_response": data.get("recorded_response") or "",
            "recorded_response_source": data.get("recorded_response_source") or "",
        }


class MeasurementRowForm(forms.Form):
    """One baseline target lesion at this follow-up (the lesion is fixed by the row)."""

    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", "---------"), *LesionMeasurement.State.choices],
    )
    diameter_mm = forms.FloatField(
        label=_("Diameter (mm)"),
        required=False,
        widget=forms.NumberInput(attrs={"step": "0.1", "class": "input-mm"}),
    )
    fragments_mm = forms.CharField(
        label=_("Fragments (mm)"),
        required=False,
        max_length=200,
        help_text=_("A split lesion: each fragment, separated by commas."),
        widget=forms.TextInput(attrs={"size": 10, "placeholder": "12, 8"}),
    )
    merged_into = forms.ChoiceField(label=_("Merged into"), required=False, choices=())

    def __init__(self, *args: Any, lesion: Lesion, targets: Sequence[Lesion], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lesion = lesion
        self.fields["merged_into"].choices = [
            ("", "---------"),
            *((t.code, t.code) for t in targets if t.pk != lesion.pk),
        ]

    def service_row(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "lesion": self.lesion,
            "state": data.get("state") or "",
            "diameter_mm": data.get("diameter_mm"),
            "fragments_mm": data.get("fragments_mm") or "",
            "merged_into": data.get("merged_into") or None,
        }


class MeasurementFormSet(forms.BaseFormSet):
    """Exactly one row per baseline target lesion, in code order."""

    def __init__(self, *args: Any, targets: Sequence[Lesion], **kwargs: Any) -> None:
        self.targets = list(targets)
        super().__init__(*args, **kwargs)

    def total_form_count(self) -> int:
        return len(self.targets)

    def get_form_kwargs(self, index: int) -> dict[str, Any]:
        kwargs = super().get_form_kwargs(index)
        if index is not None and index < len(self.targets):
            kwargs.update(lesion=self.targets[index], targets=self.targets)
        return kwargs


MeasurementFormSetClass = forms.formset_factory(
    MeasurementRowForm, formset=MeasurementFormSet, extra=0
)


def measurement_initial(
    targets: Sequence[Lesion], measurements: Sequence[LesionMeasurement] = ()
) -> list[dict[str, Any]]:
    by_lesion = {m.lesion_id: m for m in measurements}
    rows = []
    for lesion in targets:
        m = by_lesion.get(lesion.pk)
        if m is None:
            rows.append({})
            continue
        rows.append(
            {
                "state": m.state,
                "diameter_mm": None if m.fragments_mm else m.diameter_mm,
                "fragments_mm": ", ".join(f"{v:g}" for v in m.fragments_mm or []),
                "merged_into": m.merged_into.code if m.merged_into_id else "",
            }
        )
    return rows
