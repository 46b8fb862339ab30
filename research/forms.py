from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .cohorts import criteria_errors

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
