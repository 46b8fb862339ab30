"""Admin of the public texts (one tab of fields per language, django-modeltranslation)
and of the clinics; referrals are handled in the inbox, not here."""

from __future__ import annotations

from django.contrib import admin
from modeltranslation.admin import TranslationAdmin, TranslationTabularInline

from sites.admin_base import ScopedAdmin

from .models import (
    CriterionPlainText,
    PrescreenOption,
    PrescreenQuestion,
    SiteClinic,
    TrialPublicPage,
)


@admin.register(TrialPublicPage)
class TrialPublicPageAdmin(TranslationAdmin, ScopedAdmin):
    list_display = ("trial", "title", "is_published")


@admin.register(SiteClinic)
class SiteClinicAdmin(TranslationAdmin, ScopedAdmin):
    list_display = ("trial_site", "city", "daily_capacity", "weeks_ahead", "accepts_requests")


@admin.register(CriterionPlainText)
class CriterionPlainTextAdmin(TranslationAdmin, ScopedAdmin):
    list_display = ("criterion", "text")


class PrescreenOptionInline(TranslationTabularInline):
    model = PrescreenOption
    extra = 0


@admin.register(PrescreenQuestion)
class PrescreenQuestionAdmin(TranslationAdmin, ScopedAdmin):
    list_display = ("criterion", "field", "kind", "text", "order")
    inlines = [PrescreenOptionInline]
