"""Visit schedule and follow-up visits.

Generating the schedule, rescheduling inside the window, unscheduled visits, submitting
a visit (with protocol deviations when it took place outside its window), marking a
visit missed and cancelling the remaining visits when a patient leaves the study.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.bulk import bulk_create_audited
from audit.context import audit_context
from audit.history import set_change_reason
from audit.transitions import check_transition
from audit.users import ActingUser
from domain.schedule import VisitSpec, plan_visits
from notifications.clinical import visit_submitted_notify
from sites.roles import Perm
from sites.scoping import has_perm
from trials.models import VisitDefinition

from ..models import Enrollment, Patient, Visit
from .common import require_reason

# Fields a coordinator enters when submitting (or correcting) a visit.
SUBMIT_FIELDS = (
    "actual_date",
    "vital_status",
    "ecog",
    "ae_review_done",
    "notes",
    "deviation_reason",
)


def patient_local_today(patient: Patient) -> datetime.date:
    """Today at the patient's site: "not in the future" is judged on the site's calendar."""
    return patient.trial_site.site.today()


def patient_registered_on(patient: Patient) -> datetime.date:
    """The registration date on the site's calendar."""
    return patient.trial_site.site.local_date(patient.registered_at)


def patient_enrollment(patient: Patient) -> Enrollment | None:
    try:
        return patient.enrollment
    except Enrollment.DoesNotExist:
        return None


def check_collecting(patient: Patient, on_date: datetime.date, field: str) -> None:
    """Refuse data dated after the patient withdrew consent.

    Consent withdrawal ends data collection from its date; the rule is owned by the
    consent workflow (imported here lazily: that module is loaded after this one).
    """
    from .consent import patient_is_collecting

    if not patient_is_collecting(patient, on_date):
        raise ValidationError(
            {
                field: _(
                    "No data can be recorded for %(date)s: the patient withdrew consent "
                    "(or left the study before consenting)."
                )
                % {"date": _fmt(on_date)}
            }
        )


def _fmt(value: datetime.date | None) -> str:
    return value.isoformat() if value else "—"


def _weekday(value: datetime.date) -> str:
    return date_format(value, "l")


def _require_data_entry(user: Any, patient: Patient) -> None:
    if not has_perm(user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site):
        raise PermissionDenied(_("You may not enter clinical data at this site."))


def _lock_visit(visit: Visit) -> Visit:
    return (
        Visit.objects.select_for_update(of=("self",))
        .select_related("patient__trial_site__site", "definition")
        .get(pk=visit.pk)
    )


def _set_visit_status(visit: Visit, target: str) -> None:
    check_transition(
        choices=Visit.Status, table=Visit.TRANSITIONS, current=visit.status, target=target
    )
    visit.status = target


def visit_schedule_generate(*, enrollment: Enrollment, acting_user: ActingUser) -> list[Visit]:
    """Create the protocol visits of an enrolled patient, each on a clinic day of the site
    inside its window. Visits anchored on first treatment are created once that date is
    known; calling again adds only the visits that do not exist yet (idempotent)."""
    patient = enrollment.patient
    site = patient.trial_site.site
    existing = set(
        patient.visits.filter(definition__isnull=False).values_list("definition_id", flat=True)
    )
    anchors: dict[str, datetime.date | None] = {
        VisitDefinition.Anchor.ENROLLMENT: enrollment.enrolled_on,
        VisitDefinition.Anchor.FIRST_TREATMENT: enrollment.first_treatment_date,
    }
    created: list[Visit] = []
    definitions = [d for d in enrollment.trial.visit_definitions.all() if d.pk not in existing]
    with (
        transaction.atomic(),
        audit_context(user=acting_user, reason=_("Visit schedule generated")),
    ):
        for definition in definitions:
            anchor = anchors[definition.anchor]
            if anchor is None:
                continue
            (plan,) = plan_visits(
                anchor,
                [
                    VisitSpec(
                        definition.code,
                        definition.day_offset,
                        definition.window_before,
                        definition.window_after,
                    )
                ],
                site.clinic_weekdays or [],
            )
            created.append(
                Visit(
                    patient=patient,
                    definition=definition,
                    target_date=plan.target,
                    window_start=plan.window_start,
                    window_end=plan.window_end,
                    scheduled_date=plan.scheduled,
                )
            )
        # one INSERT for the visits and one for their history rows, not two per visit
        bulk_create_audited(created, acting_user=acting_user)
    return created


@dataclass(frozen=True)
class RescheduleResult:
    """The rescheduled visit and, when the new date is not a clinic day, a warning to
    show: such a date is allowed (the clinic may see the patient specially)."""

    visit: Visit
    warning: str = ""


