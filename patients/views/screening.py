"""Screening pages: the screening form, a screening's result, the screening log."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from domain import csv_safety
from domain.eligibility import FIELD_CATALOGUE, FieldType
from sites.mixins import get_visible_or_404, require_perm
from sites.models import TrialSite
from sites.roles import Perm
from sites.scoping import has_perm
from trials.models import Trial
from ui.form_errors import apply_errors

from .. import selectors_screening as sel
from ..forms_screening import ScreeningForm, ScreeningLogFilterForm
from ..models import Patient, Screening
from ..services.screening import SCREENABLE_STATUSES, screening_record
from ..services.visits import patient_local_today


def _posted_date(request: HttpRequest) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(request.POST.get("screening_date", "").strip())
    except ValueError:
        return None


def _latest(patient: Patient) -> Screening | None:
    return patient.screenings.order_by("-screening_date", "-created_at", "-pk").first()


def patient_screen(request: HttpRequest, pk: int) -> HttpResponse:
    patient = get_visible_or_404(Patient, request.user, pk=pk)
    require_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site)
    if patient.status not in SCREENABLE_STATUSES:
        messages.error(
            request,
            _("%(subject)s is “%(status)s”: screening is closed once a patient has consented.")
            % {"subject": patient.subject_id, "status": patient.get_status_display()},
        )
        return redirect("patients:detail", pk=patient.pk)
    today = patient_local_today(patient)
    on_date = today
    if request.method == "POST":
        posted = _posted_date(request)
        if posted is not None and posted <= today:
            on_date = posted
    version, criteria = sel.criteria_in_effect(trial=patient.trial_site.trial, on_date=on_date)
    latest = _latest(patient)
    context: dict[str, Any] = {
        "patient": patient,
        "version": version,
        "latest": latest,
        # GCP order of steps: with no consent yet this screening is a pre-screening
        "pre_screening": sel.first_consent_date(patient) is None,
    }
    if version is None:
        return render(request, "patients/screening_form.html", context)
    domain = sel.as_domain(criteria)
    # the national registry's record of this person at this center pre-fills what the
    # last screening does not say (with the source shown next to each answer)
    from registry.prefill import screening_prefill

    registry_record, prefill = screening_prefill(patient)
    previous = {p.name: p.value for p in prefill} | (latest.data if latest else {})
    form_kwargs = {"patient": patient, "criteria": domain, "previous": previous}
    if request.method == "POST":
        form = ScreeningForm(request.POST, **form_kwargs)
        if form.is_valid():
            try:
                screening = screening_record(
                    patient=patient,
                    acting_user=request.user,
                    screening_date=form.cleaned_data["screening_date"],
                    answers=form.answers(),
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Screening recorded: %(result)s.")
                    % {"result": screening.get_result_display()},
                )
                return redirect("patients:screening_detail", pk=screening.pk)
    else:
        form = ScreeningForm(**form_kwargs)
    records = sel.record_values(patient=patient, on_date=on_date)
    context.update(
        {
            "form": form,
            "groups": form.groups(),
            "record_items": form.record_items(records, on_date),
            "can_edit_patient": has_perm(
                request.user, Perm.EDIT_PATIENT, trial_site=patient.trial_site
            ),
            "criteria": criteria,
            "registry_record": registry_record,
            "registry_prefill": [
                p
                for p in prefill
                if p.name in form.fields and not (latest and p.name in latest.data)
            ],
        }
    )
    return render(request, "patients/screening_form.html", context)


def _display(name: str, value: Any) -> str:
    spec = FIELD_CATALOGUE.get(name)
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if spec is not None and spec.type is FieldType.CHOICE:
        return _(spec.choice_label(value))
    if spec is not None and spec.unit:
        return f"{value} {spec.unit}"
    return str(value)


def screening_detail(request: HttpRequest, pk: int) -> HttpResponse:
    screening = get_visible_or_404(Screening, request.user, pk=pk)
    patient = screening.patient
    results = []
    for item in screening.criteria_results or []:
        results.append(
            {
                **item,
                "display_text": sel.criterion_text(item),
                "missing_labels": [
                    _(FIELD_CATALOGUE[f].label) if f in FIELD_CATALOGUE else f
                    for f in item.get("missing_fields") or []
                ],
            }
        )
    data_rows = [
        {"name": name, "label": _(FIELD_CATALOGUE[name].label), "value": _display(name, value)}
        for name in FIELD_CATALOGUE
        if name in (screening.data or {})
        for value in [screening.data[name]]
    ]
    can_screen = (
        has_perm(request.user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site)
        and patient.status in SCREENABLE_STATUSES
    )
    consent_date = sel.first_consent_date(patient)
    return render(
        request,
        "patients/screening_detail.html",
        {
            "screening": screening,
            "patient": patient,
            "consent_date": consent_date,
            "pre_screening": sel.is_pre_screening(screening.screening_date, consent_date),
            "inclusions": [r for r in results if r.get("kind") == "inclusion"],
            "exclusions": [r for r in results if r.get("kind") == "exclusion"],
            "data_rows": data_rows,
            "can_screen": can_screen,
            "history": patient.screenings.order_by("-screening_date", "-created_at", "-pk"),
        },
    )


_CSV_COLUMNS = (
    ("registered", gettext_lazy("Registered")),
    ("screened", gettext_lazy("Screened (patients)")),
    ("screenings", gettext_lazy("Screenings")),
    ("screen_failed", gettext_lazy("Screen failed")),
    ("eligible", gettext_lazy("Eligible")),
    ("incomplete", gettext_lazy("Incomplete")),
    ("consented", gettext_lazy("Consented")),
    ("enrolled", gettext_lazy("Enrolled")),
)


def _csv(log: sel.ScreeningLog, filters: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="screening-log-{stamp}.csv"'
    response.write("\ufeff")  # so spreadsheet programs read UTF-8
    writer = csv_safety.writer(response)
    period = [
        _("from %(date)s") % {"date": filters["date_from"]} if filters.get("date_from") else "",
        _("to %(date)s") % {"date": filters["date_to"]} if filters.get("date_to") else "",
    ]
    writer.writerow([_("Screening log"), " ".join(p for p in period if p)])
    writer.writerow([_("Trial"), _("Site"), *(str(label) for _key, label in _CSV_COLUMNS)])
    for row in log.rows:
        ts = row.trial_site
        writer.writerow(
            [
                ts.trial.protocol_code,
                f"{ts.site.code} – {ts.site.display_name}",
                *(row.counts[key] for key, _label in _CSV_COLUMNS),
            ]
        )
    writer.writerow([_("Total"), "", *(log.totals[key] for key, _label in _CSV_COLUMNS)])
    writer.writerow([])
    writer.writerow(
        [
            _("Failed criterion"),
            _("Text"),
            _("Patients (latest screening)"),
            _("Failed screenings"),
        ]
    )
    for failure in log.failures:
        writer.writerow([failure.code, failure.text, failure.patients, failure.screenings])
    return response


def screening_log(request: HttpRequest) -> HttpResponse:
    trials = Trial.objects.visible_to(request.user).order_by("protocol_code")
    trial_sites = (
        TrialSite.objects.visible_to(request.user)
        .select_related("trial", "site")
        .order_by("trial__protocol_code", "site__code")
    )
    params = request.GET.copy()
    wants_csv = params.pop("format", [""])[0] == "csv"
    params.pop("page", None)
    form = ScreeningLogFilterForm(params or None, trials=trials, trial_sites=trial_sites)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    log = sel.screening_log(
        user=request.user,
        trial=filters.get("trial"),
        trial_site=filters.get("trial_site"),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    if wants_csv:
        return _csv(log, filters)
    page = Paginator(log.rows, 50).get_page(request.GET.get("page"))
    csv_query = params.copy()
    csv_query["format"] = "csv"
    return render(
        request,
        "patients/screening_log.html",
        {
            "form": form,
            "log": log,
            "page": page,
            "querystring": params.urlencode(),
            "csv_query": csv_query.urlencode(),
        },
    )
