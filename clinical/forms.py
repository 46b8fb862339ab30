"""Entry forms of the clinical data; validation beyond types is the services' job (their
errors come back onto these forms field by field)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from domain.ctcae_labs import DIPSTICK_VALUES
from domain.lab_units import units_for
from patients.models import AdverseEvent, Lesion
from ui.widgets import DateInput

from .models import AnalyteChoice, Exposure, Panel, Procedure, ProcedureComplication
from .models.labs import PANEL_OF

#: Analytes of the lab form, in panel order.
FORM_ANALYTES = [a for p in Panel.values for a in AnalyteChoice.values if PANEL_OF[a] == p]


class LabPanelForm(forms.Form):
    """One collection date, one value (and unit) per analyte; empty rows are skipped."""

    collected_on = forms.DateField(label=_("Collection date"), widget=DateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(AnalyteChoice.choices)
        self.rows: list[tuple[str, str, str]] = []
        for analyte in FORM_ANALYTES:
            if analyte == "urine_protein_dipstick":
                self.fields[analyte] = forms.ChoiceField(
                    label=labels[analyte],
                    required=False,
                    choices=[("", "—"), *((v, v) for v in DIPSTICK_VALUES)],
                )
                self.rows.append((analyte, "", PANEL_OF[analyte]))
                continue
            self.fields[analyte] = forms.FloatField(label=labels[analyte], required=False)
            unit_field = f"{analyte}__unit"
            self.fields[unit_field] = forms.ChoiceField(
                label=_("unit"), required=False, choices=[(u, u) for u in units_for(analyte)]
            )
            self.rows.append((analyte, unit_field, PANEL_OF[analyte]))

    def panels(self) -> list[tuple[str, list[tuple[Any, Any]]]]:
        names = dict(Panel.choices)
        out: dict[str, list[tuple[Any, Any]]] = {}
        for analyte, unit_field, panel in self.rows:
            out.setdefault(panel, []).append(
                (self[analyte], self[unit_field] if unit_field else None)
            )
        return [(names[p], rows) for p, rows in out.items()]

    def values(self) -> list[dict[str, Any]]:
        rows = []
        for analyte, unit_field, _panel in self.rows:
            value = self.cleaned_data.get(analyte)
            if value in (None, ""):
                continue
            if unit_field:
                rows.append(
                    {"analyte": analyte, "value": value, "unit": self.cleaned_data[unit_field]}
                )
            else:
                rows.append({"analyte": analyte, "value_text": value})
        return rows


class VitalSignsForm(forms.Form):
    measured_on = forms.DateField(label=_("Date measured"), widget=DateInput())
    systolic_bp = forms.IntegerField(label=_("Systolic blood pressure (mmHg)"), required=False)
    diastolic_bp = forms.IntegerField(label=_("Diastolic blood pressure (mmHg)"), required=False)
    heart_rate = forms.IntegerField(label=_("Heart rate (/min)"), required=False)
    temperature_c = forms.DecimalField(
        label=_("Temperature (°C)"), required=False, max_digits=3, decimal_places=1
    )
    weight_kg = forms.DecimalField(
        label=_("Weight (kg)"), required=False, max_digits=5, decimal_places=1
    )
    height_cm = forms.DecimalField(
        label=_("Height (cm)"), required=False, max_digits=4, decimal_places=1
    )


class ExposureForm(forms.Form):
    intervention = forms.ModelChoiceField(label=_("Drug"), queryset=None)
    kind = forms.ChoiceField(label=_("Record"), choices=Exposure.Kind.choices)
    start_date = forms.DateField(label=_("Start date"), widget=DateInput())
    end_date = forms.DateField(label=_("End date"), required=False, widget=DateInput())
    dose_mg = forms.DecimalField(
        label=_("Dose (mg)"), required=False, max_digits=7, decimal_places=2
    )
    lot_number = forms.CharField(label=_("Lot number"), required=False, max_length=40)
    dose_change = forms.ChoiceField(
        label=_("Dose change"), required=False, choices=Exposure.DoseChange.choices
    )
    reason = forms.ChoiceField(label=_("Reason"), required=False, choices=Exposure.Reason.choices)
    reason_detail = forms.CharField(label=_("Reason details"), required=False, max_length=300)
    adverse_event = forms.ModelChoiceField(
        label=_("Adverse event"), required=False, queryset=AdverseEvent.objects.none()
    )

    def __init__(self, *args: Any, interventions: Any, adverse_events: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["intervention"].queryset = interventions
        self.fields["adverse_event"].queryset = adverse_events
        self.fields["adverse_event"].label_from_instance = lambda ae: (
            f"{ae.term} G{ae.grade} ({ae.onset_date:%Y-%m-%d})"
        )


class ConmedForm(forms.Form):
    generic_name = forms.CharField(label=_("Generic name"), max_length=200)
    indication = forms.CharField(label=_("Indication"), max_length=200)
    dose = forms.CharField(label=_("Dose"), required=False, max_length=60)
    route = forms.CharField(label=_("Route"), required=False, max_length=40)
    frequency = forms.CharField(label=_("Frequency"), required=False, max_length=60)
    start_date = forms.DateField(label=_("Start date"), widget=DateInput())
    stop_date = forms.DateField(label=_("Stop date"), required=False, widget=DateInput())
    ongoing = forms.BooleanField(label=_("Ongoing"), required=False)


class ProcedureForm(forms.Form):
    kind = forms.ChoiceField(label=_("Procedure"), choices=Procedure.Kind.choices)
    procedure_date = forms.DateField(label=_("Procedure date"), widget=DateInput())
    approach = forms.ChoiceField(label=_("Approach"), choices=Procedure.Approach.choices)
    lesions = forms.ModelMultipleChoiceField(
        label=_("Lesions treated"),
        required=False,
        queryset=Lesion.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    probes = forms.IntegerField(label=_("Number of probes"), required=False, min_value=0)
    freeze_thaw_cycles = forms.IntegerField(
        label=_("Freeze-thaw cycles"), required=False, min_value=0
    )
    ice_ball_margin_mm = forms.DecimalField(
        label=_("Ice-ball margin (mm)"), required=False, max_digits=4, decimal_places=1
    )
    technical_success = forms.NullBooleanField(label=_("Technical success"), required=False)
    complication = forms.CharField(label=_("Complication"), required=False, max_length=200)
    clavien_dindo = forms.ChoiceField(
        label=_("Clavien-Dindo grade"),
        required=False,
        choices=[("", "—"), *ProcedureComplication.ClavienDindo.choices],
    )
    complication_ae = forms.ModelChoiceField(
        label=_("Adverse event of the complication"),
        required=False,
        queryset=AdverseEvent.objects.none(),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, lesions: Any, adverse_events: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["lesions"].queryset = lesions
        self.fields["complication_ae"].queryset = adverse_events

    def service_data(self) -> dict[str, Any]:
        data = {
            k: self.cleaned_data[k]
            for k in (
                "kind",
                "procedure_date",
                "approach",
                "probes",
                "freeze_thaw_cycles",
                "ice_ball_margin_mm",
                "technical_success",
                "notes",
            )
        }
        data["lesions"] = list(self.cleaned_data["lesions"])
        text = self.cleaned_data.get("complication")
        data["complications"] = (
            [
                {
                    "description": text,
                    "clavien_dindo": self.cleaned_data.get("clavien_dindo"),
                    "adverse_event": self.cleaned_data.get("complication_ae"),
                }
            ]
            if text
            else []
        )
        return data


class FormNoteForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Answer"),
        choices=[("none", _("Nothing to report")), ("not_done", _("Not done"))],
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)


class DismissForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000)