def visit_reschedule(
    *, visit: Visit, acting_user: ActingUser, new_date: datetime.date, reason: str | None
) -> RescheduleResult:
    """Move a planned visit to another day inside its window, with a reason."""
    _require_data_entry(acting_user, visit.patient)
    reason = require_reason(reason)
    with transaction.atomic():
        current = _lock_visit(visit)
        patient = current.patient
        if current.status != Visit.Status.PLANNED:
            raise ValidationError(
                {
                    "status": _("Only a planned visit can be rescheduled; this one is %(status)s.")
                    % {"status": current.get_status_display().lower()}
                }
            )
        if new_date is None:
            raise ValidationError({"new_date": _("Enter the new date.")})
        if current.window_start and current.window_end:
            if not current.window_start <= new_date <= current.window_end:
                raise ValidationError(
                    {
                        "new_date": _(
                            "The new date must be inside the visit window, %(start)s to %(end)s."
                        )
                        % {"start": _fmt(current.window_start), "end": _fmt(current.window_end)}
                    }
                )
        else:
            enrollment = patient_enrollment(patient)
            if enrollment and new_date < enrollment.enrolled_on:
                raise ValidationError(
                    {
                        "new_date": _("The new date cannot be before enrollment (%(date)s).")
                        % {"date": _fmt(enrollment.enrolled_on)}
                    }
                )
        if new_date < patient_local_today(patient):
            raise ValidationError(
                {
                    "new_date": _(
                        "The new date has already passed; if the visit took place, submit it "
                        "with its actual date."
                    )
                }
            )
        current.scheduled_date = new_date
        set_change_reason(current, reason)
        with audit_context(user=acting_user, reason=reason):
            current.save()
    warning = ""
    clinic_days = patient.trial_site.site.clinic_weekdays or []
    if clinic_days and new_date.weekday() not in clinic_days:
        warning = _(
            "%(date)s is a %(weekday)s, not a clinic day at this site (%(days)s): "
            "make sure the clinic can see the patient."
        ) % {
            "date": _fmt(new_date),
            "weekday": _weekday(new_date),
            "days": ", ".join(patient.trial_site.site.clinic_day_names()),
        }
    return RescheduleResult(visit=current, warning=warning)


def visit_add_unscheduled(
    *, patient: Patient, acting_user: ActingUser, scheduled_date: datetime.date, reason: str | None
) -> Visit:
    """Add a visit outside the protocol schedule (symptoms, a toxicity check...)."""
    _require_data_entry(acting_user, patient)
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [_("Say why this unscheduled visit is needed.")]
    elif len(reason) > 300:
        errors["reason"] = [_("Keep the reason under 300 characters.")]
    if patient.status != Patient.Status.ON_STUDY:
        errors["patient"] = [
            _("Unscheduled visits can only be added for a patient on study (now: %(status)s).")
            % {"status": patient.get_status_display()}
        ]
    enrollment = patient_enrollment(patient)
    if enrollment is None:
        errors.setdefault("patient", []).append(_("The patient is not enrolled."))
    if scheduled_date is None:
        errors["scheduled_date"] = [_("Enter the date of the visit.")]
    elif enrollment is not None and scheduled_date < enrollment.enrolled_on:
        errors["scheduled_date"] = [
            _("The visit cannot be before enrollment (%(date)s).")
            % {"date": _fmt(enrollment.enrolled_on)}
        ]
    if errors:
        raise ValidationError(errors)
    check_collecting(patient, scheduled_date, "scheduled_date")
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        visit = Visit(
            patient=patient,
            definition=None,
            unscheduled_reason=reason,
            scheduled_date=scheduled_date,
        )
        visit.save()
    return visit


def _validate_submission(
    visit: Visit, data: dict[str, Any], *, today: datetime.date, enrollment: Enrollment | None
) -> dict[str, list[str]]:
    patient = visit.patient
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if enrollment is None:
        add("patient", _("The patient is not enrolled."))
    actual = data["actual_date"]
    if actual is None:
        add("actual_date", _("Enter the date the visit took place."))
    else:
        if actual > today:
            add(
                "actual_date",
                _("The visit date cannot be in the future (today at this site is %(today)s).")
                % {"today": _fmt(today)},
            )
        if enrollment is not None and actual < enrollment.enrolled_on:
            add(
                "actual_date",
                _("The visit date cannot be before enrollment (%(date)s).")
                % {"date": _fmt(enrollment.enrolled_on)},
            )
        if patient.death_date and actual > patient.death_date:
            add(
                "actual_date",
                _("The visit date cannot be after the patient's death (%(date)s).")
                % {"date": _fmt(patient.death_date)},
            )
    vital = data["vital_status"]
    if vital not in Visit.VitalStatus.values:
        add("vital_status", _("Choose the patient's vital status."))
    elif vital == Visit.VitalStatus.DEAD:
        add(
            "vital_status",
            _(
                "A death is not recorded on a visit: use “Change status” on the patient's "
                "page to record the date of death."
            ),
        )
    ecog = data["ecog"]
    if ecog is not None and (
        isinstance(ecog, bool) or not isinstance(ecog, int) or not 0 <= ecog <= 5
    ):
        add("ecog", _("ECOG performance status is a whole number from 0 to 5."))
    elif ecog == 5:
        add(
            "ecog",
            _("ECOG 5 means dead: record the death with “Change status” on the patient's page."),
        )
    if len(data["notes"] or "") > 4000:
        add("notes", _("Keep the notes under 4000 characters."))
    reason = (data["deviation_reason"] or "").strip()
    if len(reason) > 2000:
        add("deviation_reason", _("Keep the deviation reason under 2000 characters."))
    if (
        actual is not None
        and visit.window_start
        and visit.window_end
        and not visit.window_start <= actual <= visit.window_end
        and not reason
    ):
        add(
            "deviation_reason",
            _(
                "The visit date is outside the window (%(start)s to %(end)s): this is a "
                "protocol deviation, give its reason."
            )
            % {"start": _fmt(visit.window_start), "end": _fmt(visit.window_end)},
        )
    return errors


