"""Monitoring on the record pages: the lock banner, query / SDV / signature status and a
link to the record's monitoring panel; a badge for a field with open queries."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from sites.roles import Perm
from sites.scoping import has_perm

from ..selectors import locks_on_patient, open_query_fields, signatures_of, verification_of
from ..services.common import context_for
from ..targets import target_of

register = template.Library()


@register.inclusion_tag("monitoring/_record_bar.html", takes_context=True)
def monitoring_bar(context: dict[str, Any], record: Any) -> dict[str, Any]:
    target = target_of(record)
    if target is None:
        return {"show": False}
    ctx = context_for(record)
    fields = open_query_fields(record)
    context.setdefault("_monitoring_fields", {})[(target.label, record.pk)] = fields
    user = context["request"].user
    return {
        "show": True,
        "can_sign_casebook": target.label == "patients.patient"
        and has_perm(user, Perm.SIGN_OFF, trial_site=ctx.trial_site),
        "form": target.label,
        "record": record,
        "locks": list(locks_on_patient(ctx.patient)),
        "open_queries": sum(fields.values()),
        "verification": verification_of(record),
        "signatures": list(signatures_of(record)[:5]),
    }


@register.simple_tag(takes_context=True)
def query_badge(context: dict[str, Any], record: Any, field_name: str) -> str:
    target = target_of(record)
    if target is None:
        return ""
    cache = context.get("_monitoring_fields", {})
    fields = cache.get((target.label, record.pk))
    if fields is None:
        fields = open_query_fields(record)
    n = fields.get(field_name, 0)
    if not n:
        return ""
    return format_html(
        '<a class="badge badge-query" href="/monitoring/queries/?form={}&amp;status=unresolved&amp;patient={}" title="{}">? {}</a>',
        target.label,
        target.patient_id_of(record),
        _("Open queries on this field"),
        n,
    )
