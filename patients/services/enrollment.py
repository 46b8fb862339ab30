"""Enrollment and allocation.

Only an eligible, consented patient, at an active trial-site of a recruiting trial and
under the site's cap, is enrolled. The arm comes from the concealed allocation sequence
(``domain.randomization``): stratified permuted blocks generated server-side from
the trial's secret seed, one position at a time, so nothing about future allocations is
ever stored or shown.

Concurrency: the trial-site row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL) for
the whole unit of work. Every stratum contains the site, so the lock serialises both the
site's cap and each of its strata; the unique constraints on (trial, randomization
number) and (trial, stratum, allocation index) are the database's own guarantee.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.history import set_change_reason
from audit.users import ActingUser
from domain.randomization import allocation_for, single_arm, stratum_key, validate_design
from domain.schedule import VisitSpec, plan_visits
from notifications.clinical import enrollment_notify
from sites.models import TrialSite
from sites.roles import Perm
from sites.scoping import has_perm
from trials.models import Arm, Trial, VisitDefinition

from ..models import Enrollment, Patient, Screening, Visit
from .common import require_reason
from .consent import (
    consent_date,
    consent_needs_reconsent,
    current_consent,
    patient_is_collecting,
    site_today,
)
from .registration import patient_set_status
from .response import response_recompute
from .visits import visit_schedule_generate

__all__ = [
    "StratumPlan",
    "enrollment_problems",
    "enrollment_set_first_treatment",
    "latest_screening",
    "patient_enroll",
]

#: Stratification factors a trial can configure besides the site.
KNOWN_FACTORS = frozenset({"ecog"})


@dataclass(frozen=True)
class StratumPlan:
    """The stratum a patient would be randomized in (no allocation: that stays concealed)."""

    key: str
    factors: dict[str, str]


def latest_screening(patient: Patient) -> Screening | None:
    return (
        Screening.objects.filter(patient=patient)
        .order_by("-screening_date", "-created_at", "-pk")
        .first()
    )


def _ecog_level(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        level = int(str(value).strip())
    except ValueError:
        return None
    return str(level) if 0 <= level <= 5 else None


def _stratum(
    *,
    trial: Trial,
    trial_site: TrialSite,
    screening: Screening | None,
    stratification: dict[str, Any] | None,
    errors: dict[str, list[str]],
) -> StratumPlan | None:
    given = dict(stratification or {})
    unknown = sorted(set(given) - KNOWN_FACTORS)
    if unknown:
        errors.setdefault("stratification", []).append(
            _("Unknown stratification factor(s): %(names)s.") % {"names": ", ".join(unknown)}
        )
        return None
    factors = {"site": trial_site.site.code}
    if trial.stratify_by_ecog:
        screened = _ecog_level((screening.data or {}).get("ecog")) if screening else None
        if "ecog" in given:
            stated = _ecog_level(given["ecog"])
            if stated is None:
                errors.setdefault("ecog", []).append(_("ECOG must be a whole number 0 to 5."))
                return None
            if screened is not None and stated != screened:
                errors.setdefault("ecog", []).append(
                    _(
                        "ECOG %(given)s differs from the screening (ECOG %(screened)s); "
                        "the stratum comes from the screening."
                    )
                    % {"given": stated, "screened": screened}
                )
                return None
            screened = stated
        if screened is None:
            errors.setdefault("ecog", []).append(
                _("The trial stratifies by ECOG: record ECOG in the screening first.")
            )
            return None
        factors["ecog"] = screened
    elif "ecog" in given:
        errors.setdefault("stratification", []).append(_("This trial does not stratify by ECOG."))
        return None
    return StratumPlan(key=stratum_key(factors), factors=factors)


@dataclass
class _Facts:
    """What the checks read, for the enrollment that follows them in the same unit of
    work (so it does not read it again): the trial's arms in code order and, when the
    cap was checked, how many patients the site has enrolled."""

    arms: list[Arm]
    site_enrolled: int | None = None


def enrollment_problems(
    *,
    patient: Patient,
    trial_site: TrialSite | None = None,
    enrolled_on: datetime.date | None = None,
    first_treatment_date: datetime.date | None = None,
    stratification: dict[str, Any] | None = None,
    check_cap: bool = True,
) -> tuple[dict[str, list[str]], StratumPlan | None]:
    """Everything that stands in the way of enrolling ``patient``, field by field, and
    the stratum they would be randomized in. Reads only; pages call it to explain why
    the Enroll button would be refused before the user fills anything in."""
    errors, plan, _facts = _enrollment_problems(
        patient=patient,
        trial_site=trial_site,
        enrolled_on=enrolled_on,
        first_treatment_date=first_treatment_date,
        stratification=stratification,
        check_cap=check_cap,
    )
    return errors, plan


def _enrollment_problems(
    *,
    patient: Patient,
    trial_site: TrialSite | None,
    enrolled_on: datetime.date | None,
    first_treatment_date: datetime.date | None,
    stratification: dict[str, Any] | None,
    check_cap: bool,
) -> tuple[dict[str, list[str]], StratumPlan | None, _Facts | None]:
    trial_site = trial_site or patient.trial_site
    trial = trial_site.trial
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if Enrollment.objects.filter(patient=patient).exists():
        add("patient", _("This patient is already enrolled."))
        return errors, None, None
    if trial.status != Trial.Status.RECRUITING:
        add(
            "trial",
            _("The trial is “%(status)s”, not recruiting: no patient can be enrolled.")
            % {"status": trial.get_status_display()},
        )
    if trial_site.status != TrialSite.Status.ACTIVE:
        add(
            "trial_site",
            _("This site's participation is “%(status)s”, not active: enrollment is closed here.")
            % {"status": trial_site.get_status_display()},
        )
    screening = latest_screening(patient)
    status = patient.status
    if status == Patient.Status.WITHDRAWN:
        add("patient", _("The patient has withdrawn from the study and cannot be enrolled."))
    elif screening is None or screening.result != Screening.Result.ELIGIBLE:
        add(
            "patient",
            _("The patient is not eligible: the latest screening did not find them eligible.")
            if screening is not None
            else _("The patient is not eligible: there is no screening."),
        )
    elif status in (Patient.Status.SCREENING, Patient.Status.SCREEN_FAILED):
        add("patient", _("The patient is not eligible: screening is not complete."))
    elif status == Patient.Status.ELIGIBLE:
        add("patient", _("The patient has not given informed consent: record the consent first."))
    elif status != Patient.Status.CONSENTED:
        add(
            "patient",
            _("A patient who is “%(status)s” cannot be enrolled.")
            % {"status": patient.get_status_display()},
        )
    consent = current_consent(patient)
    if status == Patient.Status.CONSENTED:
        if consent is None:
            add("patient", _("The patient has no active consent."))
        else:
            pending = consent_needs_reconsent(patient, consent=consent)
            if pending is not None:
                add(
                    "patient",
                    _(
                        "Consent version %(v)s is in effect: the patient must re-consent "
                        "before enrollment."
                    )
                    % {"v": pending.version},
                )

    facts = _Facts(arms=list(trial.arms.all()))  # ordered by code (Arm.Meta)
    if trial.design == Trial.Design.SINGLE_ARM:
        if len(facts.arms) != 1:
            add(
                "trial",
                _("A single-arm trial needs exactly one arm; this trial has %(n)d.")
                % {"n": len(facts.arms)},
            )
    else:
        try:
            sizes = trial.block_sizes()
        except ValueError:
            sizes = []
        try:
            validate_design([(a.code, a.allocation_ratio) for a in facts.arms], sizes)
        except ValueError as exc:
            add(
                "trial",
                _("The trial's randomization is not configured correctly (%(problem)s).")
                % {"problem": str(exc)},
            )

    if enrolled_on is not None:
        today = site_today(patient)
        if enrolled_on > today:
            add("enrolled_on", _("The enrollment date cannot be in the future."))
        if consent is not None and enrolled_on < consent_date(consent):
            add(
                "enrolled_on",
                _("The enrollment date cannot precede the consent (%(date)s).")
                % {"date": consent_date(consent).isoformat()},
            )
        if screening is not None and enrolled_on < screening.screening_date:
            add(
                "enrolled_on",
                _("The enrollment date cannot precede the screening (%(date)s).")
                % {"date": screening.screening_date.isoformat()},
            )
        if first_treatment_date is not None:
            if first_treatment_date < enrolled_on:
                add(
                    "first_treatment_date",
                    _("The first treatment cannot precede enrollment."),
                )
            if first_treatment_date > today:
                add(
                    "first_treatment_date",
                    _("The first treatment date cannot be in the future."),
                )

    if check_cap and trial_site.enrollment_cap is not None:
        enrolled = facts.site_enrolled = _site_enrolled(trial_site)
        if enrolled >= trial_site.enrollment_cap:
            add("trial_site", _cap_message(enrolled, trial_site.enrollment_cap))

    plan = _stratum(
        trial=trial,
        trial_site=trial_site,
        screening=screening if screening and screening.result == "eligible" else None,
        stratification=stratification,
        errors=errors,
    )
    return errors, plan, facts


def _site_enrolled(trial_site: TrialSite) -> int:
    return Enrollment.objects.filter(patient__trial_site=trial_site).count()


def _cap_message(enrolled: int, cap: int) -> str:
    return _(
        "This site has reached its enrollment cap (%(enrolled)d of %(cap)d): no more "
        "patients can be enrolled here."
    ) % {"enrolled": enrolled, "cap": cap}


def _next_randomization_number(trial: Trial, trial_site: TrialSite, site_enrolled: int) -> str:
    n = site_enrolled + 1
    while True:
        number = f"R-{trial_site.site.code}-{n:04d}"
        if not Enrollment.objects.filter(trial=trial, randomization_number=number).exists():
            return number
        n += 1


def patient_enroll(
    *,
    patient: Patient,
    acting_user: ActingUser,
    enrolled_on: datetime.date,
    first_treatment_date: datetime.date | None = None,
    stratification: dict[str, Any] | None = None,
    reason: str | None = None,
) -> Enrollment:
    """Enroll and allocate ``patient``; create their visit schedule.

    Refusals raise ``ValidationError`` (fields ``patient``, ``trial``, ``trial_site``,
    ``enrolled_on``, ``first_treatment_date``, ``ecog``, ``stratification``) before
    anything is written. ``allocation_index`` and ``block_number`` are 0-based, as in
    ``domain.randomization``.
    """
    if not has_perm(acting_user, Perm.ENROLL, trial_site=patient.trial_site):
        raise PermissionDenied(_("You may not enroll patients at this site."))
    if enrolled_on is None:
        raise ValidationError({"enrolled_on": [_("Enter the enrollment date.")]})
    with transaction.atomic():
        trial_site = (
            TrialSite.objects.select_for_update(of=("self",))
            # the principal investigator (and their language) is told of the enrollment
            .select_related("trial", "site", "principal_investigator__staff_profile")
            .get(pk=patient.trial_site_id)
        )
        locked = Patient.objects.select_for_update(of=("self",)).get(pk=patient.pk)
        locked.trial_site = trial_site  # the row just locked, with its trial and site
        trial = trial_site.trial
        errors, plan, facts = _enrollment_problems(
            patient=locked,
            trial_site=trial_site,
            enrolled_on=enrolled_on,
            first_treatment_date=first_treatment_date,
            stratification=stratification,
            check_cap=True,
        )
        if errors or plan is None or facts is None:
            raise ValidationError(errors or {"patient": [_("The patient cannot be enrolled.")]})

        arms = facts.arms
        site_enrolled = (
            facts.site_enrolled if facts.site_enrolled is not None else _site_enrolled(trial_site)
        )
        index = Enrollment.objects.filter(trial=trial, stratum=plan.key).count()
        if trial.design == Trial.Design.SINGLE_ARM:
            allocation = single_arm(arms[0].code, index)
        else:
            allocation = allocation_for(
                trial.randomization_seed,
                plan.key,
                [(a.code, a.allocation_ratio) for a in arms],
                trial.block_sizes(),
                index,
            )
        arm = next(a for a in arms if a.code == allocation.arm_code)

        why = reason or _("Enrollment")
        with audit_context(user=acting_user, reason=why):
            enrollment = Enrollment(
                patient=locked,
                trial=trial,
                arm=arm,
                enrolled_on=enrolled_on,
                first_treatment_date=first_treatment_date,
                randomization_number=_next_randomization_number(trial, trial_site, site_enrolled),
                stratum=plan.key,
                allocation_index=index,
                block_number=allocation.block_number,
                block_size=allocation.block_size,
                enrolled_by=acting_user,
                enrolled_by_username=acting_user.get_username(),
            )
            enrollment.save()
            patient_set_status(
                patient=locked, status=Patient.Status.ON_STUDY, acting_user=acting_user, reason=why
            )
            visit_schedule_generate(enrollment=enrollment, acting_user=acting_user)
            response_recompute(patient=locked, acting_user=acting_user, enrollment=enrollment)
            enrollment_notify(enrollment)  # outbox, same transaction
    patient.status = locked.status
    return enrollment


def enrollment_set_first_treatment(
    *,
    enrollment: Enrollment,
    acting_user: ActingUser,
    first_treatment_date: datetime.date,
    reason: str | None = None,
) -> Enrollment:
    """Record (or, with a reason, correct) the first treatment date and create the
    visits counted from it. A correction moves the planned visits counted from first
    treatment; once one of them has been done the date can no longer change here."""
    patient = enrollment.patient
    if not has_perm(acting_user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site):
        raise PermissionDenied(_("You may not enter clinical data at this site."))
    if first_treatment_date is None:
        raise ValidationError({"first_treatment_date": [_("Enter the first treatment date.")]})
    with transaction.atomic():
        current = (
            Enrollment.objects.select_for_update(of=("self",))
            .select_related("patient__trial_site__site", "trial")
            .get(pk=enrollment.pk)
        )
        errors: dict[str, list[str]] = {}
        if first_treatment_date < current.enrolled_on:
            errors["first_treatment_date"] = [
                _("The first treatment cannot precede enrollment (%(date)s).")
                % {"date": current.enrolled_on.isoformat()}
            ]
        elif first_treatment_date > site_today(current.patient):
            errors["first_treatment_date"] = [
                _("The first treatment date cannot be in the future.")
            ]
        if not patient_is_collecting(current.patient, first_treatment_date):
            errors.setdefault("first_treatment_date", []).append(
                _("The patient withdrew consent before this date: no data can be entered.")
            )
        correcting = (
            current.first_treatment_date is not None
            and current.first_treatment_date != first_treatment_date
        )
        anchored = Visit.objects.filter(
            patient=current.patient,
            definition__anchor=VisitDefinition.Anchor.FIRST_TREATMENT,
        ).select_related("definition")
        if correcting:
            reason = require_reason(reason)
            if any(v.status != Visit.Status.PLANNED or v.is_submitted for v in anchored):
                errors.setdefault("first_treatment_date", []).append(
                    _(
                        "Visits counted from the first treatment have already taken place; "
                        "the date can no longer be changed here."
                    )
                )
        if errors:
            raise ValidationError(errors)
        if current.first_treatment_date == first_treatment_date:
            return current

        why = reason or _("First treatment recorded")
        with audit_context(user=acting_user, reason=why):
            current.first_treatment_date = first_treatment_date
            if correcting:
                set_change_reason(current, why)
            current.save(update_fields=["first_treatment_date"])
            if correcting:
                weekdays = current.patient.trial_site.site.clinic_weekdays or []
                for visit in anchored:
                    d = visit.definition
                    assert d is not None  # anchored visits are protocol visits (a definition)
                    (plan,) = plan_visits(
                        first_treatment_date,
                        [VisitSpec(d.code, d.day_offset, d.window_before, d.window_after)],
                        weekdays,
                    )
                    visit.target_date = plan.target
                    visit.window_start = plan.window_start
                    visit.window_end = plan.window_end
                    visit.scheduled_date = plan.scheduled
                    set_change_reason(visit, why)
                    visit.save(
                        update_fields=[
                            "target_date",
                            "window_start",
                            "window_end",
                            "scheduled_date",
                        ]
                    )
            visit_schedule_generate(enrollment=current, acting_user=acting_user)
            response_recompute(patient=current.patient, acting_user=acting_user)  # day 0 moved
    enrollment.first_treatment_date = current.first_treatment_date
    return current
