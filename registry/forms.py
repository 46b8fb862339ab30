"""Entry forms, one per domain: they collect fields; the services validate and write
(their errors are put back on the fields, all in one round)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ui.widgets import DateInput

from .models import (
    CopyNumberChange,
    FollowUp,
    Fusion,
    GenomicTest,
    ImagingStudy,
    LiradsObservation,
    PathologyReport,
    RegistryPatient,
    StagingRecord,
    Treatment,
    Tumour,
    Variant,
)
from .services.clinical import FOLLOWUP_FIELDS, TREATMENT_FIELDS, TUMOUR_FIELDS
from .services.genomics import TEST_FIELDS
from .services.imaging import OBSERVATION_FIELDS, STUDY_FIELDS
from .services.pathology import FIELDS as PATHOLOGY_FIELDS
from .services.patients import EDITABLE_FIELDS as PATIENT_FIELDS


def apply_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's errors on the form's fields (unknown fields: on the form)."""
    for field, messages in (
        exc.message_dict.items() if hasattr(exc, "error_dict") else [("__all__", exc.messages)]
    ):
        target = field if field in form.fields else None
        for message in messages:
            form.add_error(target, message)


class ReasonMixin(forms.Form):
    reason = forms.CharField(
        label=_("Reason for change"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when changing a saved record; kept in the audit trail."),
    )


def _dates(model: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    from django.db import models as m

    return {f: DateInput() for f in fields if isinstance(model._meta.get_field(f), m.DateField)}


class RegistryPatientForm(ReasonMixin, forms.ModelForm):
    class Meta:
        model = RegistryPatient
        fields = list(PATIENT_FIELDS)
        widgets = _dates(RegistryPatient, PATIENT_FIELDS)


class TumourForm(ReasonMixin, forms.ModelForm):
    metastatic_sites = forms.MultipleChoiceField(
        label=_("distant metastases"),
        choices=Tumour.Metastasis.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Tumour
        fields = list(TUMOUR_FIELDS)
        widgets = _dates(Tumour, TUMOUR_FIELDS)


class StagingForm(forms.Form):
    system = forms.ChoiceField(label=_("system"), choices=StagingRecord.System.choices)
    staged_on = forms.DateField(label=_("date"), widget=DateInput())
    child_pugh_class = forms.ChoiceField(
        label=_("Child-Pugh class (BCLC, CNLC)"),
        choices=[("", "—"), ("A", "A"), ("B", "B"), ("C", "C")],
        required=False,
    )
    ecog = forms.IntegerField(
        label=_("ECOG (BCLC, CNLC, ECOG)"), min_value=0, max_value=5, required=False
    )
    karnofsky = forms.IntegerField(
        label=_("Karnofsky (ECOG)"), min_value=0, max_value=100, required=False
    )
    bilirubin_umol_l = forms.FloatField(label=_("bilirubin (µmol/L)"), min_value=0, required=False)
    albumin_g_l = forms.FloatField(label=_("albumin (g/L)"), min_value=0, required=False)
    inr = forms.FloatField(label=_("INR"), min_value=0, required=False)
    ascites = forms.ChoiceField(
        label=_("ascites"),
        choices=[
            ("", "—"),
            ("none", _("None")),
            ("mild", _("Mild")),
            ("moderate_severe", _("Moderate to severe")),
        ],
        required=False,
    )
    encephalopathy = forms.ChoiceField(
        label=_("hepatic encephalopathy"),
        choices=[
            ("", "—"),
            ("none", _("None")),
            ("grade_1_2", _("Grade 1-2")),
            ("grade_3_4", _("Grade 3-4")),
        ],
        required=False,
    )
    override_value = forms.CharField(
        label=_("recorded value (override)"), max_length=20, required=False
    )
    override_reason = forms.CharField(
        label=_("reason for the override"), max_length=500, required=False
    )

    ENGINE_INPUTS = {
        "BCLC": ("child_pugh_class", "ecog"),
        "CNLC": ("child_pugh_class", "ecog"),
        "ECOG": ("karnofsky",),
        "CHILD_PUGH": ("bilirubin_umol_l", "albumin_g_l", "inr", "ascites", "encephalopathy"),
        "ALBI": ("bilirubin_umol_l", "albumin_g_l"),
    }

    def engine_inputs(self) -> dict[str, Any]:
        data = self.cleaned_data
        system = data["system"]
        inputs = {
            k: (data.get(k) if data.get(k) != "" else None)
            for k in self.ENGINE_INPUTS.get(system, ())
        }
        if system == "ECOG":
            inputs = {"grade": data.get("ecog"), "karnofsky": data.get("karnofsky")}
        return inputs


class PathologyForm(ReasonMixin, forms.ModelForm):
    class Meta:
        model = PathologyReport
        fields = list(PATHOLOGY_FIELDS)
        widgets = _dates(PathologyReport, PATHOLOGY_FIELDS)


class GenomicTestForm(ReasonMixin, forms.ModelForm):
    genes_covered = forms.CharField(
        label=_("genes covered"), required=False, help_text=_("HGNC symbols separated by commas.")
    )

    class Meta:
        model = GenomicTest
        fields = [f for f in TEST_FIELDS if f != "tumour"]
        widgets = _dates(GenomicTest, TEST_FIELDS)

    def clean_genes_covered(self) -> list[str]:
        return [
            g.strip()
            for g in (self.cleaned_data.get("genes_covered") or "").split(",")
            if g.strip()
        ]


class VariantForm(forms.ModelForm):
    class Meta:
        model = Variant
        fields = ["gene", "hgvs_c", "hgvs_p", "vaf", "classification"]


class FusionForm(forms.ModelForm):
    class Meta:
        model = Fusion
        fields = ["gene_5", "gene_3", "breakpoint_5", "breakpoint_3", "in_frame"]


class CopyNumberForm(forms.ModelForm):
    class Meta:
        model = CopyNumberChange
        fields = ["gene", "change", "copy_number"]


class VcfForm(forms.Form):
    vcf_file = forms.FileField(label=_("VCF file"))


class ImagingStudyForm(ReasonMixin, forms.ModelForm):
    dicomweb_url = forms.URLField(label=_("DICOMweb link"), required=False, assume_scheme="https")

    class Meta:
        model = ImagingStudy
        fields = [f for f in STUDY_FIELDS if f != "contrast_phases"]
        widgets = _dates(ImagingStudy, STUDY_FIELDS)


class DicomForm(forms.Form):
    dicom_file = forms.FileField(label=_("DICOM file (one image of the study)"))
    dicomweb_url = forms.URLField(label=_("DICOMweb link"), required=False, assume_scheme="https")


class ObservationForm(forms.ModelForm):
    class Meta:
        model = LiradsObservation
        fields = list(OBSERVATION_FIELDS)


class TreatmentForm(ReasonMixin, forms.ModelForm):
    drugs = forms.CharField(label=_("drugs"), required=False, help_text=_("Separated by commas."))

    class Meta:
        model = Treatment
        fields = [f for f in TREATMENT_FIELDS if f != "tumour"]
        widgets = _dates(Treatment, TREATMENT_FIELDS)

    def clean_drugs(self) -> list[str]:
        return [d.strip() for d in (self.cleaned_data.get("drugs") or "").split(",") if d.strip()]


class FollowUpForm(ReasonMixin, forms.ModelForm):
    class Meta:
        model = FollowUp
        fields = list(FOLLOWUP_FIELDS)
        widgets = _dates(FollowUp, FOLLOWUP_FIELDS)


def edit_form_class(form_class: type) -> type:
    """The entry form of a domain with a required reason for change (a correction)."""

    bases = (form_class,) if issubclass(form_class, ReasonMixin) else (ReasonMixin, form_class)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        form_class.__init__(self, *args, **kwargs)
        # required, but checked by the service so it is reported with every other problem
        self.fields["reason"].help_text = _("Required; kept in the audit trail.")
        instance = getattr(self, "instance", None)
        for name in ("genes_covered", "drugs"):  # lists shown as comma-separated text
            if name in self.fields and instance is not None and not self.is_bound:
                self.initial[name] = ", ".join(getattr(instance, name) or [])

    return type(f"Edit{form_class.__name__}", bases, {"__init__": __init__})


class StagingEditForm(ReasonMixin, StagingForm):
    """Correct a stage: the system stays, the engine runs again on the inputs shown."""

    def __init__(self, *args: Any, record: StagingRecord, **kwargs: Any) -> None:
        inputs = dict(record.inputs or {})
        if record.system == StagingRecord.System.ECOG:
            inputs["ecog"] = inputs.pop("grade", None)
        initial = {
            "system": record.system,
            "staged_on": record.staged_on,
            "override_value": record.override_value,
            "override_reason": record.override_reason,
            **{k: v for k, v in inputs.items() if k in self.base_fields},
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["system"].disabled = True
        self.fields["reason"].help_text = _("Required; kept in the audit trail.")
        for name in list(self.fields):
            engine = self.ENGINE_INPUTS.get(record.system, ())
            if record.system == "ECOG":
                engine = ("ecog", "karnofsky")
            if name in self.ENGINE_FIELDS and name not in engine:
                del self.fields[name]

    ENGINE_FIELDS = (
        "child_pugh_class",
        "ecog",
        "karnofsky",
        "bilirubin_umol_l",
        "albumin_g_l",
        "inr",
        "ascites",
        "encephalopathy",
    )


class ImportForm(forms.Form):
    domain = forms.ChoiceField(label=_("domain"))
    source_system = forms.CharField(label=_("source system"), max_length=50)
    file = forms.FileField(label=_("CSV file"))

    def __init__(self, *args: Any, domains: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["domain"].choices = domains
