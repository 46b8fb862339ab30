"""Idempotency records: response body encrypted, no history table (it held clear-text
identity copies forever). Existing bodies are encrypted in place before the clear-text
column is dropped."""

import json

import encrypted_fields.fields
from django.db import migrations, models


def encrypt_bodies(apps, schema_editor):
    Record = apps.get_model("api", "IdempotencyRecord")
    for record in Record.objects.exclude(response_body=None).iterator():
        record.response_encrypted = json.dumps(record.response_body, ensure_ascii=False)
        record.save(update_fields=["response_encrypted"])


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotencyrecord",
            name="response_encrypted",
            field=encrypted_fields.fields.EncryptedTextField(blank=True, null=True),
        ),
        migrations.RunPython(encrypt_bodies, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="idempotencyrecord",
            name="response_body",
        ),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, db_index=True),
        ),
        migrations.DeleteModel(
            name="HistoricalIdempotencyRecord",
        ),
    ]
