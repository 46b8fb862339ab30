"""Public forms: the generated pre-screening questionnaire and the appointment request."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from domain.prescreen import Answer, Kind
from ui.widgets import DateInput

from .models import PrescreenQuestion

TOKEN_SALT = "recruiting.prescreen"  # noqa: S105 - a signing salt, not a secret
TOKEN_MAX_AGE = 3 * 3600  # seconds a filled-in questionnaire stays usable for a request

YES_NO = [
    (Answer.YES.value, _("Yes")),
    (Answer.NO.value, _("No")),
    (Answer.UNKNOWN.value, _("I don't know")),
]


class PrescreenForm(forms.Form):
    """One field per question of the trial's criteria in effect (``q<pk>``)."""

    foreign_national = forms.TypedChoiceField(
        label=_("Are you a foreign national living in China?"),
        choices=[("no", _("No")), ("yes", _("Yes"))],
        widget=forms.RadioSelect,
        coerce=lambda v: v == "yes",
    )

    def __init__(self, *args: Any, questions: list[PrescreenQuestion], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for q in questions:
            name = f"q{q.pk}"
            common = {"label": q.text, "help_text": q.help_text}
            if q.expatriate_only:
                common["help_text"] = " ".join(
                    p for p in (q.help_text, str(_("Only for foreign nationals."))) if p
                )
            match q.kind:
                case Kind.YES_NO:
                    self.fields[name] = forms.ChoiceField(
                        choices=YES_NO,
                        widget=forms.RadioSelect,
                        required=not q.expatriate_only,
                        **common,
                    )
                case Kind.CHOICE:
                    self.fields[name] = forms.ChoiceField(
                        choices=[(f"o{o.pk}", o.label) for o in q.options.all()],
                        widget=forms.RadioSelect,
                        required=not q.expatriate_only,
                        **common,
                    )
                case Kind.AGE:
                    self.fields[name] = forms.IntegerField(
                        min_value=0, max_value=120, required=True, **common
                    )
                case Kind.DATE:
                    self.fields[name] = forms.DateField(
                        required=False, widget=DateInput(), **common
                    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        foreign = data.get("foreign_national")
        for q in self.questions:
            name = f"q{q.pk}"
            if q.expatriate_only and foreign and q.kind != Kind.DATE and not data.get(name):
                self.add_error(name, _("Please answer this question."))
        return data

    def answers(self) -> dict[str, Any]:
        """Answers keyed by question key, JSON-ready (dates as ISO strings)."""
        out: dict[str, Any] = {}
        for q in self.questions:
            value = self.cleaned_data.get(f"q{q.pk}")
            if isinstance(value, datetime.date):
                value = value.isoformat()
            out[f"q{q.pk}"] = value
        return out


def make_token(*, trial_id: int, answers: dict[str, Any], foreign: bool) -> str:
    return signing.dumps(
        {"t": trial_id, "a": answers, "x": foreign}, salt=TOKEN_SALT, compress=True
    )


def read_token(token: str, trial_id: int) -> dict[str, Any] | None:
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("t") != trial_id:
        return None
    return data


class BookingForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    slot = forms.CharField(label=_("Site and clinic day"))
    full_name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(
        label=_("Email"), help_text=_("We send your confirmation and calendar file here.")
    )
    phone = forms.RegexField(
        label=_("Phone"),
        regex=r"^\+?[0-9 ()\-]{5,40}\Z",
        required=False,
        error_messages={"invalid": _("Enter a phone number: digits, spaces, +, - and brackets.")},
    )
    language = forms.ChoiceField(label=_("Language for emails and the visit"))
    nationality = CountryField(blank=False).formfield(label=_("Nationality"))
    interpreter_needed = forms.BooleanField(label=_("I need an interpreter"), required=False)
    personal_information_consent = forms.BooleanField(
        label=_(
            "I agree that the trial team of the site I chose stores my name, contact details "
            "and answers to arrange this appointment. They are deleted if I do not join the "
            "trial. This is separate from any consent to take part in the trial."
        ),
        required=False,
    )
    # Honeypot: hidden from people by the stylesheet; bots fill it in.
    website = forms.CharField(label=_("Leave this field empty"), required=False)

    def __init__(self, *args: Any, languages: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = languages

    def clean_slot(self) -> tuple[int, datetime.date] | None:
        raw = self.cleaned_data["slot"]
        try:
            clinic, day = raw.split(":", 1)
            return int(clinic), datetime.date.fromisoformat(day)
        except ValueError:
            raise forms.ValidationError(_("Choose a site and a clinic day.")) from None


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (the person is told)"), widget=forms.Textarea(attrs={"rows": 3})
    )


class ProposeForm(forms.Form):
    day = forms.DateField(label=_("Proposed clinic day"), widget=DateInput())
    reason = forms.CharField(label=_("Reason"), required=False)


class CapacityForm(forms.Form):
    daily_capacity = forms.IntegerField(
        label=_("New appointment requests per clinic day"), min_value=0, max_value=100
    )
    weeks_ahead = forms.IntegerField(label=_("Weeks offered ahead"), min_value=1, max_value=12)
    reason = forms.CharField(label=_("Reason for change"), max_length=1000)
