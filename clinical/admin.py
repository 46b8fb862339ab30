"""Reference data of the clinical forms, configured by data managers: laboratory
reference ranges per site and the planned regimens of the drugs. Clinical records are
entered on the visit pages (through the services) and read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sites.admin_base import ScopedAdmin

from .models import (
    ConcomitantMedication,
    Exposure,
    LabReferenceRange,
    LabResult,
    PlannedRegimen,
    Procedure,
    VitalSigns,
)


@admin.register(LabReferenceRange)
class LabReferenceRangeAdmin(ScopedAdmin):
    list_display = ("site", "analyte", "sex", "lower", "upper", "effective_from", "effective_to")
    list_filter = ("analyte", "site")


@admin.register(PlannedRegimen)
class PlannedRegimenAdmin(ScopedAdmin):
    list_display = ("intervention", "route", "dose_mg", "weight_threshold_kg", "interval_days")


class ReadOnlyClinicalAdmin(ScopedAdmin):
    """Records are entered on the visit pages; here they can be looked up (scoped)."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LabResult)
class LabResultAdmin(ReadOnlyClinicalAdmin):
    list_display = ("patient", "analyte", "collected_on", "value", "unit", "flag", "ctcae_grade")
    list_filter = ("panel", "analyte", "ctcae_grade")


@admin.register(VitalSigns)
class VitalSignsAdmin(ReadOnlyClinicalAdmin):
    list_display = ("patient", "measured_on", "systolic_bp", "diastolic_bp", "weight_kg")


@admin.register(Exposure)
class ExposureAdmin(ReadOnlyClinicalAdmin):
    list_display = ("patient", "intervention", "kind", "start_date", "dose_mg", "dose_change")


@admin.register(Procedure)
class ProcedureAdmin(ReadOnlyClinicalAdmin):
    list_display = ("patient", "kind", "procedure_date", "approach", "technical_success")


@admin.register(ConcomitantMedication)
class ConcomitantMedicationAdmin(ReadOnlyClinicalAdmin):
    list_display = ("patient", "generic_name", "indication", "start_date", "prohibited_category")
