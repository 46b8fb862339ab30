"""The outbox holds personal data (an applicant's address, the mail to them): recipient,
subject, body, attachments and the last SMTP error become Fernet-encrypted, and the key
names the recipient by a keyed digest instead of the address.

Existing rows are read as they are (a value that is not a Fernet token decrypts to
itself) and saved again, encrypted, with the new key. History rows are rewritten the
same way where the table is not yet write-once (SQLite, or before the audit guard was
installed); on a PostgreSQL database whose history tables are already guarded the
triggers refuse it, and the rows written before this migration stay as they were
(README, "Notifications" says so)."""

import hashlib
import hmac

from django.conf import settings

import encrypted_fields.fields
import notifications.models
from django.db import migrations


def _digest(email):
    key = hmac.new(
        settings.FIELD_ENCRYPTION_KEY.encode(), b"outbox-recipient-v1", hashlib.sha256
    ).digest()
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()[:24]


def _rewrite(row):
    suffix = f":{row.recipient}"
    if row.recipient and row.key.endswith(suffix):
        row.key = f"{row.key[: -len(suffix)][:170]}:{_digest(row.recipient)}"


def _guarded(schema_editor, table):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relname = %s AND t.tgname = 'audit_write_once' AND t.tgenabled <> 'D'",
            [table],
        )
        return cursor.fetchone() is not None


FIELDS = ["key", "recipient", "subject", "body", "attachments", "last_error"]


def encrypt_outbox(apps, schema_editor):
    Message = apps.get_model("notifications", "OutboxMessage")
    for row in Message.objects.all().iterator():
        _rewrite(row)
        row.save(update_fields=FIELDS)
    History = apps.get_model("notifications", "HistoricalOutboxMessage")
    if _guarded(schema_editor, History._meta.db_table):
        return
    for row in History.objects.all().iterator():
        _rewrite(row)
        History.objects.filter(pk=row.pk).update(**{f: getattr(row, f) for f in FIELDS})


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0003_merge_outbox_sending_and_attachments'),
    ]

    operations = [
        migrations.AlterField(
            model_name='historicaloutboxmessage',
            name='attachments',
            field=encrypted_fields.fields.EncryptedJSONField(blank=True, default=list, verbose_name='attachments'),
        ),
        migrations.AlterField(
            model_name='historicaloutboxmessage',
            name='body',
            field=notifications.models.EncryptedBlankTextField(blank=True, verbose_name='body'),
        ),
        migrations.AlterField(
            model_name='historicaloutboxmessage',
            name='last_error',
            field=notifications.models.EncryptedBlankTextField(blank=True, verbose_name='last error'),
        ),
        migrations.AlterField(
            model_name='historicaloutboxmessage',
            name='recipient',
            field=encrypted_fields.fields.EncryptedCharField(max_length=254, verbose_name='recipient'),
        ),
        migrations.AlterField(
            model_name='historicaloutboxmessage',
            name='subject',
            field=encrypted_fields.fields.EncryptedCharField(max_length=300, verbose_name='subject'),
        ),
        migrations.AlterField(
            model_name='outboxmessage',
            name='attachments',
            field=encrypted_fields.fields.EncryptedJSONField(blank=True, default=list, verbose_name='attachments'),
        ),
        migrations.AlterField(
            model_name='outboxmessage',
            name='body',
            field=notifications.models.EncryptedBlankTextField(blank=True, verbose_name='body'),
        ),
        migrations.AlterField(
            model_name='outboxmessage',
            name='last_error',
            field=notifications.models.EncryptedBlankTextField(blank=True, verbose_name='last error'),
        ),
        migrations.AlterField(
            model_name='outboxmessage',
            name='recipient',
            field=encrypted_fields.fields.EncryptedCharField(max_length=254, verbose_name='recipient'),
        ),
        migrations.AlterField(
            model_name='outboxmessage',
            name='subject',
            field=encrypted_fields.fields.EncryptedCharField(max_length=300, verbose_name='subject'),
        ),
        migrations.RunPython(encrypt_outbox, migrations.RunPython.noop),
    ]
