"""The "Consent and enrollment" section of the patient page.

An inclusion tag, so the patient page's view needs no change: the section computes its
own context (what this user may see and do) from the patient and ``request.user``.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from access import blinding
from sites.roles import Perm
from sites.scoping import has_perm
from trials.choices import Language

from ..models import Consent, Enrollment, Patient
from ..services.consent import consent_needs_reconsent

register = template.Library()


@register.inclusion_tag("patients/_consent_enrollment.html", takes_context=True)
def consent_enrollment_section(context: dict[str, Any], patient: Patient) -> dict[str, Any]:
    user = context["request"].user
    trial_site = patient.trial_site
    consents = list(
        Consent.objects.filter(patient=patient)
        .select_related("consent_version")
        .order_by("-consented_at", "-pk")
    )
    labels = dict(Language.choices)
    for c in consents:
        c.language_label = labels.get(c.language, c.language)
    enrollment = (
        Enrollment.objects.filter(patient=patient)
        .select_related("arm", "trial")
        .prefetch_related("unblindings")
        .first()
    )
    can_enter = has_perm(user, Perm.ENTER_CLINICAL_DATA, trial_site=trial_site)
    can_enroll = has_perm(user, Perm.ENROLL, trial_site=trial_site)
    active = [c for c in consents if c.withdrawn_on is None]
    pending = consent_needs_reconsent(patient) if active else None
    arm_visible = blinding.arm_visible_to(user, enrollment)
    return {
        "request": context["request"],
        "patient": patient,
        "consents": consents,
        "show_identity": patient.identity_visible_to(user),
        "pending_version": pending,
        "enrollment": enrollment,
        "stratum_label": stratum_display(enrollment.stratum) if enrollment else "",
        "arm_visible": arm_visible,
        "can_consent": can_enter and patient.status == Patient.Status.ELIGIBLE,
        "can_reconsent": can_enter and pending is not None,
        "can_withdraw": can_enter and bool(active),
        "can_enroll": can_enroll
        and enrollment is None
        and patient.status == Patient.Status.CONSENTED,
        "can_set_first_treatment": can_enter
        and enrollment is not None
        and patient.status == Patient.Status.ON_STUDY,
        "can_unblind": blinding.unblinding_offered(
            user, enrollment, trial_site=trial_site, arm_visible=arm_visible
        ),
    }


#: Stratification factors as people read them (the stored key stays ``ecog=1|site=SH01``).
STRATUM_FACTORS = {
    "site": _("Site"),
    "ecog": _("ECOG"),
}


def stratum_display(key: str | None) -> str:
    """``ecog=1|site=SH01`` → ``Site SH01 · ECOG 1`` (translated factor names, site first)."""
    if not key:
        return ""
    parts = []
    for chunk in str(key).split("|"):
        name, sep, level = chunk.partition("=")
        if not sep:
            parts.append(chunk)
            continue
        label = STRATUM_FACTORS.get(name)
        parts.append((name, f"{label if label else name} {level}"))
    order = {name: n for n, name in enumerate(STRATUM_FACTORS)}
    named = sorted(
        (p for p in parts if isinstance(p, tuple)), key=lambda p: order.get(p[0], len(order))
    )
    return " · ".join([text for _name, text in named] + [p for p in parts if isinstance(p, str)])


@register.filter
def stratum_label(key: str | None) -> str:
    return stratum_display(key)
