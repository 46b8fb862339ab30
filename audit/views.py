from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from access import blinding
from access.views import get_visible_or_404

PROJECT_APPS = (
    "audit",
    "trials",
    "trial_sites",
    "patients",
    "notifications",
    "api",
    "exports",
    "monitoring",
    "registry",
    "recruiting",
    "research",
)
MASK = "••••••"


def display_value(field: models.Field | None, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if field is None:
        return str(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


# How each origin reads on the page (the raw request id stays in the data, not the page).
ORIGIN_LABELS = {
    "web": gettext_lazy("Web page"),
    "admin": gettext_lazy("Administration"),
    "api": gettext_lazy("API"),
    "shell": gettext_lazy("Shell"),
    "task": gettext_lazy("Background task"),
    "command": gettext_lazy("Command"),
}


def history_entries(obj: models.Model, *, hidden: set[str], masked: set[str]) -> list[dict]:
    """Each historical row with its field-by-field before/after, newest first."""
    records = list(
        obj.history.select_related("history_user").order_by("-history_date", "-history_id")
    )
    entries = []
    for i, record in enumerate(records):
        previous = records[i + 1] if i + 1 < len(records) else None
        changes = []
        if previous is not None:
            delta = record.diff_against(previous)
            for change in delta.changes:
                if change.field in hidden:
                    continue
                try:
                    field = obj._meta.get_field(change.field)
                except Exception:  # m2m through rows and removed fields
                    field = None
                # one label style: the field's name as a heading ("Date of birth")
                label = capfirst(
                    str(field.verbose_name) if field is not None else change.field.replace("_", " ")
                )
                if change.field in masked:
                    old, new = MASK, MASK
                else:
                    old, new = display_value(field, change.old), display_value(field, change.new)
                changes.append({"field": change.field, "label": label, "old": old, "new": new})
        entries.append(
            {
                "record": record,
                "changes": changes,
                "created": previous is None,
                "origin": ORIGIN_LABELS.get(record.history_origin, record.history_origin),
            }
        )
    return entries


def history_view(request: HttpRequest, label: str, pk: str) -> HttpResponse:
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError) as exc:
        raise Http404 from exc
    if model._meta.app_label not in PROJECT_APPS or not hasattr(model, "history"):
        raise Http404
    if not hasattr(model.objects, "visible_to"):
        raise Http404
    obj = get_visible_or_404(model, request.user, pk=pk)
    if not blinding.history_visible(obj, request.user):
        raise Http404
    masked: set[str] = set()
    if hasattr(obj, "identity_visible_to") and not obj.identity_visible_to(request.user):
        masked = set(getattr(model, "IDENTITY_FIELDS", ()))
    hidden = blinding.history_hidden_fields(obj, request.user)
    entries = history_entries(obj, hidden=hidden, masked=masked)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "audit/history.html",
        {"object": obj, "model_name": model._meta.verbose_name, "page": page},
    )
