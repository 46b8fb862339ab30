"""Interpreter and witness names are identity: encrypt them, and their history copies.

The fields become Fernet-encrypted (text columns); existing clear values are read as
they are (a value that is not a Fernet token decrypts to itself) and saved again,
encrypted. Runs before any audit-table guard exists, so history rows can be rewritten
this once.
"""

import patients.models.base
from django.db import migrations


FIELDS = ("interpreter_name", "witness_name")


def encrypt_names(apps, schema_editor):
    for name in ("Consent", "HistoricalConsent"):
        model = apps.get_model("patients", name)
        rows = model.objects.exclude(interpreter_name="", witness_name="")
        for row in rows.iterator():
            row.save(update_fields=list(FIELDS))


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0005_patient_document_unique_per_site"),
    ]

    operations = [
        migrations.AlterField(
            model_name="consent",
            name="interpreter_name",
            field=patients.models.base.EncryptedBlankCharField(
                blank=True, max_length=200, verbose_name="interpreter name"
            ),
        ),
        migrations.AlterField(
            model_name="consent",
            name="witness_name",
            field=patients.models.base.EncryptedBlankCharField(
                blank=True, max_length=200, verbose_name="impartial witness name"
            ),
        ),
        migrations.AlterField(
            model_name="historicalconsent",
            name="interpreter_name",
            field=patients.models.base.EncryptedBlankCharField(
                blank=True, max_length=200, verbose_name="interpreter name"
            ),
        ),
        migrations.AlterField(
            model_name="historicalconsent",
            name="witness_name",
            field=patients.models.base.EncryptedBlankCharField(
                blank=True, max_length=200, verbose_name="impartial witness name"
            ),
        ),
        migrations.RunPython(encrypt_names, migrations.RunPython.noop),
    ]
