"""The daily query digest: one mail per person and day, in their language."""

from __future__ import annotations

from monitoring.digest import send_query_digests
from monitoring.services import query_answer, query_raise
from notifications.models import OutboxMessage
from sites.models import StaffProfile


def test_digest_to_site_and_monitor_once_per_day(
    visit_a, monitor, coordinator_site_a, investigator_site_a
):
    first = query_raise(record=visit_a, field_name="ecog", text="ECOG?", acting_user=monitor)
    second = query_raise(record=visit_a, text="Date?", acting_user=monitor)
    query_answer(query=second, text="Date is right", acting_user=coordinator_site_a)
    StaffProfile.objects.update_or_create(
        user=coordinator_site_a, defaults={"preferred_language": "zh-hans"}
    )
    for user in (monitor, coordinator_site_a, investigator_site_a):
        user.email = f"{user.username}@example.org"
        user.save()
    assert send_query_digests() == 3
    assert send_query_digests() == 0  # the same day again: nothing new
    crc = OutboxMessage.objects.for_recipient("crc_a@example.org").get()
    assert f"Q-{first.pk}" in crc.body and "数据质疑" in crc.subject
    mon = OutboxMessage.objects.for_recipient("monitor@example.org").get()
    assert f"Q-{second.pk}" in mon.body and "SA" in mon.body
