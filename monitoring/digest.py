"""The daily query digest, one mail per person and day, in their language.

- sites (``ANSWER_QUERY``): the open queries on their sites' data, oldest first;
- monitors and data managers (``RAISE_QUERY``): the answered queries waiting for them to
  close or re-open, and the unresolved count by age per site.
Nothing to report, no mail. The outbox key ``query-digest:<user>:<date>`` makes a second
run the same day a no-op.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notifications.recipients import absolute_url
from notifications.services import notification_enqueue, user_language
from sites.roles import Perm
from sites.scoping import has_perm

from . import selectors
from .models import DataQuery


def digest_for(user: Any) -> dict[str, Any] | None:
    context: dict[str, Any] = {"open": [], "answered": [], "aging": []}
    if has_perm(user, Perm.ANSWER_QUERY):
        context["open"] = list(selectors.queries_for(user, {"status": DataQuery.Status.OPEN})[:100])
    if has_perm(user, Perm.RAISE_QUERY):
        context["answered"] = list(
            selectors.queries_for(user, {"status": DataQuery.Status.ANSWERED})[:100]
        )
        context["aging"] = selectors.aging_report(user)
    if not (context["open"] or context["answered"] or context["aging"]):
        return None
    return context


def send_query_digests(*, run_date: datetime.date | None = None) -> int:
    run_date = run_date or timezone.localdate()
    users = (
        get_user_model()
        .objects.filter(is_active=True, memberships__is_active=True)
        .distinct()
        .select_related("staff_profile")
        .order_by("pk")
    )
    sent = 0
    for user in users:
        if not user.email:
            continue
        context = digest_for(user)
        if context is None:
            continue
        context.update(
            name=user.get_full_name() or user.get_username(),
            date=run_date,
            url=absolute_url(reverse("monitoring:queries")),
        )
        with transaction.atomic():
            written = notification_enqueue(
                key=f"query-digest:{user.pk}:{run_date.isoformat()}",
                kind="query_digest",
                recipients=[(user.email, user_language(user))],
                template="query_digest",
                context=context,
            )
        sent += bool(written)
    return sent
