from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from trials.models import Trial

from .models import ExportJob


class ExportRequestForm(forms.Form):
    trial = forms.ModelChoiceField(
        label=_("Trial"), queryset=Trial.objects.none(), empty_label=None
    )
    kind = forms.ChoiceField(
        label=_("Format"),
        choices=ExportJob.Kind.choices,
        initial=ExportJob.Kind.CSV,
        help_text=_(
            "CSV bundle: one file per dataset with a data dictionary. ODM: CDISC ODM 1.3.2 "
            "XML with the full audit trail of every value."
        ),
    )

    def __init__(self, *args: Any, trials: list[Trial], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["trial"].queryset = Trial.objects.filter(
            pk__in=[t.pk for t in trials]
        ).order_by("protocol_code")


class ExportFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All"))] + list(ExportJob.Status.choices),
    )
    kind = forms.ChoiceField(
        label=_("Format"),
        required=False,
        choices=[("", _("All"))] + list(ExportJob.Kind.choices),
    )
