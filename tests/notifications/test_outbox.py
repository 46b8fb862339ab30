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


class WorkerLost(BaseException):
    """The process dies: not an Exception, nothing in the worker catches it."""


@pytest.mark.django_db(transaction=True)
def test_worker_lost_after_smtp_handoff_resends_with_the_same_message_id(
    mailoutbox, monkeypatch, settings
):
    from notifications import services, tasks

    monkeypatch.setattr(tasks.deliver_notification, "delay", lambda *a, **k: None)
    enqueue(key="sae:42", recipients=(("lead@example.org", "en"),))
    message = OutboxMessage.objects.get()

    def die(_message):
        raise WorkerLost

    monkeypatch.setattr(services, "_mark_sent", die)
    with pytest.raises(WorkerLost):
        services.notification_deliver(message_id=message.pk)
    monkeypatch.undo()
    monkeypatch.setattr(tasks.deliver_notification, "delay", lambda *a, **k: None)
    assert len(mailoutbox) == 1  # the mail left; the commit "sent" did not happen
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENDING  # committed before SMTP

    # Nothing is sent twice while the first attempt may still be under way ...
    assert services.notification_deliver(message_id=message.pk) is False
    assert outbox_flush() == 0
    assert len(mailoutbox) == 1

    # ... after the timeout the flush recovers it and sends it again, same Message-ID.
    settings.OUTBOX_SENDING_TIMEOUT_SECONDS = 0
    assert outbox_flush() == 1
    assert len(mailoutbox) == 2
    first, second = mailoutbox
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]
    assert first.message()["Message-ID"] == message.message_id
    assert message.message_id.startswith("<outbox.") and message.message_id.endswith(">")
    message.refresh_from_db()
    assert message.status == OutboxMessage.Status.SENT and message.attempts == 2
    assert outbox_flush() == 0 and len(mailoutbox) == 2


@pytest.mark.django_db(transaction=True)
def test_each_notification_has_its_own_stable_message_id(mailoutbox):
    enqueue(key="k9")
    ids = {m.to[0]: m.message()["Message-ID"] for m in mailoutbox}
    assert len(set(ids.values())) == 2
    for row in OutboxMessage.objects.all():
        assert ids[row.recipient] == row.message_id


@pytest.mark.django_db(transaction=True)
def test_smtp_error_leaves_the_message_pending_for_the_next_flush(mailoutbox, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    real = EmailBackend.send_messages

    def refuse(self, messages):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    enqueue(key="k10", recipients=(("a@example.org", "en"),))
    message = OutboxMessage.objects.get()
    assert message.status == OutboxMessage.Status.PENDING and "SMTP down" in message.last_error
    monkeypatch.setattr(EmailBackend, "send_messages", real)
    assert outbox_flush() == 1 and len(mailoutbox) == 1


def _stored(table: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
        return [" ".join(str(v) for v in row) for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_recipient_and_mail_are_encrypted_at_rest_history_included(mailoutbox, monkeypatch):
    """The address, the subject, the body, an attachment and an SMTP error naming the
    address are readable through the model and absent, in clear, from the outbox table
    and its history rows; the key names the recipient by a keyed digest."""
    from django.core.mail.backends.locmem import EmailBackend

    real = EmailBackend.send_messages

    def refuse(self, messages):
        raise ConnectionRefusedError("550 jane.doe@example.org: mailbox unavailable")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    with transaction.atomic():
        notification_enqueue(
            key="recruiting:referral:1:received",
            kind="test",
            recipients=[("jane.doe@example.org", "en")],
            template="test_message",
            context={"subject_id": "Jane Doe"},
            attachments=[
                {"filename": "a.ics", "content": "SUMMARY:Jane Doe", "mimetype": "text/calendar"}
            ],
        )
    message = OutboxMessage.objects.for_recipient("JANE.DOE@example.org ").get()
    assert message.recipient == "jane.doe@example.org" and "Jane Doe" in message.subject
    assert "jane.doe@example.org" in message.last_error
    assert message.attachments[0]["content"] == "SUMMARY:Jane Doe"
    monkeypatch.setattr(EmailBackend, "send_messages", real)
    assert outbox_flush() == 1 and mailoutbox[0].to == ["jane.doe@example.org"]
    rows = _stored("notifications_outboxmessage") + _stored("notifications_historicaloutboxmessage")
    assert len(rows) >= 4  # the row and its history (created, failed, sending, sent)
    for row in rows:
        assert "jane" not in row.lower() and "Jane Doe" not in row
    assert not OutboxMessage.objects.for_recipient("someone.else@example.org").exists()


@pytest.mark.django_db(transaction=True)
def test_sent_messages_are_purged_after_the_retention_time(mailoutbox, settings, monkeypatch):
    import datetime

    from django.core.mail.backends.locmem import EmailBackend
    from django.utils import timezone

    from notifications.services import outbox_purge
    from notifications.tasks import purge_outbox

    settings.OUTBOX_RETENTION_DAYS = 30
    enqueue(key="old")  # sent at once (eager Celery)
    monkeypatch.setattr(EmailBackend, "send_messages", lambda self, m: 1 / 0)
    enqueue(key="waiting", recipients=(("c@example.org", "en"),))  # stays pending
    assert OutboxMessage.objects.filter(status="sent").count() == 2
    assert outbox_purge() == 0  # nothing is old yet
    later = timezone.now() + datetime.timedelta(days=31)
    assert outbox_purge(now=later) == 2
    assert list(OutboxMessage.objects.values_list("status", flat=True)) == ["pending"]
    assert OutboxMessage.history.filter(history_type="-").count() == 2
    assert settings.CELERY_BEAT_SCHEDULE["purge-outbox"]["task"] == (
        "notifications.tasks.purge_outbox"
    )
    assert purge_outbox() == 0
