"""Forms of the consent, enrollment and unblinding pages. They only parse input; the
rules live in the services (``patients.services.consent`` / ``enrollment`` /
``unblinding``), whose errors come back onto these fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from trials.choices import Language
from trials.models import ConsentVersion
from ui.widgets import DateInput


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class ConsentVersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ConsentVersion) -> str:
        until = f" – {obj.superseded_on:%Y-%m-%d}" if obj.superseded_on else ""
        return (
            f"v{obj.version} · {obj.get_language_display()} · "
            f"{obj.effective_from:%Y-%m-%d}{until} · {obj.ethics_approval_ref}"
        )


class ConsentForm(forms.Form):
    consent_version = ConsentVersionChoiceField(
        label=_("Consent version"),
        queryset=ConsentVersion.objects.none(),
        help_text=_("The ethics-approved document the patient signed."),
    )
    language = forms.ChoiceField(
        label=_("Language of the consent discussion"), choices=Language.choices
    )
    consented_at = forms.DateTimeField(
        label=_("Date and time of consent"),
        widget=DateTimeInput(),
        help_text=_("In the site's time zone."),
    )
    interpreter_used = forms.BooleanField(
        label=_("A qualified interpreter was used"), required=False
    )
    interpreter_name = forms.CharField(label=_("Interpreter name"), max_length=200, required=False)
    interpreter_qualification = forms.CharField(
        label=_("Interpreter qualification"), max_length=200, required=False
    )
    witness_name = forms.CharField(
        label=_("Impartial witness name"),
        max_length=200,
        required=False,
        help_text=_(
            "Required, with an interpreter, when consent is not discussed and documented "
            "in the patient's preferred language."
        ),
    )
    personal_information_consent = forms.BooleanField(
        label=_("Separate consent to process sensitive personal information (PIPL)"),
        required=False,
    )
    samples_consent = forms.BooleanField(label=_("Consent to biological samples"), required=False)

    def __init__(self, *args: Any, patient: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["consent_version"].queryset = ConsentVersion.objects.filter(
            trial_id=patient.trial_site.trial_id
        ).order_by("language", "-effective_from")
        if not self.is_bound:
            self.fields["language"].initial = patient.preferred_language

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class ConsentWithdrawForm(forms.Form):
    withdrawn_on = forms.DateField(label=_("Date of withdrawal"), widget=DateInput())
    reason = forms.CharField(
        label=_("Reason for withdrawal"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Give the reason for withdrawal (or “not given by the patient”).")
        },
    )


class EnrollForm(forms.Form):
    enrolled_on = forms.DateField(label=_("Enrollment date"), widget=DateInput())
    first_treatment_date = forms.DateField(
        label=_("First treatment date"),
        required=False,
        widget=DateInput(),
        help_text=_("If already known; visits counted from it are planned once it is entered."),
    )
    confirm = forms.BooleanField(
        label=_("I confirm this patient is to be enrolled now; the allocation cannot be undone."),
        error_messages={"required": _("Tick the box to confirm the enrollment.")},
    )


class FirstTreatmentForm(forms.Form):
    first_treatment_date = forms.DateField(label=_("First treatment date"), widget=DateInput())
    reason = forms.CharField(
        label=_("Reason for change"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when correcting a date already recorded."),
    )


class UnblindForm(forms.Form):
    reason = forms.CharField(
        label=_("Medical reason for emergency unblinding"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Give the medical reason for the emergency unblinding.")},
    )
    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_("Re-enter your password to confirm it is you."),
    )
