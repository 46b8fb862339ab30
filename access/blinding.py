"""Blinding: the one module that decides who sees a patient's allocation.

Every page, API serializer, export, notification, admin page and history view asks here;
a test (``tests/access/test_kernel_only.py``) fails when an arm-visibility decision
(``is_blinded``, the unblinded-view permission, a look-up of the user's own emergency
unblindings) appears anywhere else.

The rule, in three parts:

- **The arm of one patient** (``arm_visible_to`` for one enrollment, ``arm_visibility``
  for a page of them in at most one query): always in an open-label trial; in a blinded
  trial only with the unblinded-view permission for the trial (lead investigator,
  sponsor statistician) or after this very user emergency-unblinded this patient.
- **Arm-level aggregates and the arm composition of a trial** (``arms_visible``): counts,
  rates and efficacy by arm, which interventions an arm receives, arm and treatment names
  in an export: open-label trial or the unblinded-view permission (an emergency unblinding
  reveals one patient, not the trial).
- **The allocation sequence** (``sequence_visible``): position in the stratum sequence,
  block and block size let a reader predict the next allocations (selection bias), so
  they are hidden in *every* trial, open-label included, unless the user holds the
  unblinded view; history pages never show them.

A mail is outside the access control of the pages: it names the arm only in an
open-label trial (``arm_for_notification``).

Models are reached through the app registry, not imported: this kernel sits below the
apps whose data it guards (``patients``, ``trials``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.db.models import Q

from .roles import Perm
from .scoping import has_perm

#: Enrollment fields (and their API spellings) that name the patient's arm.
ARM_FIELDS: tuple[str, ...] = ("arm", "arm_id", "arm_code", "arm_name")
#: Enrollment fields that reveal the allocation sequence (hidden in every trial).
SEQUENCE_FIELDS: tuple[str, ...] = ("allocation_index", "block_number", "block_size")
#: Everything about an allocation the rule may hide.
ALLOCATION_FIELDS: tuple[str, ...] = ARM_FIELDS + SEQUENCE_FIELDS
#: Trial configuration that reveals the allocation sequence (the admin never shows it).
TRIAL_SEQUENCE_FIELDS: tuple[str, ...] = ("randomization_block_sizes",)

__all__ = [
    "ALLOCATION_FIELDS",
    "ARM_FIELDS",
    "SEQUENCE_FIELDS",
    "TRIAL_SEQUENCE_FIELDS",
    "allocation_concealed",
    "arm_for_notification",
    "arm_visibility",
    "arm_visible_q",
    "arm_visible_to",
    "arms_visible",
    "enrollment_of",
    "history_hidden_fields",
    "history_visible",
    "sequence_visible",
    "treatment_names_masked",
    "trials_with_hidden_arms",
    "unblinded_reviewer",
    "unblinding_offered",
]


def _authenticated(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def _unblinded_view(user: Any, trial: Any) -> bool:
    return _authenticated(user) and has_perm(user, Perm.VIEW_UNBLINDED, trial=trial)


def unblinded_reviewer(user: Any, trial: Any) -> bool:
    """Does ``user`` review ``trial`` unblinded (lead investigator / sponsor), e.g. to
    file a SUSAR report, which goes to the authorities unblinded?"""
    return _unblinded_view(user, trial)


def allocation_concealed(trial: Any) -> bool:
    """Is the allocation of ``trial`` concealed from its sites (a blinded trial)?"""
    return bool(trial.is_blinded)


# --- trial level: aggregates, arm composition, exports -------------------------------


def arms_visible(user: Any, trial: Any) -> bool:
    """May ``user`` see ``trial`` broken down by arm (counts, rates, efficacy, which
    interventions an arm gets, arm names in an export)?"""
    return not allocation_concealed(trial) or _unblinded_view(user, trial)


def sequence_visible(user: Any, trial: Any) -> bool:
    """May ``user`` see the allocation sequence (position, block, block size)? Only with
    the unblinded view, in every trial."""
    return _unblinded_view(user, trial)


def trials_with_hidden_arms(user: Any, trials: Any = None) -> list[int]:
    """Ids of the blinded trials (of ``trials``, default all) whose arms ``user`` may not
    see."""
    trial_model = apps.get_model("trials", "Trial")
    qs = trials if trials is not None else trial_model.objects.all()
    blinded = qs.filter(blinding=trial_model.Blinding.BLINDED).only("pk", "blinding")
    return [t.pk for t in blinded if not arms_visible(user, t)]


# --- one patient: single and batch forms ---------------------------------------------


def enrollment_of(patient: Any) -> Any:
    """The patient's enrollment, or None."""
    enrollment_model = apps.get_model("patients", "Enrollment")
    try:
        return patient.enrollment
    except enrollment_model.DoesNotExist:
        return None


