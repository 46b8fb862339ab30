"""Adverse events: CTCAE v5.0 grade, ICH E2A seriousness, causality per intervention.

"Severe" (grade 3) is intensity; "serious" is ICH E2A (death, life-threatening,
hospitalisation, disability, congenital anomaly, other medically important event): the
two are recorded separately and only linked where the definitions force it (grade 5 is
death related to the event, so it is fatal and serious with the criterion "death").
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.history import set_change_reason
from audit.users import ActingUser
from sites.roles import Perm
from sites.scoping import has_perm
from trials.models import Intervention

from ..models import AdverseEvent, AdverseEventCausality, CtcaeTerm, Patient, Visit
from .common import require_reason
from .sae import sae_apply_deadlines, sae_notify
from .visits import check_collecting, patient_enrollment, patient_local_today, patient_registered_on

AE_FIELDS = (
    "term",
    "ctcae_term",
    "other_specify",
    "other_soc",
    "grade",
    "serious",
    "serious_criteria",
    "onset_date",
    "resolution_date",
    "outcome",
    "action_taken",
    "description",
    "visit",
)
RESOLVED_OUTCOMES = frozenset(
    {AdverseEvent.Outcome.RECOVERED, AdverseEvent.Outcome.RECOVERED_SEQUELAE}
)
UNRESOLVED_OUTCOMES = frozenset(
    {AdverseEvent.Outcome.RECOVERING, AdverseEvent.Outcome.NOT_RECOVERED}
)


def _fmt(value: datetime.date | None) -> str:
    return value.isoformat() if value else "—"


def causality_field(intervention_id: int) -> str:
    """The name under which a causality error is reported (and the form field)."""
    return f"causality_{intervention_id}"


def ae_interventions(patient: Patient) -> list[Intervention]:
    """The interventions of the patient's arm: causality is assessed for each of them."""
    enrollment = patient_enrollment(patient)
    if enrollment is None:
        return []
    return list(enrollment.arm.interventions.order_by("name", "pk"))


def _data_collection_start(patient: Patient) -> tuple[datetime.date, str]:
    """Adverse events are collected from consent (or, before it is recorded, from
    registration)."""
    first = patient.consents.order_by("consented_at").first()
    if first is not None:
        return patient.trial_site.site.local_date(first.consented_at), _("consent")
    return patient_registered_on(patient), _("registration")


