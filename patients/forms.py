from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from sites.models import TrialSite
from ui.widgets import DateInput

from .models import Patient
from .services import EDITABLE_FIELDS
from .services.registration import patient_rule_errors


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

    #: The sections of the form, in order: (key, title, fields). Fields of the
    #: "expatriate" section are shown only when "expatriate patient" is ticked (static
    #: js/forms.js; without JavaScript they are always shown).
    GROUPS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
        ("site", _("Trial and site"), ("trial_site",)),
        (
            "identity",
            _("Identity"),
            ("full_name", "sex", "birth_date", "id_document_type", "id_document_number"),
        ),
        (
            "contact",
            _("Contact and language"),
            ("phone", "email", "preferred_language", "interpreter_needed"),
        ),
        ("residence", _("Nationality and residence"), ("nationality", "is_expatriate")),
        ("expatriate", _("Expatriate patient"), ("residence_permit_expiry",)),
        (
            "insurance",
            _("Insurance"),
            ("insurance_provider", "insurance_covers_trial", "trial_injury_insurance"),
        ),
        ("confirm", _("Confirmation"), ("confirm_duplicate", "reason")),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("full_name", "id_document_number"):
            self.fields[name].widget.attrs["autocomplete"] = "off"
        # No maxlength attribute: a browser silently cuts a pasted name at the limit;
        # the server refuses a name that is too long and says so instead.
        for field in self.fields.values():
            field.widget.attrs.pop("maxlength", None)
        limit = Patient._meta.get_field("full_name").max_length
        self.fields["full_name"].error_messages["max_length"] = _(
            "The name has %%(show_value)d characters; at most %(limit)d fit. Enter it as "
            "written on the identity document, abbreviating middle names if needed."
        ) % {"limit": limit}
        self.fields["is_expatriate"].widget.attrs["data-toggles"] = "expatriate"

    def groups(self) -> list[dict[str, Any]]:
        """The visible fields by section, for the template."""
        out = []
        for key, title, names in self.GROUPS:
            fields = [self[n] for n in names if n in self.fields]
            if key == "confirm":
                fields = [f for f in fields if f.name != "confirm_duplicate" or self.show_confirm]
            if fields:
                out.append({"key": key, "title": title, "fields": fields})
        return out

    show_confirm = False

    def clean(self) -> dict[str, Any]:
        """The registration rules on the fields that passed their own checks, so a bad
        phone and a future date of birth are both flagged in the same round."""
        data = super().clean()
        values = {f: data[f] for f in EDITABLE_FIELDS if f in data}
        copy = Patient(**{f: getattr(self.instance, f) for f in EDITABLE_FIELDS})
        copy.death_date = self.instance.death_date
        for field, value in values.items():
            setattr(copy, field, value)
        for field in EDITABLE_FIELDS:
            if field not in data and field in self.fields:
                setattr(copy, field, None if field != "nationality" else "")
        for field, messages_ in patient_rule_errors(patient=copy).items():
            target = field if field in self.fields else None
            if target is not None and target not in data:
                continue  # already in error: keep its own message
            for message in messages_:
                self.add_error(target, message)
        return data

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
        # Most patients are residents: nationality China is preselected (an expatriate's
        # nationality is chosen when "expatriate patient" is ticked).
        self.fields["nationality"].initial = "CN"


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
