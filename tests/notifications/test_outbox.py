from __future__ import annotations

import pytest
from django.db import transaction

from notifications.models import OutboxMessage
from notifications.services import notification_enqueue, outbox_flush
from sites.models import StaffProfile


def enqueue(key="k1", recipients=(("a@example.org", "en"), ("b@example.org", "zh-hans"))):
    with transaction.atomic():
        return notification_enqueue(
            key=key,
            kind="test",
            recipients=recipients,
            template="test_message",
            context={"subject_id": "CRYO-SA-0001"},
        )


@pytest.mark.django_db(transaction=True)
def test_one_message_per_recipient_delivered_once(mailoutbox, settings):
    enqueue()
    # eager Celery: delivered on commit
    assert sorted(m.to[0] for m in mailoutbox) == ["a@example.org", "b@example.org"]
    assert OutboxMessage.objects.filter(status="sent").count() == 2
    enqueue()  # same key again: nothing new
    assert outbox_flush() == 0
    assert len(mailoutbox) == 2


@pytest.mark.django_db(transaction=True)
def test_messages_are_written_in_the_recipients_language(mailoutbox):
    enqueue()
    subjects = {m.to[0]: m.subject for m in mailoutbox}
    assert subjects["a@example.org"].startswith("Test notification")


@pytest.mark.django_db(transaction=True)
def test_broker_down_keeps_messages_until_flush(mailoutbox, settings, monkeypatch):
    from notifications import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker unreachable")

    monkeypatch.setattr(tasks.deliver_notification, "delay", broker_down)
    enqueue(key="k2")
    assert mailoutbox == []
    assert OutboxMessage.objects.filter(status="pending").count() == 2
    monkeypatch.undo()
    assert outbox_flush() == 2
    assert outbox_flush() == 0
    assert len(mailoutbox) == 2


def test_language_switch_is_remembered(client, coordinator_site_a):
    client.force_login(coordinator_site_a)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert StaffProfile.objects.get(user=coordinator_site_a).preferred_language == "zh-hans"
