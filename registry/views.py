"""Registry pages: the center's patient list, the patient page (every domain, checks,
outcomes), one entry form per domain, CSV imports, and network aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sites.mixins import get_visible_or_404
from sites.models import Site
from sites.roles import Perm
from sites.scoping import has_perm

from . import forms, selectors, services
from .importing import (
    DOMAINS,
    domain_choices,
    import_job_create,
    import_job_run_async,
    template_csv,
)
from .models import (
    CopyNumberChange,
    FollowUp,
    Fusion,
    GenomicTest,
    ImagingStudy,
    ImportJob,
    LiradsObservation,
    PathologyReport,
    RegistryPatient,
    StagingRecord,
    Treatment,
    Tumour,
    Variant,
)


def _require(user: Any, perm: Perm, site: Any = None) -> None:
    if not has_perm(user, perm, site=site):
        raise PermissionDenied


def patient_list(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.VIEW_REGISTRY)
    qs = selectors.registry_patients_for(request.user)
    q = (request.GET.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(record_number__iexact=q) | Q(national_pseudonym__iexact=q))
    page = Paginator(qs.order_by("record_number"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/list.html",
        {
            "page": page,
            "q": q,
            "may_edit": has_perm(request.user, Perm.EDIT_REGISTRY),
            "may_import": has_perm(request.user, Perm.IMPORT_REGISTRY),
        },
    )


def _centers_for(user: Any, perm: Perm) -> list[Site]:
    return [s for s in Site.objects.visible_to(user) if has_perm(user, perm, site=s)]


def patient_new(request: HttpRequest) -> HttpResponse:
    centers = _centers_for(request.user, Perm.EDIT_REGISTRY)
    if not centers:
        raise PermissionDenied
    form = forms.RegistryPatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "reason"}
        try:
            patient = services.registry_patient_register(
                site=centers[0], acting_user=request.user, **data
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            linked = selectors.other_centers_count(patient)
            if linked:
                messages.info(
                    request,
                    _(
                        "This person also has a record at %(n)s other center(s) (linked by the national pseudonym)."
                    )
                    % {"n": linked},
                )
            return redirect("registry:detail", patient.pk)
    return render(
        request, "registry/form.html", {"form": form, "title": _("Register a registry patient")}
    )


def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_visible_or_404(RegistryPatient, request.user, pk=pk)
    _require(request.user, Perm.EDIT_REGISTRY, patient.site)
    form = forms.RegistryPatientForm(request.POST or None, instance=patient)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "reason"}
        try:
            services.registry_patient_update(
                patient=get_visible_or_404(RegistryPatient, request.user, pk=patient.pk),
                acting_user=request.user,
                reason=form.cleaned_data.get("reason", ""),
                **data,
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            return redirect("registry:detail", patient.pk)
    return render(
        request,
        "registry/form.html",
        {"form": form, "title": _("Correct %(record)s") % {"record": patient}, "patient": patient},
    )


def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        patient = selectors.registry_patient_page(request.user, pk)
    except RegistryPatient.DoesNotExist as exc:
        raise Http404 from exc
    _require(request.user, Perm.VIEW_REGISTRY, patient.site)
    return render(
        request,
        "registry/detail.html",
        {
            "patient": patient,
            "show_identity": has_perm(request.user, Perm.VIEW_REGISTRY_IDENTITY, site=patient.site),
            "may_edit": has_perm(request.user, Perm.EDIT_REGISTRY, site=patient.site),
            "checks": selectors.patient_checks(patient),
            "outcomes": selectors.patient_outcomes(patient),
            "other_centers": selectors.other_centers_count(patient),
        },
    )


@dataclass(frozen=True)
class Domain:
    parent: type
    form: type
    title: Any
    write: Any  # (request, parent, cleaned_data) -> record
    patient_of: Any = lambda parent: parent
    files: bool = False


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "reason"}


def _staging(request: HttpRequest, tumour: Tumour, form: Any) -> Any:
    return services.staging_compute(
        tumour=tumour,
        system=form.cleaned_data["system"],
        staged_on=form.cleaned_data["staged_on"],
        inputs=form.engine_inputs(),
        override_value=form.cleaned_data.get("override_value", ""),
        override_reason=form.cleaned_data.get("override_reason", ""),
        acting_user=request.user,
    )


def _vcf(request: HttpRequest, test: GenomicTest, form: Any) -> Any:
    upload = form.cleaned_data["vcf_file"]
    variants, problems = services.vcf_attach(
        test=test, content=upload.read(), filename=upload.name, acting_user=request.user
    )
    messages.success(request, _("%(n)s variants read from the VCF.") % {"n": len(variants)})
    for problem in problems[:20]:
        messages.warning(request, problem)
    return test


def _dicom(request: HttpRequest, patient: RegistryPatient, form: Any) -> Any:
    return services.imaging_study_from_dicom(
        patient=patient,
        content=form.cleaned_data["dicom_file"].read(),
        dicomweb_url=form.cleaned_data.get("dicomweb_url") or "",
        acting_user=request.user,
    )


DOMAIN_FORMS: dict[str, Domain] = {
    "tumour": Domain(
        RegistryPatient,
        forms.TumourForm,
        gettext_lazy("Record a diagnosis"),
        lambda r, p, f: services.tumour_record(
            patient=p, acting_user=r.user, **_clean(f.cleaned_data)
        ),
    ),
    "treatment": Domain(
        RegistryPatient,
        forms.TreatmentForm,
        gettext_lazy("Record a treatment"),
        lambda r, p, f: services.treatment_record(
            patient=p, acting_user=r.user, **_clean(f.cleaned_data)
        ),
    ),
    "follow-up": Domain(
        RegistryPatient,
        forms.FollowUpForm,
        gettext_lazy("Record a follow-up"),
        lambda r, p, f: services.followup_record(
            patient=p, acting_user=r.user, **_clean(f.cleaned_data)
        ),
    ),
    "genomic-test": Domain(
        RegistryPatient,
        forms.GenomicTestForm,
        gettext_lazy("Record a molecular test"),
        lambda r, p, f: services.genomic_test_record(
            patient=p, acting_user=r.user, **_clean(f.cleaned_data)
        ),
    ),
    "imaging-study": Domain(
        RegistryPatient,
        forms.ImagingStudyForm,
        gettext_lazy("Record an imaging study"),
        lambda r, p, f: services.imaging_study_record(
            patient=p, acting_user=r.user, **_clean(f.cleaned_data)
        ),
    ),
    "dicom": Domain(
        RegistryPatient,
        forms.DicomForm,
        gettext_lazy("Read an imaging study from a DICOM file"),
        _dicom,
        files=True,
    ),
    "staging": Domain(
        Tumour, forms.StagingForm, gettext_lazy("Compute a stage"), _staging, lambda t: t.patient
    ),
    "pathology": Domain(
        Tumour,
        forms.PathologyForm,
        gettext_lazy("Record a pathology report"),
        lambda r, t, f: services.pathology_report_record(
            tumour=t, acting_user=r.user, **_clean(f.cleaned_data)
        ),
        lambda t: t.patient,
    ),
    "variant": Domain(
        GenomicTest,
        forms.VariantForm,
        gettext_lazy("Record a variant"),
        lambda r, t, f: services.variant_record(test=t, acting_user=r.user, **f.cleaned_data),
        lambda t: t.patient,
    ),
    "fusion": Domain(
        GenomicTest,
        forms.FusionForm,
        gettext_lazy("Record a fusion"),
        lambda r, t, f: services.fusion_record(test=t, acting_user=r.user, **f.cleaned_data),
        lambda t: t.patient,
    ),
    "copy-number": Domain(
        GenomicTest,
        forms.CopyNumberForm,
        gettext_lazy("Record a copy-number change"),
        lambda r, t, f: services.copy_number_record(test=t, acting_user=r.user, **f.cleaned_data),
        lambda t: t.patient,
    ),
    "vcf": Domain(
        GenomicTest, forms.VcfForm, gettext_lazy("Upload a VCF"), _vcf, lambda t: t.patient, True
    ),
    "observation": Domain(
        ImagingStudy,
        forms.ObservationForm,
        gettext_lazy("Record a LI-RADS observation"),
        lambda r, s, f: services.lirads_observation_record(
            study=s, acting_user=r.user, **f.cleaned_data
        ),
        lambda s: s.patient,
    ),
}


PARENT_KINDS = {
    "patient": RegistryPatient,
    "tumour": Tumour,
    "test": GenomicTest,
    "study": ImagingStudy,
}


def domain_add(request: HttpRequest, pk: int, domain: str, kind: str) -> HttpResponse:
    spec = DOMAIN_FORMS.get(domain)
    if spec is None or spec.parent is not PARENT_KINDS[kind]:
        raise Http404
    parent = get_visible_or_404(spec.parent, request.user, pk=pk)
    patient = spec.patient_of(parent)
    _require(request.user, Perm.EDIT_REGISTRY, patient.site)
    form = spec.form(request.POST or None, request.FILES or None)
    if "tumour" in getattr(form, "fields", {}):
        form.fields["tumour"].queryset = patient.tumours.all()
    if request.method == "POST" and form.is_valid():
        try:
            spec.write(request, parent, form)
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            return redirect("registry:detail", patient.pk)
    return render(
        request,
        "registry/form.html",
        {"form": form, "title": spec.title, "patient": patient, "multipart": spec.files},
    )


@dataclass(frozen=True)
class Editable:
    """A saved record type that a page corrects: its entry form, its title, its patient."""

    form: type
    title: Any
    patient_of: Any
    related: tuple[str, ...] = ()


#: URL segment -> what corrects a saved record of that type (services.registry_record_update).
EDITABLE_RECORDS: dict[str, tuple[type, Editable]] = {
    "tumours": (
        Tumour,
        Editable(forms.TumourForm, gettext_lazy("Correct a diagnosis"), lambda o: o.patient),
    ),
    "stagings": (
        StagingRecord,
        Editable(
            forms.StagingEditForm,
            gettext_lazy("Correct a stage"),
            lambda o: o.tumour.patient,
            ("tumour__patient__site",),
        ),
    ),
    "pathology-reports": (
        PathologyReport,
        Editable(
            forms.PathologyForm,
            gettext_lazy("Correct a pathology report"),
            lambda o: o.tumour.patient,
            ("tumour__patient__site",),
        ),
    ),
    "genomic-tests": (
        GenomicTest,
        Editable(
            forms.GenomicTestForm, gettext_lazy("Correct a molecular test"), lambda o: o.patient
        ),
    ),
    "variants": (
        Variant,
        Editable(
            forms.VariantForm,
            gettext_lazy("Correct a variant"),
            lambda o: o.test.patient,
            ("test__patient__site",),
        ),
    ),
    "fusions": (
        Fusion,
        Editable(
            forms.FusionForm,
            gettext_lazy("Correct a fusion"),
            lambda o: o.test.patient,
            ("test__patient__site",),
        ),
    ),
    "copy-numbers": (
        CopyNumberChange,
        Editable(
            forms.CopyNumberForm,
            gettext_lazy("Correct a copy-number change"),
            lambda o: o.test.patient,
            ("test__patient__site",),
        ),
    ),
    "imaging-studies": (
        ImagingStudy,
        Editable(
            forms.ImagingStudyForm, gettext_lazy("Correct an imaging study"), lambda o: o.patient
        ),
    ),
    "lirads-observations": (
        LiradsObservation,
        Editable(
            forms.ObservationForm,
            gettext_lazy("Correct a LI-RADS observation"),
            lambda o: o.study.patient,
            ("study__patient__site",),
        ),
    ),
    "treatments": (
        Treatment,
        Editable(forms.TreatmentForm, gettext_lazy("Correct a treatment"), lambda o: o.patient),
    ),
    "follow-ups": (
        FollowUp,
        Editable(forms.FollowUpForm, gettext_lazy("Correct a follow-up"), lambda o: o.patient),
    ),
}


def record_edit(request: HttpRequest, pk: int, segment: str) -> HttpResponse:
    """Correct a saved record of any domain: its entry form, filled, with a required reason
    for change; the service validates (errors on their fields) and keeps the history."""
    model, spec = EDITABLE_RECORDS[segment]
    related = spec.related or ("patient__site",)
    record = model.objects.visible_to(request.user).select_related(*related).filter(pk=pk).first()
    if record is None:
        raise Http404
    patient = spec.patient_of(record)
    _require(request.user, Perm.EDIT_REGISTRY, patient.site)
    data = request.POST if request.method == "POST" else None
    if model is StagingRecord:
        form = spec.form(data, record=record)
    else:
        # the form works on its own copy (a ModelForm writes its fields onto its instance)
        form = forms.edit_form_class(spec.form)(data, instance=model.objects.get(pk=record.pk))
    if "tumour" in form.fields:
        form.fields["tumour"].queryset = patient.tumours.all()
    if request.method == "POST" and form.is_valid():
        values = _clean(form.cleaned_data)
        if model is StagingRecord:
            values = {
                "staged_on": values["staged_on"],
                "inputs": form.engine_inputs(),
                "override_value": values.get("override_value", ""),
                "override_reason": values.get("override_reason", ""),
            }
        try:
            services.registry_record_update(
                record=record,
                acting_user=request.user,
                reason=form.cleaned_data.get("reason", ""),
                **values,
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            messages.success(request, _("Correction saved."))
            return redirect("registry:detail", patient.pk)
    return render(
        request,
        "registry/form.html",
        {
            "form": form,
            "title": spec.title,
            "patient": patient,
            "history_label": model._meta.label_lower,
            "record": record,
        },
    )


def import_list(request: HttpRequest) -> HttpResponse:
    centers = _centers_for(request.user, Perm.IMPORT_REGISTRY)
    if not centers:
        raise PermissionDenied
    form = forms.ImportForm(
        request.POST or None,
        request.FILES or None,
        domains=domain_choices(),
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(
                site=centers[0],
                domain=form.cleaned_data["domain"],
                source_system=form.cleaned_data["source_system"],
                content=form.cleaned_data["file"].read(),
                filename=form.cleaned_data["file"].name,
                acting_user=request.user,
            )
        except ValidationError as exc:
            forms.apply_errors(form, exc)
        else:
            import_job_run_async(job, dry_run=True)
            return redirect("registry:import_detail", job.pk)
    jobs = ImportJob.objects.visible_to(request.user).select_related("site")[:50]
    return render(
        request,
        "registry/imports.html",
        {"form": form, "jobs": jobs, "domains": DOMAINS},
    )


def import_template(request: HttpRequest, domain: str) -> HttpResponse:
    """The CSV template of a domain: header row + one example row (UTF-8 with BOM so
    spreadsheet programs read the Chinese text)."""
    if not _centers_for(request.user, Perm.IMPORT_REGISTRY):
        raise PermissionDenied
    if domain not in DOMAINS:
        raise Http404
    response = HttpResponse("\ufeff" + template_csv(domain), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="registry-{domain}-template.csv"'
    return response


def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_visible_or_404(ImportJob, request.user, pk=pk)
    _require(request.user, Perm.IMPORT_REGISTRY, job.site)
    if request.method == "POST":
        if job.status != ImportJob.Status.CHECKED or job.problems:
            messages.error(request, _("Only a checked file without problems can be imported."))
        else:
            import_job_run_async(job, dry_run=False)
            messages.success(request, _("Import started."))
        return redirect("registry:import_detail", job.pk)
    template = "registry/_import_status.html" if request.htmx else "registry/import_detail.html"
    return render(request, template, {"job": job})


def aggregates(request: HttpRequest) -> HttpResponse:
    _require(request.user, Perm.VIEW_REGISTRY_AGGREGATES)
    return render(request, "registry/aggregates.html", {"data": selectors.network_aggregates()})
