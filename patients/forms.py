from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sites.models import TrialSite
from ui.widgets import DateInput

from .models import Patient
from .services import EDITABLE_FIELDS


class PatientForm(forms.ModelForm):
    """Registration data. Validation beyond field types lives in the service, which the
    view calls; its errors come back onto the fields here."""

    confirm_duplicate = forms.BooleanField(
        label=_("Register anyway"),
        required=False,
        help_text=_(
            "Tick only after checking the patient is not already taking part at another site."
        ),
    )

    class Meta:
        model = Patient
        fields = EDITABLE_FIELDS
        widgets = {
            "birth_date": DateInput(),
            "residence_permit_expiry": DateInput(),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("full_name", "id_document_number"):
            self.fields[name].widget.attrs["autocomplete"] = "off"

    def service_data(self) -> dict[str, Any]:
        return {f: self.cleaned_data[f] for f in EDITABLE_FIELDS if f in self.cleaned_data}


class RegisterPatientForm(PatientForm):
    trial_site = forms.ModelChoiceField(
        label=_("Trial and site"),
        queryset=TrialSite.objects.none(),
        empty_label=None,
    )

    class Meta(PatientForm.Meta):
        fields = ("trial_site", *EDITABLE_FIELDS)

    def __init__(self, *args: Any, trial_sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trial_site"].queryset = trial_sites
        if trial_sites.count() == 1:
            self.fields["trial_site"].initial = trial_sites.first()


class EditPatientForm(PatientForm):
    reason = forms.CharField(
        label=_("Reason for change"),
        max_length=1000,
        error_messages={"required": _("A reason for change is required when editing saved data.")},
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required: kept in the audit trail with the change."),
    )


class DocumentLookupForm(forms.Form):
    """Find a patient by identity document: sent by POST, never in a URL."""

    document_number = forms.CharField(
        label=_("Identity document number"),
        max_length=40,
        help_text=_("Exact number; only patients of sites where you may see identity."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class PatientFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Subject id"),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Patient.Status.choices]
    )
    trial_site = forms.ModelChoiceField(
        label=_("Site"),
        required=False,
        queryset=TrialSite.objects.none(),
        empty_label=_("All my sites"),
    )
    expatriate = forms.ChoiceField(
        label=_("Expatriate"),
        required=False,
        choices=[("", _("All")), ("yes", _("Expatriates")), ("no", _("Residents"))],
    )

    def __init__(self, *args: Any, trial_sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trial_site"].queryset = trial_sites
