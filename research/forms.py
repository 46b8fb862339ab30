from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sites.models import Site
from ui.widgets import DateInput

from .cohorts import criteria_errors
from .models import Cohort, ExtractFormat

EXAMPLE = {
    "all": [
        {"type": "diagnosis", "category": ["icca"]},
        {"type": "genomic", "alteration": "fusion", "gene": "FGFR2"},
        {"type": "treatment", "kind": ["rfa", "mwa", "cryoablation"]},
    ]
}


class CohortForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    criteria = forms.JSONField(
        label=_("Criteria"),
        widget=forms.Textarea(attrs={"rows": 14, "class": "mono"}),
        help_text=_(
            "Groups: all (AND), any (OR), not. Criteria: diagnosis, stage, pathology, "
            "genomic, biomarker, treatment, vital_status, center, patient (see the README)."
        ),
    )
    is_shared = forms.BooleanField(label=_("Share with other researchers"), required=False)
    reason = forms.CharField(label=_("Reason for the change"), required=False, max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound and not self.initial.get("criteria"):
            self.initial["criteria"] = json.dumps(EXAMPLE, indent=2)

    def clean_criteria(self) -> Any:
        value = self.cleaned_data["criteria"]
        errors = criteria_errors(value)
        if errors:
            raise forms.ValidationError(errors["criteria"])
        return value


class DataRequestForm(forms.Form):
    """A governed extract request. The form reads the values; the service
    (``extracts.request_errors``) decides what is acceptable, all at once."""

    title = forms.CharField(label=_("Title"), max_length=200)
    cohort = forms.ModelChoiceField(label=_("Cohort"), queryset=Cohort.objects.none())
    purpose = forms.CharField(
        label=_("Purpose"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The research question and why row-level data are needed."),
    )
    ethics_committee = forms.CharField(label=_("Ethics committee"), max_length=200)
    ethics_approval_number = forms.CharField(label=_("Ethics approval number"), max_length=100)
    ethics_approval_date = forms.DateField(label=_("Ethics approval date"), widget=DateInput())
    centers = forms.ModelMultipleChoiceField(
        label=_("Centers concerned"),
        queryset=Site.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The data steward of each center decides for their center."),
    )
    formats = forms.MultipleChoiceField(
        label=_("Formats"),
        choices=ExtractFormat.choices,
        initial=[ExtractFormat.TABLES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tables (Parquet and CSV) are always included."),
    )
    include_genomics = forms.BooleanField(label=_("Include genomic data"), required=False)
    hgr_approval_number = forms.CharField(
        label=_("Human genetic resources approval number"),
        max_length=100,
        required=False,
        help_text=_("Required for genomic data."),
    )
    recontact = forms.BooleanField(
        label=_("For recontact (only patients who agreed to be recontacted)"), required=False
    )

    def __init__(self, *args: Any, cohorts: Any, centers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = cohorts
        self.fields["centers"].queryset = centers
        self.fields["centers"].label_from_instance = lambda s: f"{s.code} · {s.name}"


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve for my center")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when rejecting: the requester reads it."),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)
