from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DataQuery, Lock, Signature


class QueryRaiseForm(forms.Form):
    field_name = forms.ChoiceField(label=_("Field"), required=False)
    text = forms.CharField(
        label=_("Question"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, field_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field_name"].choices = [("", _("The whole record")), *field_choices]


class QueryAnswerForm(forms.Form):
    text = forms.CharField(
        label=_("Answer"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    correct = forms.BooleanField(label=_("Correct the value"), required=False)
    corrected_value = forms.CharField(label=_("Corrected value"), required=False, max_length=4000)


class QueryStepForm(forms.Form):
    step = forms.ChoiceField(
        choices=[
            ("close", _("Close")),
            ("cancel", _("Cancel")),
            ("reopen", _("Re-open")),
        ]
    )
    text = forms.CharField(
        label=_("Note"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )


class VerifyForm(forms.Form):
    fields_ = forms.MultipleChoiceField(
        label=_("Fields verified (none: the whole record)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, field_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fields_"].choices = field_choices


class SignForm(forms.Form):
    meaning = forms.ChoiceField(
        label=_("Meaning of the signature"), choices=Signature.Meaning.choices
    )
    username = forms.CharField(label=_("User id"), max_length=150)
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)
    otp_token = forms.CharField(
        label=_("Code of your authenticator app"),
        max_length=12,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from .second_factor import second_factor_required

        if not second_factor_required():  # the optional TOTP second factor is off
            del self.fields["otp_token"]


class SecondFactorForm(forms.Form):
    token = forms.CharField(
        label=_("Code shown by the app"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class LockForm(forms.Form):
    level = forms.ChoiceField(label=_("Level"), choices=Lock.Level.choices)
    mode = forms.ChoiceField(label=_("Kind"), choices=Lock.Mode.choices, initial=Lock.Mode.LOCK)
    trial_site = forms.ModelChoiceField(label=_("Trial site"), queryset=None, required=False)
    subject_id = forms.CharField(label=_("Subject id (casebook)"), required=False, max_length=50)
    label = forms.CharField(label=_("Label"), required=False, max_length=200)
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, trial_sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trial_site"].queryset = trial_sites


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for unlocking"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class QueryFilterForm(forms.Form):
    trial_site = forms.ModelChoiceField(label=_("Site"), queryset=None, required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any")), ("unresolved", _("Open or answered")), *DataQuery.Status.choices],
    )
    min_age = forms.ChoiceField(
        label=_("Open for"),
        required=False,
        choices=[
            ("", _("Any time")),
            ("7", _("> 7 days")),
            ("14", _("> 14 days")),
            ("30", _("> 30 days")),
        ],
    )
    form = forms.ChoiceField(label=_("Form"), required=False)
    raised_by = forms.CharField(label=_("Raised by"), required=False, max_length=150)

    def __init__(
        self, *args: Any, trial_sites: Any, form_choices: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trial_site"].queryset = trial_sites
        self.fields["form"].choices = [("", _("Any")), *form_choices]
