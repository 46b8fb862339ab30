"""What the registry already knows about a trial subject, as screening answers with their
source: the subject links to the registry record of the same center by the national
pseudonym (the keyed hash of the identity document)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from .models import StagingRecord, Treatment
from .selectors import registry_record_for_trial_patient

HISTOLOGY = {
    "hcc": "hcc",
    "icca": "icca",
    "pcca": "phcca",
    "dcca": "dcca",
    "gbc": "gbc",
    "chcc_cca": "mixed_hcc_cca",
}
LOCAL = {k.value for k in Treatment.LOCAL}
SURGERY = {Treatment.Kind.RESECTION, Treatment.Kind.TRANSPLANT}


@dataclass(frozen=True)
class Prefill:
    name: str  # screening answer (domain.eligibility FIELD_CATALOGUE)
    value: Any
    source: str  # shown next to the answer


def screening_prefill(trial_patient: Any) -> tuple[Any, list[Prefill]]:
    """(registry record or None, pre-filled answers). The caller has already checked the
    user may enter clinical data for the subject's trial-site; the registry record is the
    one of the same center only."""
    record = registry_record_for_trial_patient(trial_patient, None)
    if record is None:
        return None, []
    return record, record_prefill(record)


def record_prefill(record: Any) -> list[Prefill]:
    """The screening answers a registry record gives (tumours with their stagings and the
    treatments prefetched); used for a trial subject and for registry feasibility."""
    found: list[Prefill] = []
    tumours = sorted(record.tumours.all(), key=lambda t: t.diagnosis_date)
    if tumours:
        t = tumours[-1]
        where = _("registry %(record)s, diagnosis of %(date)s") % {
            "record": record.record_number,
            "date": t.diagnosis_date.isoformat(),
        }
        found.append(Prefill("histology", HISTOLOGY[t.category], where))
        found.append(
            Prefill(
                "histology_confirmed", t.basis in ("histology", "cytology", "histology_met"), where
            )
        )
        found.append(Prefill("metastatic", bool(t.metastatic_sites), where))
        latest: dict[str, StagingRecord] = {}
        for s in sorted(t.stagings.all(), key=lambda s: (s.staged_on, s.pk)):
            latest[s.system] = s
        cp = latest.get(StagingRecord.System.CHILD_PUGH)
        if cp and cp.value:
            src = _("registry %(record)s, Child-Pugh of %(date)s") % {
                "record": record.record_number,
                "date": cp.staged_on.isoformat(),
            }
            found.append(Prefill("child_pugh_class", cp.value[0], src))
            if cp.inputs.get("bilirubin_umol_l") is not None:
                found.append(Prefill("bilirubin", cp.inputs["bilirubin_umol_l"], src))
        ecog = latest.get(StagingRecord.System.ECOG)
        if ecog and ecog.value.isdigit():
            src = _("registry %(record)s, ECOG of %(date)s") % {
                "record": record.record_number,
                "date": ecog.staged_on.isoformat(),
            }
            found.append(Prefill("ecog", int(ecog.value), src))
    treatments = list(record.treatments.all())
    src = _("registry %(record)s, treatments") % {"record": record.record_number}
    if tumours or treatments:
        systemic = [t for t in treatments if t.kind == Treatment.Kind.SYSTEMIC]
        local = [t for t in treatments if t.kind in LOCAL]
        surgery = [t for t in treatments if t.kind in SURGERY]
        radio = [t for t in treatments if t.kind == Treatment.Kind.RADIOTHERAPY]
        found.append(Prefill("prior_systemic_therapy", bool(systemic), src))
        found.append(Prefill("prior_local_therapy", bool(local), src))
        found.append(Prefill("prior_major_surgery", bool(surgery), src))
        found.append(Prefill("prior_radiotherapy", bool(radio), src))
        for name, items in (
            ("last_local_therapy_date", local),
            ("last_major_surgery_date", surgery),
            ("last_radiotherapy_date", radio),
        ):
            if items:
                last = max((t.end_date or t.start_date) for t in items)
                found.append(Prefill(name, last.isoformat(), src))
    return found
