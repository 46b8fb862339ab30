"""Subject lifecycle models, one module per stage."""

from .consent import Consent
from .ctcae import CtcaeTerm
from .enrollment import Enrollment, UnblindingEvent
from .patient import Language, Patient, PatientQuerySet
from .safety import AdverseEvent, AdverseEventCausality
from .screening import Screening
from .tumor import Lesion, LesionMeasurement, ResponseSummary, TumorAssessment
from .visits import Visit

__all__ = [
    "AdverseEvent",
    "AdverseEventCausality",
    "Consent",
    "CtcaeTerm",
    "Enrollment",
    "Language",
    "Lesion",
    "LesionMeasurement",
    "Patient",
    "PatientQuerySet",
    "ResponseSummary",
    "Screening",
    "TumorAssessment",
    "UnblindingEvent",
    "Visit",
]
