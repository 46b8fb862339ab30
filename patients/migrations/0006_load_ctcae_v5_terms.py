"""Load the CTCAE v5.0 terms shipped in patients/data/ctcae_v5_terms.json."""

from django.db import migrations


def load(apps, schema_editor):
    from patients.ctcae_catalogue import shipped_terms

    CtcaeTerm = apps.get_model("patients", "CtcaeTerm")
    for row in shipped_terms():
        code = row["meddra_code"]
        values = {k: v for k, v in row.items() if k != "meddra_code"}
        CtcaeTerm.objects.update_or_create(meddra_code=code, defaults=values)


class Migration(migrations.Migration):
    dependencies = [("patients", "0005_ctcae_terms_and_coded_adverse_event_term")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
