"""The national hepato-biliary cancer registry: one record per patient per center."""

from .clinical import Category, FollowUp, StagingRecord, Treatment, Tumour
from .genomics import ActionabilityRule, CopyNumberChange, Fusion, GenomicTest, Variant
from .imaging import ImagingStudy, LiradsObservation
from .imports import ImportJob
from .pathology import PathologyReport
from .patient import RegistryPatient

__all__ = [
    "ActionabilityRule",
    "Category",
    "CopyNumberChange",
    "FollowUp",
    "Fusion",
    "GenomicTest",
    "ImagingStudy",
    "ImportJob",
    "LiradsObservation",
    "PathologyReport",
    "RegistryPatient",
    "StagingRecord",
    "Treatment",
    "Tumour",
    "Variant",
]
