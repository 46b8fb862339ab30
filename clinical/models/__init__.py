"""Clinical data models, one module per form."""

from .conmeds import ConcomitantMedication
from .exposure import Exposure, PlannedRegimen
from .labs import AnalyteChoice, LabReferenceRange, LabResult, Panel
from .procedures import Procedure, ProcedureComplication, ProcedureLesion
from .visit_forms import VisitFormNote
from .vitals import VitalSigns

__all__ = [
    "AnalyteChoice",
    "ConcomitantMedication",
    "Exposure",
    "LabReferenceRange",
    "LabResult",
    "Panel",
    "PlannedRegimen",
    "Procedure",
    "ProcedureComplication",
    "ProcedureLesion",
    "VisitFormNote",
    "VitalSigns",
]
