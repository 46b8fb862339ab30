"""Registry records are read in the admin (scoped by center) and written through the
registry pages, API and importer (their services); the actionability table is edited
here by data managers."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from sites.admin_base import ScopedAdmin

from . import models


class ReadOnlyRegistryAdmin(ScopedAdmin):
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False


@admin.register(models.RegistryPatient)
class RegistryPatientAdmin(ReadOnlyRegistryAdmin):
    list_display = ("record_number", "site", "sex", "birth_date", "national_pseudonym")
    list_filter = ("site",)
    search_fields = ("record_number", "national_pseudonym")
    exclude = ("full_name", "id_document_number")  # identity is shown on the registry page


for model in (
    models.Tumour,
    models.StagingRecord,
    models.PathologyReport,
    models.GenomicTest,
    models.Variant,
    models.Fusion,
    models.CopyNumberChange,
    models.ImagingStudy,
    models.LiradsObservation,
    models.Treatment,
    models.FollowUp,
    models.ImportJob,
):
    admin.site.register(model, ReadOnlyRegistryAdmin)


@admin.register(models.ActionabilityRule)
class ActionabilityRuleAdmin(ScopedAdmin):
    list_display = ("gene", "kind", "alteration", "level", "therapy", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("gene", "therapy")