def _own_unblindings(user: Any, enrollment_ids: Iterable[int]) -> set[int]:
    event = apps.get_model("patients", "UnblindingEvent")
    return set(
        event.objects.filter(enrollment_id__in=list(enrollment_ids), unblinded_by=user)
        .values_list("enrollment_id", flat=True)
        .distinct()
    )


def arm_visible_to(user: Any, enrollment: Any) -> bool:
    """May ``user`` see the arm of ``enrollment``? (The single-record form.)"""
    if enrollment is None:
        return False
    return arm_visibility(user, [enrollment])[enrollment.pk]


def arm_visibility(user: Any, enrollments: Iterable[Any]) -> dict[int, bool]:
    """``arm_visible_to(user, e)`` for every enrollment of a page, in at most one query
    (the batch form; ``None`` entries are skipped)."""
    result: dict[int, bool] = {}
    pending: list[int] = []
    for e in enrollments:
        if e is None or e.pk in result:
            continue
        if not allocation_concealed(e.trial):
            result[e.pk] = True
        elif not _authenticated(user):
            result[e.pk] = False
        elif _unblinded_view(user, e.trial):
            result[e.pk] = True
        else:
            result[e.pk] = False
            pending.append(e.pk)
    if pending:
        for pk in _own_unblindings(user, pending):
            result[pk] = True
    return result


def arm_visible_q(user: Any) -> Q:
    """A filter on enrollments: those whose arm ``user`` may see (so filtering a blinded
    trial by arm reveals nothing)."""
    if not _authenticated(user):
        return Q(pk__in=[])
    trial_model = apps.get_model("trials", "Trial")
    event = apps.get_model("patients", "UnblindingEvent")
    trials = trial_model.objects.visible_to(user).only("pk", "blinding")
    open_ids = [t.pk for t in trials if arms_visible(user, t)]
    own = event.objects.filter(unblinded_by=user).values("enrollment_id")
    return Q(trial_id__in=open_ids) | Q(pk__in=own)


def treatment_names_masked(user: Any, patient: Any) -> bool:
    """Would naming the study treatments of ``patient`` (adverse-event causality, dosing)
    reveal an arm ``user`` may not see? Then they are numbered "Study treatment N"."""
    enrollment = enrollment_of(patient)
    return enrollment is not None and not arm_visible_to(user, enrollment)


def unblinding_offered(
    user: Any, enrollment: Any, *, trial_site: Any = None, arm_visible: bool | None = None
) -> bool:
    """Offer the emergency unblinding of ``enrollment`` to ``user``: a blinded trial, an
    arm the user cannot see yet and the emergency-unblinding permission at the site."""
    if enrollment is None or not allocation_concealed(enrollment.trial):
        return False
    if arm_visible is None:
        arm_visible = arm_visible_to(user, enrollment)
    if trial_site is None:
        trial_site = enrollment.patient.trial_site
    return not arm_visible and has_perm(user, Perm.EMERGENCY_UNBLIND, trial_site=trial_site)


# --- outside the pages: mails and history ---------------------------------------------


def arm_for_notification(enrollment: Any) -> str:
    """The arm as a mail may name it: only in an open-label trial (a mail leaves the
    access control of the pages), else empty."""
    if allocation_concealed(enrollment.trial):
        return ""
    return str(enrollment.arm)


def history_hidden_fields(obj: Any, user: Any) -> set[str]:
    """Fields of ``obj`` a history page must not show to ``user``: the model's own
    ``HISTORY_HIDDEN_FIELDS`` (e.g. a document hash), the allocation sequence always, and
    the arm when the user may not see it."""
    hidden = set(getattr(type(obj), "HISTORY_HIDDEN_FIELDS", ()))
    enrollment_model = apps.get_model("patients", "Enrollment")
    if isinstance(obj, apps.get_model("trials", "Trial")):
        hidden |= set(TRIAL_SEQUENCE_FIELDS)
    if isinstance(obj, enrollment_model):
        hidden |= set(SEQUENCE_FIELDS)
        if not arm_visible_to(user, obj):
            hidden |= set(ARM_FIELDS)
    return hidden


def history_visible(obj: Any, user: Any) -> bool:
    """May ``user`` read the audit trail of ``obj`` at all? A causality row names an
    intervention, which in a blinded trial reveals the arm: only for users who may see the
    patient's arm."""
    causality = apps.get_model("patients", "AdverseEventCausality")
    if isinstance(obj, causality):
        return not treatment_names_masked(user, obj.adverse_event.patient)
    return True
