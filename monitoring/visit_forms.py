"""Monitoring's part of a visit's forms (the clinical app never imports monitoring).

* :func:`refine_form_states` is appended to ``clinical.selectors.STATE_HOOKS``: an
  entered form becomes *verified* when every record of it at the visit is verified
  against the source, and *signed* when every record is covered by a valid signature
  (its own record signature, or the patient's casebook signature).
* :func:`visit_forms_extra` gives edit checks on visits ``missing_forms_past_window``:
  the number of required forms still missing once the visit's window has closed (absent
  before, so a check waits), and :func:`rerun_visit_checks` re-runs the visit's checks
  whenever a record of one of its forms is saved or deleted, so the automatic query
  closes itself when the form is entered.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType

from .models import Signature, SourceVerification

#: The extra name an edit check on visits uses for required forms missing after the window.
MISSING_FORMS_FIELD = "missing_forms_past_window"


def _records_of(visit: Any, form: str) -> tuple[Any, list[int]]:
    from clinical.selectors import FORM_MODELS
    from patients.models import Visit
    from trials.models import VisitForm

    if form == VisitForm.AE_REVIEW:
        return Visit, [visit.pk]
    model = FORM_MODELS[form]
    return model, list(model._base_manager.filter(visit=visit).values_list("pk", flat=True))


def refine_form_states(visit: Any, statuses: list[Any]) -> None:
    """Entered → verified → signed, from SDV and signatures (a STATE_HOOKS hook)."""
    from clinical.selectors import FormState

    entered = [s for s in statuses if s.state == FormState.ENTERED]
    if not entered:
        return
    casebook_signed = Signature.objects.filter(
        patient_id=visit.patient_id,
        level=Signature.Level.CASEBOOK,
        status=Signature.Status.VALID,
    ).exists()
    for status in entered:
        model, ids = _records_of(visit, status.form)
        if not ids:
            continue
        content_type = ContentType.objects.get_for_model(model)
        verified = SourceVerification.objects.filter(
            content_type=content_type,
            object_id__in=ids,
            status=SourceVerification.Status.VERIFIED,
        ).count() == len(ids)
        signed = casebook_signed or (
            Signature.objects.filter(
                content_type=content_type,
                object_id__in=ids,
                level=Signature.Level.RECORD,
                status=Signature.Status.VALID,
            )
            .values("object_id")
            .distinct()
            .count()
            == len(ids)
        )
        status.extra["verified"] = verified
        status.extra["signed"] = signed
        if signed:
            status.state = FormState.SIGNED
        elif verified:
            status.state = FormState.VERIFIED


def window_closed(visit: Any, today: datetime.date | None = None) -> bool:
    from patients.services.visits import patient_local_today

    end = visit.window_end or visit.scheduled_date
    if end is None:
        return False
    return end < (today or patient_local_today(visit.patient))


def visit_forms_extra(visit: Any) -> dict[str, Any]:
    """``missing_forms_past_window`` (and their names) for a submitted visit whose window
    has closed; nothing before, so a check on it is "data missing" and waits."""
    from clinical.selectors import missing_forms
    from patients.models import Visit
    from trials.models import VisitForm

    if (
        visit.definition_id is None
        or not visit.is_submitted
        or visit.status == Visit.Status.CANCELLED
        or not window_closed(visit)
    ):
        return {}
    missing = missing_forms(visit)
    return {
        MISSING_FORMS_FIELD: len(missing),
        "missing_forms": ", ".join(str(VisitForm(f).label) for f in missing),
    }


def visit_form_models() -> dict[str, Any]:
    """Model label → model of every record that fills a visit's form."""
    from clinical.models import VisitFormNote
    from clinical.selectors import FORM_MODELS

    models = {m._meta.label_lower: m for m in FORM_MODELS.values()}
    models[VisitFormNote._meta.label_lower] = VisitFormNote
    return models


def rerun_visit_checks(instance: Any) -> None:
    """A record of a visit's form was saved or deleted: re-run the visit's edit checks."""
    if instance._meta.label_lower not in visit_form_models():
        return
    visit_id = getattr(instance, "visit_id", None)
    if visit_id is None:
        return
    from patients.models import Visit

    from .services.checks import edit_checks_run_record

    visit = Visit._base_manager.filter(pk=visit_id).select_related("patient").first()
    if visit is not None:
        edit_checks_run_record(record=visit, patient_id=visit.patient_id)


def sweep_missing_forms(today: datetime.date | None = None, lookback_days: int = 14) -> dict:
    """Daily: run the visit edit checks over submitted visits whose window closed in the
    last ``lookback_days`` (a window that closes raises the automatic query)."""
    from django.db.models import Q

    from patients.models import Visit

    from .models import EditCheck
    from .services.checks import edit_checks_run_record

    content_type = ContentType.objects.get_for_model(Visit)
    trials = set(
        EditCheck.objects.filter(active=True, target=content_type).values_list(
            "trial_id", flat=True
        )
    )
    tally: dict[str, int] = {}
    if not trials:
        return tally
    today = today or datetime.date.today()
    since = today - datetime.timedelta(days=lookback_days + 1)
    visits = (
        Visit._base_manager.filter(
            patient__trial_site__trial_id__in=trials,
            submitted_at__isnull=False,
            definition__isnull=False,
        )
        .exclude(status=Visit.Status.CANCELLED)
        .filter(
            Q(window_end__gte=since, window_end__lte=today)
            | Q(window_end__isnull=True, scheduled_date__gte=since, scheduled_date__lte=today)
        )
        .select_related("patient__trial_site__site", "definition")
        .order_by("pk")
    )
    for visit in visits:
        for key, n in edit_checks_run_record(record=visit, patient_id=visit.patient_id).items():
            tally[key] = tally.get(key, 0) + n
    return tally