def _validate(
    patient: Patient, data: dict[str, Any], causality: dict[int, str] | None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if patient_enrollment(patient) is None:
        add("patient", _("Adverse events are recorded for enrolled patients only."))
    term = data["term"]
    if data.get("ctcae_term") is not None and data.get("other_specify"):
        add(
            "other_specify",
            _("Either choose a CTCAE term or describe the event as “other, specify”, not both."),
        )
    if not term:
        add("term", _("Enter the adverse event term (CTCAE v5.0)."))
    elif len(term) > 200:
        add("term", _("Keep the term under 200 characters."))
    grade = data["grade"]
    if isinstance(grade, bool) or not isinstance(grade, int) or not 1 <= grade <= 5:
        add("grade", _("The CTCAE grade is a whole number from 1 to 5."))
        grade = None
    outcome = data["outcome"]
    if outcome not in AdverseEvent.Outcome.values:
        add("outcome", _("Choose the outcome."))
    if data["action_taken"] not in AdverseEvent.Action.values:
        add("action_taken", _("Choose the action taken."))
    criteria = data["serious_criteria"]
    unknown = [c for c in criteria if c not in AdverseEvent.SeriousCriterion.values]
    if unknown:
        add(
            "serious_criteria",
            _("Unknown seriousness criterion: %(c)s.") % {"c": ", ".join(map(str, unknown))},
        )
    if data["serious"] and not criteria:
        add(
            "serious_criteria",
            _("A serious adverse event needs at least one ICH E2A seriousness criterion."),
        )
    if not data["serious"] and criteria:
        add(
            "serious_criteria",
            _(
                "A non-serious adverse event has no seriousness criteria: tick “serious” or clear them."
            ),
        )
    is_death = AdverseEvent.SeriousCriterion.DEATH in criteria
    if grade == 5:
        if outcome != AdverseEvent.Outcome.FATAL:
            add("outcome", _("A grade 5 adverse event (death) has the outcome “fatal”."))
        if not data["serious"] or not is_death:
            add(
                "serious_criteria",
                _("A grade 5 adverse event is serious with the criterion “results in death”."),
            )
    elif grade is not None and outcome == AdverseEvent.Outcome.FATAL:
        add("grade", _("A fatal adverse event is CTCAE grade 5."))
    if is_death and outcome != AdverseEvent.Outcome.FATAL and grade != 5:
        add("outcome", _("The criterion “results in death” requires the outcome “fatal”."))

    today = patient_local_today(patient)
    onset, resolution = data["onset_date"], data["resolution_date"]
    if onset is None:
        add("onset_date", _("Enter the onset date."))
    else:
        if onset > today:
            add(
                "onset_date",
                _("The onset date cannot be in the future (today at this site is %(today)s).")
                % {"today": _fmt(today)},
            )
        start, what = _data_collection_start(patient)
        if onset < start:
            add(
                "onset_date",
                _("The onset date cannot be before %(what)s (%(date)s).")
                % {"what": what, "date": _fmt(start)},
            )
        if patient.death_date and onset > patient.death_date:
            add(
                "onset_date",
                _("The onset date cannot be after the patient's death (%(date)s).")
                % {"date": _fmt(patient.death_date)},
            )
    if resolution is not None:
        if resolution > today:
            add("resolution_date", _("The resolution date cannot be in the future."))
        if onset is not None and resolution < onset:
            add("resolution_date", _("The resolution date cannot be before the onset date."))
        if outcome in UNRESOLVED_OUTCOMES:
            add(
                "resolution_date",
                _("An event that is not resolved has no resolution date: check the outcome."),
            )
    elif outcome in RESOLVED_OUTCOMES:
        add("resolution_date", _("A recovered adverse event needs its resolution date."))
    if len(data["description"]) > 4000:
        add("description", _("Keep the description under 4000 characters."))

    visit: Visit | None = data["visit"]
    if visit is not None:
        if visit.patient_id != patient.pk:
            add("visit", _("This visit belongs to another patient."))
        elif visit.status == Visit.Status.CANCELLED:
            add("visit", _("An adverse event cannot be reported at a cancelled visit."))
        elif visit.actual_date and onset and onset > visit.actual_date:
            add(
                "onset_date",
                _("An event reported at the visit of %(date)s cannot start after it.")
                % {"date": _fmt(visit.actual_date)},
            )

    if causality is not None:
        expected = {i.pk: i for i in ae_interventions(patient)}
        given: dict[int, str] = {}
        for key, value in causality.items():
            try:
                given[int(key)] = value
            except (TypeError, ValueError):
                add("causality", _("Unknown intervention: %(key)s.") % {"key": key})
        for pk, intervention in expected.items():
            relatedness = given.get(pk)
            if not relatedness:
                add(
                    causality_field(pk),
                    _("Assess the relatedness to %(name)s.") % {"name": intervention.display_name},
                )
            elif relatedness not in AdverseEventCausality.Relatedness.values:
                add(causality_field(pk), _("Choose a relatedness."))
        extra = sorted(set(given) - set(expected))
        if extra:
            add(
                "causality",
                _("Causality can only be given for the interventions of the patient's arm."),
            )
    return errors


def _normalise(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    data["term"] = (data.get("term") or "").strip()
    data["other_specify"] = (data.get("other_specify") or "").strip()
    data["other_soc"] = (data.get("other_soc") or "").strip()
    coded = data.get("ctcae_term")
    if coded is not None and not data["other_specify"]:
        # The coded term is the term: the free-text copy keeps older readers working.
        data["term"] = coded.term
        data["other_soc"] = ""
    elif coded is None and data["other_specify"]:
        data["term"] = data["other_specify"]
    data["description"] = (data.get("description") or "").strip()
    data["serious"] = bool(data.get("serious"))
    data["serious_criteria"] = sorted(set(data.get("serious_criteria") or []))
    if data.get("visit") is not None:
        # Judge against the stored visit (its date may have been submitted meanwhile).
        data["visit"] = Visit.objects.get(pk=data["visit"].pk)
    return data


#: What ``adverse_event_errors`` assumes for a value the form could not read.
_AE_BLANK: dict[str, Any] = {
    "term": "",
    "ctcae_term": None,
    "other_specify": "",
    "other_soc": "",
    "grade": None,
    "serious": False,
    "serious_criteria": [],
    "onset_date": None,
    "resolution_date": None,
    "outcome": "",
    "action_taken": "",
    "description": "",
    "visit": None,
}


def adverse_event_errors(
    *, patient: Patient, data: dict[str, Any], causality: dict[int, str] | None = None
) -> dict[str, list[str]]:
    """The adverse-event rules on the values that could be read (the rest blank), as a
    dict; nothing is written. Forms call it when some fields already failed so that every
    problem comes back in one round (fields already in error keep their own message)."""
    full = {**_AE_BLANK, **{k: v for k, v in data.items() if k in _AE_BLANK}}
    return _validate(patient, _normalise(full), causality)


def _require(user: Any, patient: Patient) -> None:
    if not has_perm(user, Perm.ENTER_CLINICAL_DATA, trial_site=patient.trial_site):
        raise PermissionDenied(_("You may not enter clinical data at this site."))


def adverse_event_record(
    *,
    patient: Patient,
    acting_user: ActingUser,
    term: str = "",
    grade: int,
    serious: bool,
    serious_criteria: list[str],
    onset_date: datetime.date,
    resolution_date: datetime.date | None,
    outcome: str,
    action_taken: str,
    description: str = "",
    visit: Visit | None = None,
    causality: dict[int, str],
    expected: bool | None = None,
    awareness_at: datetime.datetime | None = None,
    ctcae_term: CtcaeTerm | None = None,
    other_specify: str = "",
    other_soc: str = "",
) -> AdverseEvent:
    """Record an adverse event (at a visit or any time) with its causality for each
    intervention of the patient's arm.

    The term is coded (``ctcae_term``, whose name then fills ``term``) or, when no CTCAE
    term fits, ``other_specify`` free text with its system organ class. ``term`` alone
    (uncoded free text) is still accepted from older callers."""
    _require(acting_user, patient)
    data = _normalise(
        {
            "term": term,
            "ctcae_term": ctcae_term,
            "other_specify": other_specify,
            "other_soc": other_soc,
            "grade": grade,
            "serious": serious,
            "serious_criteria": serious_criteria,
            "onset_date": onset_date,
            "resolution_date": resolution_date,
            "outcome": outcome,
            "action_taken": action_taken,
            "description": description,
            "visit": visit,
        }
    )
    with transaction.atomic():
        current = (
            Patient.objects.select_for_update(of=("self",))
            .select_related("trial_site__site")
            .get(pk=patient.pk)
        )
        errors = _validate(current, data, causality or {})
        if errors:
            raise ValidationError(errors)
        check_collecting(current, data["onset_date"], "onset_date")
        with audit_context(user=acting_user, reason=_("Adverse event recorded")):
            event = AdverseEvent(
                patient=current,
                recorded_by=acting_user,
                recorded_by_username=acting_user.get_username(),
                expected=expected,
                **data,
            )
            # Reporting deadlines, then the SAE notice in this same transaction (outbox).
            sae_apply_deadlines(event, relatedness=causality.values(), awareness_at=awareness_at)
            event.save()
            for pk, relatedness in sorted((int(k), v) for k, v in causality.items()):
                AdverseEventCausality(
                    adverse_event=event, intervention_id=pk, relatedness=relatedness
                ).save()
            sae_notify(event)
    return event


def adverse_event_update(
    *, adverse_event: AdverseEvent, acting_user: ActingUser, reason: str | None, **changes: Any
) -> AdverseEvent:
    """Correct a recorded adverse event; a reason for change is required. ``causality``
    (intervention id -> relatedness), when given, must again cover every intervention."""
    _require(acting_user, adverse_event.patient)
    reason = require_reason(reason)
    causality = changes.pop("causality", None)
    awareness_at = changes.pop("awareness_at", None)
    unknown = set(changes) - set(AE_FIELDS)
    if unknown:
        raise ValidationError({f: _("This field cannot be changed here.") for f in sorted(unknown)})
    with transaction.atomic():
        current = (
            AdverseEvent.objects.select_for_update(of=("self",))
            .select_related("patient__trial_site__site", "visit")
            .get(pk=adverse_event.pk)
        )
        data = _normalise({f: changes.get(f, getattr(current, f)) for f in AE_FIELDS})
        errors = _validate(current.patient, data, causality)
        if errors:
            raise ValidationError(errors)
        if data["onset_date"] != current.onset_date:
            # Correcting what was collected stays possible; a new date must be collectable.
            check_collecting(current.patient, data["onset_date"], "onset_date")
        with audit_context(user=acting_user, reason=reason):
            for field, value in data.items():
                setattr(current, field, value)
            set_change_reason(current, reason)
            sae_apply_deadlines(
                current,
                relatedness=causality.values() if causality is not None else None,
                awareness_at=awareness_at,
            )
            current.save()
            if causality is not None:
                existing = {c.intervention_id: c for c in current.causality.all()}
                for pk, relatedness in ((int(k), v) for k, v in causality.items()):
                    row = existing.get(pk)
                    if row is None:
                        AdverseEventCausality(
                            adverse_event=current, intervention_id=pk, relatedness=relatedness
                        ).save()
                    elif row.relatedness != relatedness:
                        row.relatedness = relatedness
                        set_change_reason(row, reason)
                        row.save()
            sae_notify(current)
    return current
