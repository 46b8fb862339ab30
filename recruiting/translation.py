"""Translated fields (django-modeltranslation) and the history of the translated models.

History is registered here, after the translation fields exist, so the historical
models copy every language column (simple-history's documented way with
modeltranslation); the other models use ``AuditedHistory`` as a field.
"""

from modeltranslation.translator import TranslationOptions, register
from simple_history import register as history_register
from simple_history.models import HistoricalRecords

from audit.history import AuditHistoryBase, acting_user

from .models import (
    CriterionPlainText,
    PrescreenOption,
    PrescreenQuestion,
    SiteClinic,
    TrialPublicPage,
)


@register(TrialPublicPage)
class TrialPublicPageTranslation(TranslationOptions):
    fields = ("title", "summary", "participation", "who_can_join")


@register(SiteClinic)
class SiteClinicTranslation(TranslationOptions):
    fields = ("city", "address", "clinic_name", "doctor")


@register(CriterionPlainText)
class CriterionPlainTextTranslation(TranslationOptions):
    fields = ("text",)


@register(PrescreenQuestion)
class PrescreenQuestionTranslation(TranslationOptions):
    fields = ("text", "help_text")


@register(PrescreenOption)
class PrescreenOptionTranslation(TranslationOptions):
    fields = ("label",)


for _model in (
    TrialPublicPage,
    SiteClinic,
    CriterionPlainText,
    PrescreenQuestion,
    PrescreenOption,
):
    history_register(
        _model,
        records_class=HistoricalRecords,
        bases=[AuditHistoryBase],
        get_user=acting_user,
        cascade_delete_history=False,
        excluded_fields=[],
    )
