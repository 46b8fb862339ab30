from __future__ import annotations

from typing import Any

from recruiting.models import PrescreenQuestion


def answers(**overrides: Any) -> dict[str, str]:
    """A filled-in questionnaire (POST data) of a 56-year-old resident with confirmed
    iCCA and no prior treatment; override by field name (option values by English label)."""
    chosen = {
        "birth_date": "56",
        "histology": "Bile duct cancer inside the liver (intrahepatic cholangiocarcinoma)",
        "histology_confirmed": "yes",
        "unresectable": "yes",
        "prior_systemic_therapy": "no",
        "prior_checkpoint_inhibitor": "no",
        "cns_metastases": "no",
        "ecog": "I can do light work, but not heavy physical work",
        "other_malignancy": "No",
        "residence_permit_expiry_date": "",
        **overrides,
    }
    data = {"foreign_national": chosen.pop("foreign_national", "no")}
    for q in PrescreenQuestion.objects.prefetch_related("options"):
        value = chosen.get(q.field, "")
        if q.kind == "choice":
            value = next((f"o{o.pk}" for o in q.options.all() if o.label_en == value), "")
        data[f"q{q.pk}"] = value
    return data
