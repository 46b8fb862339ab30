"""Demo patients' journeys: the scenarios cycled through at each site and
``PatientJourney``, which takes one registered patient through screening, consent,
enrollment, visits, tumour assessments and adverse events with the real services.
``DemoBuilder`` (``demo/builder.py``) creates one per patient."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from patients.models import Patient
from sites.demo import at
from trials.models import ConsentVersion

if TYPE_CHECKING:
    from .builder import DemoBuilder


# What happens to each demo patient. Cycling through these per site puts every state of
# the lifecycle at several sites.
SCENARIOS = [
    "on_study",
    "registered",
    "screen_failed",
    "on_study",
    "eligible",
    "died",
    "consented",
    "on_study",
    "lost",
    "withdrawn",
    "on_study",
    "completed",
]
SCREENING_ANSWERS = {
    "histology": "icca",
    "histology_confirmed": True,
    "unresectable": True,
    "metastatic": False,
    "measurable_lesion_count": 2,
    "prior_systemic_therapy": False,
    "prior_checkpoint_inhibitor": False,
    "prior_radiotherapy": False,
    "prior_major_surgery": False,
    "prior_local_therapy": False,
    "other_malignancy": False,
    "cns_metastases": False,
    "child_pugh_class": "A",
    "ecog": 1,
    "life_expectancy_weeks": 24,
    "platelets": Decimal("150"),
    "neutrophils": Decimal("3.2"),
    "haemoglobin": Decimal("125"),
    "bilirubin": Decimal("12"),
    "bilirubin_uln": Decimal("21"),
    "alt": Decimal("40"),
    "alt_uln": Decimal("40"),
    "ast": Decimal("35"),
    "ast_uln": Decimal("40"),
    "creatinine": Decimal("70"),
    "creatinine_uln": Decimal("104"),
    "interpreter_available": True,
    "impartial_witness_available": True,
    "remote_followup_agreed": True,
}
AE_TERMS = [
    ("Hypertension", "Lenvatinib"),
    ("Fatigue", None),
    ("Hand-foot skin reaction", "Lenvatinib"),
    ("Hypothyroidism", "Toripalimab"),
    ("Diarrhoea", "Lenvatinib"),
    ("Thrombocytopenia", "Percutaneous cryoablation"),
    ("Immune-mediated hepatitis", "Toripalimab"),
    ("Proteinuria", "Lenvatinib"),
]


class PatientJourney:
    """Takes one registered patient through screening, consent, enrollment, visits,
    tumour assessments and adverse events with the real services, at past dates."""

    def __init__(
        self,
        builder: DemoBuilder,
        patient: Patient,
        crc: object,
        scenario: str,
        start: datetime.date,
        rng: random.Random,
    ) -> None:
        self.builder, self.patient, self.crc = builder, patient, crc
        self.scenario, self.start, self.rng = scenario, start, rng
        self.today = timezone.localdate()

    def run(self) -> None:
        from patients.services import (
            consent_record,
            patient_enroll,
            screening_record,
        )

        if self.scenario == "registered":
            return
        answers = dict(SCREENING_ANSWERS)
        if self.scenario == "screen_failed":
            answers["ecog"] = 2
        with at(self.start - datetime.timedelta(days=7)):
            screening_record(
                patient=self.patient,
                acting_user=self.crc,
                screening_date=self.start - datetime.timedelta(days=7),
                answers=answers,
            )
        self.patient.refresh_from_db()
        if self.scenario in ("screen_failed", "eligible") or self.patient.status != "eligible":
            return
        language = self.patient.preferred_language
        version = ConsentVersion.objects.filter(
            trial=self.patient.trial_site.trial, language=language
        ).first() or ConsentVersion.objects.get(
            trial=self.patient.trial_site.trial, language="zh" if language == "zh" else "en"
        )
        interpreter = version.language != language
        with at(self.start - datetime.timedelta(days=5)):
            consent_record(
                patient=self.patient,
                acting_user=self.crc,
                consent_version=version,
                consented_at=timezone.now(),
                language=version.language,
                personal_information_consent=True,
                samples_consent=True,
                interpreter_used=interpreter,
                interpreter_name="Certified medical interpreter" if interpreter else "",
                witness_name="Impartial witness (hospital social worker)" if interpreter else "",
            )
        if self.scenario == "consented":
            return
        ts = self.patient.trial_site
        if self.builder.enrolled_at_site.get(ts.pk, 0) >= (ts.enrollment_cap or 99):
            return
        with at(self.start):
            enrollment = patient_enroll(
                patient=self.patient,
                acting_user=self.crc,
                enrolled_on=self.start,
                first_treatment_date=self.start,
            )
        self.builder.enrolled_at_site[ts.pk] = self.builder.enrolled_at_site.get(ts.pk, 0) + 1
        self.follow(enrollment)

    def follow(self, enrollment: object) -> None:
        from patients.services import (
            assessment_record_baseline,
            patient_complete,
            patient_mark_lost,
            patient_record_death,
            visit_submit,
        )
        from patients.services.consent import consent_withdraw

        patient, crc, rng = self.patient, self.crc, self.rng
        arm_a = enrollment.arm.code == "A"
        profile = rng.choices(
            ["responder", "stable", "progressor"], weights=[60, 30, 10] if arm_a else [30, 45, 25]
        )[0]
        sizes = [rng.randint(22, 58) for _ in range(rng.choice([1, 2, 2, 3]))]
        organs = ["liver", "liver", "lung"]
        lesions = [
            {
                "organ": organs[i],
                "location": f"segment {rng.randint(2, 8)}" if i < 2 else "right lower lobe",
                "diameter_mm": mm,
                "target": True,
                "nodal": False,
            }
            for i, mm in enumerate(sizes)
        ]
        lesions.append(
            {
                "organ": "lymph node",
                "location": "hepatic hilum",
                "diameter_mm": 12,
                "target": False,
                "nodal": True,
            }
        )
        with at(self.start):
            assessment_record_baseline(
                patient=patient,
                acting_user=crc,
                method="CT",
                assessment_date=self.start - datetime.timedelta(days=3),
                lesions=lesions,
            )
        ends = {"died": 0.55, "lost": 0.6, "withdrawn": 0.5, "completed": 0.9}
        span = (self.today - self.start).days
        stop_day = int(span * ends[self.scenario]) if self.scenario in ends else span
        factor, progressed, imaging = 1.0, False, 0
        visits = list(patient.visits.select_related("definition").order_by("scheduled_date"))
        for i, visit in enumerate(visits):
            day = (visit.scheduled_date - self.start).days
            if visit.scheduled_date >= self.today or day > stop_day:
                break
            if self.scenario == "on_study" and i == len(visits) - 1:
                break
            if self.scenario == "on_study" and rng.random() < 0.08:
                continue  # left planned: shows up as overdue on the home page
            with at(visit.scheduled_date):
                visit_submit(
                    visit=visit,
                    acting_user=crc,
                    actual_date=visit.scheduled_date,
                    vital_status="alive",
                    ecog=rng.choice([0, 1, 1]),
                    ae_review_done=True,
                    notes="",
                )
                if visit.definition and visit.definition.tumor_assessment and not progressed:
                    imaging += 1
                    factor = self.next_factor(profile, factor, imaging)
                    progressed = factor >= 1.25
                    self.followup(visit, sizes, factor, progressed)
                if rng.random() < 0.12:
                    self.adverse_event(visit)
        end = self.start + datetime.timedelta(days=max(stop_day, 1))
        end = min(end, self.today - datetime.timedelta(days=1))
        patient.refresh_from_db()
        with at(end):
            if self.scenario == "died":
                patient_record_death(
                    patient=patient,
                    acting_user=crc,
                    death_date=end,
                    reason="Death from disease progression",
                )
            elif self.scenario == "lost":
                patient_mark_lost(
                    patient=patient,
                    acting_user=crc,
                    last_known_alive_date=patient.last_known_alive_date or self.start,
                    reason="No answer to calls or letters since the last visit",
                )
            elif self.scenario == "withdrawn":
                consent_withdraw(
                    consent=patient.consents.first(),
                    acting_user=crc,
                    withdrawn_on=end,
                    reason="Patient decided to return to their home country",
                )
            elif self.scenario == "completed":
                patient_complete(
                    patient=patient,
                    acting_user=crc,
                    on_date=end,
                    reason="Completed protocol treatment and follow-up",
                )

    @staticmethod
    def next_factor(profile: str, factor: float, n: int) -> float:
        if profile == "responder":
            return max(0.35, factor * (0.72 if n <= 2 else 0.95))
        if profile == "stable":
            return factor * (0.93 if n % 2 else 1.04)
        return factor * 1.3

    def followup(self, visit: object, sizes: list[int], factor: float, progressed: bool) -> None:
        from patients.services import assessment_record_followup

        measurements = []
        for i, mm in enumerate(sizes, start=1):
            value = round(mm * factor, 1)
            if value < 5:
                measurements.append({"lesion": f"T{i}", "state": "disappeared"})
            else:
                measurements.append({"lesion": f"T{i}", "diameter_mm": value})
        assessment_record_followup(
            patient=self.patient,
            acting_user=self.crc,
            assessment_date=visit.scheduled_date,
            method=self.rng.choice(["CT", "CT", "MRI"]),
            measurements=measurements,
            non_target_status="PD" if progressed else "NON_CR_NON_PD",
            new_lesions="unequivocal" if progressed and self.rng.random() < 0.5 else "none",
            visit=visit,
        )

    def adverse_event(self, visit: object) -> None:
        from patients.services import adverse_event_record
        from patients.services.safety import ae_interventions

        term, culprit = AE_TERMS[self.rng.randrange(len(AE_TERMS))]
        grade = self.rng.choice([1, 1, 2, 2, 3])
        serious = grade == 3 and self.rng.random() < 0.4
        causality = {
            iv.pk: ("probable" if iv.name == culprit else "unlikely")
            for iv in ae_interventions(self.patient)
        }
        adverse_event_record(
            patient=self.patient,
            acting_user=self.crc,
            term=term,
            grade=grade,
            serious=serious,
            serious_criteria=["hospitalisation"] if serious else [],
            onset_date=visit.scheduled_date - datetime.timedelta(days=2),
            resolution_date=None,
            outcome="recovering",
            action_taken="reduced" if grade >= 2 else "none",
            visit=visit,
            causality=causality,
        )
