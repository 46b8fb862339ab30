"""Demo clinical data over the demo patients' visits (called once from the demo builder).

Per site: a laboratory's reference ranges. Per trial: the forms each visit requires and
the planned regimens (lenvatinib 8 / 12 mg by weight, toripalimab 240 mg q3w). Per
enrolled patient with submitted visits: weight and blood pressure, a haematology and
liver panel (with the odd grade 3 platelet count on the cryoablation arm), lenvatinib
dosing periods (a reduction for hypertension now and then), the toripalimab infusions,
the cryoablation of the first target lesion on arm A, and a concomitant medication.
Entered through the services, so every record has its history. Idempotent: a patient
who already has clinical records is skipped.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import Any

from patients.models import Lesion, Patient, Visit
from sites.models import TrialSite
from trials.models import Intervention, Trial, VisitDefinition

from .models import LabReferenceRange, LabResult, PlannedRegimen

RANGES = (
    ("platelets", 125, 350),
    ("neutrophils", 1.8, 6.3),
    ("haemoglobin", 115, 150),
    ("wbc", 3.5, 9.5),
    ("alt", 7, 40),
    ("ast", 13, 35),
    ("alp", 45, 125),
    ("bilirubin", 3.4, 20.5),
    ("albumin", 40, 55),
    ("creatinine", 41, 81),
    ("inr", 0.8, 1.2),
    ("tsh", 0.27, 4.2),
    ("ca19_9", None, 37),
)
MAX_VISITS = 4  # clinical data on the first visits only: keeps seed_demo fast


def _regimens(trial: Trial) -> dict[str, Intervention]:
    found = {}
    for iv in Intervention.objects.filter(trial=trial):
        if iv.name.startswith("Lenvatinib"):
            PlannedRegimen.objects.get_or_create(
                intervention=iv,
                defaults={
                    "route": "oral",
                    "dose_mg": Decimal(12),
                    "weight_threshold_kg": Decimal(60),
                    "dose_below_threshold_mg": Decimal(8),
                    "interval_days": 1,
                },
            )
            found["lenvatinib"] = iv
        elif iv.name.startswith("Toripalimab"):
            PlannedRegimen.objects.get_or_create(
                intervention=iv,
                defaults={"route": "iv", "dose_mg": Decimal(240), "interval_days": 21},
            )
            found["toripalimab"] = iv
    return found


def _required_forms(trial: Trial) -> None:
    for definition in VisitDefinition.objects.filter(trial=trial):
        if definition.required_forms:
            continue
        forms = ["labs", "vitals", "ae_review"]
        if definition.day_offset < 400:
            forms.append("dosing")
        if definition.tumor_assessment:
            forms.append("imaging")
        definition.required_forms = forms
        definition.save()


def _ranges(trial: Trial) -> None:
    since = datetime.date(2024, 1, 1)
    for trial_site in TrialSite.objects.filter(trial=trial).select_related("site"):
        site = trial_site.site
        if LabReferenceRange.objects.filter(site=site).exists():
            continue
        for analyte, lower, upper in RANGES:
            LabReferenceRange(
                site=site,
                laboratory=f"{site.code} clinical laboratory",
                analyte=analyte,
                lower=lower,
                upper=upper,
                effective_from=since,
            ).save()


def clinical_demo(trial: Trial, *, seed: int = 20261202) -> int:
    """Add the clinical records; returns the number of patients given data."""
    from patients.services.consent import patient_is_collecting
    from sites.demo import at

    from . import services

    _ranges(trial)
    _required_forms(trial)
    drugs = _regimens(trial)
    rng = random.Random(seed)
    done = 0
    patients = (
        Patient.objects.filter(trial_site__trial=trial, enrollment__isnull=False)
        .select_related("enrollment__arm", "trial_site__site")
        .order_by("pk")
    )
    for patient in patients:
        if LabResult.objects.filter(patient=patient).exists():
            continue
        visits = list(
            Visit.objects.filter(patient=patient, submitted_at__isnull=False)
            .select_related("definition")
            .order_by("scheduled_date")[:MAX_VISITS]
        )
        if not visits:
            continue
        crc = visits[0].submitted_by
        weight = Decimal(rng.choice([52, 56, 58, 61, 64, 68, 72, 77]))
        arm_a = patient.enrollment.arm.code == "A"
        lenvatinib = drugs.get("lenvatinib")
        dose = Decimal(8) if weight < 60 else Decimal(12)
        reduced = False
        for n, visit in enumerate(visits):
            day = visit.actual_date or visit.scheduled_date
            if not patient_is_collecting(patient, day):
                break  # a visit submitted before a withdrawal dated on or before its day
            with at(day):
                bp = (rng.randint(118, 150), rng.randint(72, 92))
                if n and rng.random() < 0.15:
                    bp = (rng.randint(162, 176), rng.randint(100, 108))
                services.vital_signs_record(
                    patient=patient,
                    acting_user=crc,
                    measured_on=day,
                    visit=visit,
                    systolic_bp=bp[0],
                    diastolic_bp=bp[1],
                    heart_rate=rng.randint(62, 92),
                    weight_kg=weight,
                )
                platelets = rng.randint(110, 260)
                if arm_a and n == 1 and rng.random() < 0.5:
                    platelets = rng.randint(38, 49)  # after cryoablation
                services.lab_results_record(
                    patient=patient,
                    acting_user=crc,
                    collected_on=day,
                    visit=visit,
                    values=[
                        {"analyte": "platelets", "value": platelets, "unit": "10*9/L"},
                        {"analyte": "neutrophils", "value": round(rng.uniform(1.6, 5.5), 2)},
                        {"analyte": "haemoglobin", "value": rng.randint(105, 145)},
                        {"analyte": "alt", "value": rng.randint(18, 95)},
                        {"analyte": "ast", "value": rng.randint(18, 80)},
                        {"analyte": "bilirubin", "value": round(rng.uniform(6, 26), 1)},
                        {"analyte": "albumin", "value": rng.randint(33, 45)},
                        {"analyte": "inr", "value": round(rng.uniform(0.9, 1.25), 2)},
                        {"analyte": "creatinine", "value": rng.randint(50, 95)},
                    ],
                )
                if arm_a and n == 0:
                    target = (
                        Lesion.objects.filter(patient=patient, target=True).order_by("code").first()
                    )
                    if target is not None:
                        services.procedure_record(
                            patient=patient,
                            acting_user=crc,
                            kind="cryoablation",
                            procedure_date=day,
                            approach=rng.choice(["percutaneous_ct", "percutaneous_us"]),
                            lesions=[target],
                            probes=rng.randint(2, 4),
                            freeze_thaw_cycles=2,
                            ice_ball_margin_mm=Decimal(rng.choice([5, 8, 10])),
                            technical_success=True,
                            visit=visit,
                        )
                if lenvatinib is not None and n + 1 < len(visits):
                    end = (visits[n + 1].actual_date or visits[n + 1].scheduled_date) - (
                        datetime.timedelta(days=1)
                    )
                    change: dict[str, Any] = {}
                    if bp[0] >= 160 and not reduced:
                        reduced = True
                        dose = Decimal(8) if dose == 12 else Decimal(4)
                        change = {
                            "dose_change": "reduced",
                            "reason": "physician_decision",
                            "reason_detail": "Blood pressure >= 160/100 mmHg",
                        }
                    services.exposure_record(
                        patient=patient,
                        acting_user=crc,
                        intervention=lenvatinib,
                        kind="administration",
                        start_date=day,
                        end_date=end,
                        dose_mg=dose,
                        visit=visit,
                        **change,
                    )
                if (
                    "toripalimab" in drugs
                    and drugs["toripalimab"].arms.filter(pk=patient.enrollment.arm_id).exists()
                ):
                    services.exposure_record(
                        patient=patient,
                        acting_user=crc,
                        intervention=drugs["toripalimab"],
                        kind="administration",
                        start_date=day,
                        dose_mg=Decimal(240),
                        lot_number=f"TR{rng.randint(2400, 2599)}",
                        visit=visit,
                    )
                if n == 0 and rng.random() < 0.5:
                    name, why = rng.choice(
                        [
                            ("amlodipine", "hypertension"),
                            ("entecavir", "chronic hepatitis B"),
                            ("ursodeoxycholic acid", "cholestasis"),
                            ("levothyroxine", "hypothyroidism"),
                        ]
                    )
                    services.conmed_record(
                        patient=patient,
                        acting_user=crc,
                        generic_name=name,
                        indication=why,
                        start_date=day,
                        ongoing=True,
                        visit=visit,
                    )
        done += 1
    return done