def visit_submit(
    *,
    visit: Visit,
    acting_user: ActingUser,
    actual_date: datetime.date,
    vital_status: str,
    ecog: int | None,
    ae_review_done: bool,
    notes: str,
    deviation_reason: str = "",
    reason: str | None = None,
) -> Visit:
    """Record what happened at a visit. A visit outside its window is accepted as a
    protocol deviation with its reason; correcting a submitted visit needs a reason for
    change. A patient seen alive moves their last-known-alive date forward."""
    from .status import patient_update_last_known_alive

    _require_data_entry(acting_user, visit.patient)
    data: dict[str, Any] = {
        "actual_date": actual_date,
        "vital_status": vital_status,
        "ecog": ecog,
        "ae_review_done": bool(ae_review_done),
        "notes": (notes or "").strip(),
        "deviation_reason": (deviation_reason or "").strip(),
    }
    with transaction.atomic():
        current = _lock_visit(visit)
        patient = current.patient
        editing = current.is_submitted
        if editing:
            reason = require_reason(reason)
        else:
            reason = None
            if current.status not in (Visit.Status.PLANNED, Visit.Status.MISSED):
                raise ValidationError(
                    {
                        "status": _("A %(status)s visit cannot be submitted.")
                        % {"status": current.get_status_display().lower()}
                    }
                )
        errors = _validate_submission(
            current,
            data,
            today=patient_local_today(patient),
            enrollment=patient_enrollment(patient),
        )
        if errors:
            raise ValidationError(errors)
        if not editing or data["actual_date"] != current.actual_date:
            # Correcting what was collected stays possible; a new date must be collectable.
            check_collecting(patient, data["actual_date"], "actual_date")
        outside = bool(
            current.window_start
            and current.window_end
            and not current.window_start <= data["actual_date"] <= current.window_end
        )
        current.actual_date = data["actual_date"]
        current.vital_status = data["vital_status"]
        current.ecog = data["ecog"]
        current.ae_review_done = data["ae_review_done"]
        current.notes = data["notes"]
        current.is_deviation = outside
        current.deviation_reason = data["deviation_reason"] if outside else ""
        if not editing:
            _set_visit_status(current, Visit.Status.COMPLETED)
            current.submitted_at = timezone.now()
            current.submitted_by = acting_user
            current.submitted_by_username = acting_user.get_username()
        else:
            set_change_reason(current, reason)
        with audit_context(user=acting_user, reason=reason or _("Visit submitted")):
            current.save()
            if not editing:
                visit_submitted_notify(current)  # outbox, same transaction
            if current.vital_status == Visit.VitalStatus.ALIVE:
                patient_update_last_known_alive(
                    patient=patient,
                    acting_user=acting_user,
                    on_date=actual_date,
                    reason=_("Seen alive at visit %(visit)s") % {"visit": current},
                )
    return current


def visit_mark_missed(*, visit: Visit, acting_user: ActingUser | None, reason: str | None) -> Visit:
    """The patient did not come: the visit is kept as missed (it may still be submitted
    later if it turns out it took place). ``acting_user=None`` is the system (the daily
    sweep, ``patients.sweeps``), recorded as such in the history."""
    if acting_user is not None:
        _require_data_entry(acting_user, visit.patient)
    reason = require_reason(reason)
    with transaction.atomic():
        current = _lock_visit(visit)
        opens = current.window_start or current.scheduled_date
        if current.status == Visit.Status.PLANNED and opens > patient_local_today(current.patient):
            raise ValidationError(
                {
                    "status": _(
                        "This visit's window has not opened yet (%(date)s); reschedule it instead."
                    )
                    % {"date": _fmt(opens)}
                }
            )
        _set_visit_status(current, Visit.Status.MISSED)
        set_change_reason(current, reason)
        with audit_context(user=acting_user, reason=reason):
            current.save()
    return current


def visits_cancel_after(
    *, patient: Patient, acting_user: ActingUser, after: datetime.date, reason: str
) -> list[Visit]:
    """Cancel the patient's planned visits scheduled after ``after`` (the patient left
    the study or died). Called inside the status services' transaction."""
    cancelled = []
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        for visit in Visit.objects.select_for_update().filter(
            patient=patient, status=Visit.Status.PLANNED, scheduled_date__gt=after
        ):
            _set_visit_status(visit, Visit.Status.CANCELLED)
            set_change_reason(visit, reason)
            visit.save()
            cancelled.append(visit)
    return cancelled
