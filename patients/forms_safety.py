"""Forms of the safety page: the trial filter, recording a sent report, expectedness."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from domain import safety as rules
from trials.models import Trial

REPORT_CHOICES = [
    (rules.INITIAL, _("Initial SAE report (24 hours)")),
    (rules.SUSAR, _("SUSAR report (7 or 15 days)")),
]


class SafetyFilterForm(forms.Form):
    trial = forms.ModelChoiceField(label=_("Trial"), queryset=Trial.objects.none(), required=False)

    def __init__(self, *args: Any, trials: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trial"].queryset = trials
        self.fields["trial"].empty_label = None


class SaeReportForm(forms.Form):
    report = forms.ChoiceField(label=_("Report"), choices=REPORT_CHOICES)
    reported_at = forms.DateTimeField(
        label=_("Sent at (date and time)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    reason = forms.CharField(
        label=_("Reason for change"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required only when correcting a time already recorded."),
    )

    def __init__(self, *args: Any, reports: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["report"].choices = [c for c in REPORT_CHOICES if c[0] in reports]


class ExpectednessForm(forms.Form):
    expected = forms.TypedChoiceField(
        label=_("Per the reference safety information, this event is"),
        choices=[("", "---------"), ("yes", _("Expected")), ("no", _("Unexpected"))],
        coerce=lambda v: v == "yes",
        empty_value=None,
        help_text=_(
            "An unexpected serious event related to a study treatment is a SUSAR: it is "
            "reported to the authorities within 7 days if fatal or life-threatening, "
            "otherwise within 15 days of awareness."
        ),
    )
    reason = forms.CharField(
        label=_("Reason for change"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required only when changing an earlier assessment."),
    )
