from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit.history import AuditedHistory
from ui.eligibility_text import translate_reason

from .base import MonitoringQuerySet, TargetedRecord, user_fk


class DataQuery(TargetedRecord):
    """A question about a record or one of its fields (a discrepancy note).

    Never deleted: it is closed or cancelled, and every step is a :class:`QueryMessage`
    (and a history row) with who, when and the text.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    TRANSITIONS = {
        Status.OPEN: {Status.ANSWERED, Status.CLOSED, Status.CANCELLED},
        Status.ANSWERED: {Status.OPEN, Status.CLOSED, Status.CANCELLED},
        Status.CLOSED: {Status.OPEN},
        Status.CANCELLED: {Status.OPEN},
    }
    UNRESOLVED = (Status.OPEN, Status.ANSWERED)

    class Origin(models.TextChoices):
        MANUAL = "manual", _("Raised by a person")
        EDIT_CHECK = "edit_check", _("Edit check")

    field_name = models.CharField(_("field"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    origin = models.CharField(
        _("origin"), max_length=10, choices=Origin.choices, default=Origin.MANUAL
    )
    edit_check = models.ForeignKey(
        "monitoring.EditCheck",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="queries",
        verbose_name=_("edit check"),
    )
    text = models.TextField(_("question"), max_length=4000)
    raised_by = user_fk(verbose_name=_("raised by"))
    raised_by_username = models.CharField(_("raised by"), max_length=150, blank=True)
    raised_at = models.DateTimeField(_("raised"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("last change"), auto_now=True)

    objects = MonitoringQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        indexes = [
            models.Index(fields=["content_type", "object_id"]),
            models.Index(fields=["trial", "status"]),
        ]
        verbose_name = _("data query")
        verbose_name_plural = _("data queries")

    def __str__(self) -> str:
        return f"Q-{self.pk}: {self.record_label}"

    @property
    def display_text(self) -> str:
        """The question in the reader's language. An edit check's query was written as
        "CODE: message (reason)" in the language active when the check ran (often a
        background job's English); it is rebuilt from the check's message in the reader's
        language and the engine's reason, translated (``ui.eligibility_text``)."""
        check = self.edit_check if self.origin == self.Origin.EDIT_CHECK else None
        if check is None:
            return self.text
        for message in (check.message, check.message_zh):
            prefix = f"{check.code}: {message} ("
            if message and self.text.startswith(prefix) and self.text.endswith(")"):
                reason = self.text[len(prefix) : -1]
                return f"{check.code}: {check.text()} ({translate_reason(reason)})"
        return self.text

    @property
    def is_unresolved(self) -> bool:
        return self.status in self.UNRESOLVED


class QueryMessageQuerySet(MonitoringQuerySet):
    scope_trial_field = "query__trial"
    scope_trial_site_field = "query__trial_site"


class QueryMessage(models.Model):
    """One step of a query's thread: raised, answered, corrected, closed, re-opened..."""

    class Action(models.TextChoices):
        RAISE = "raise", _("Raised")
        ANSWER = "answer", _("Answered")
        CORRECT = "correct", _("Answered with a correction")
        CLOSE = "close", _("Closed")
        AUTO_CLOSE = "auto_close", _("Closed: the edit check passes")
        CANCEL = "cancel", _("Cancelled")
        REOPEN = "reopen", _("Re-opened")

    query = models.ForeignKey(DataQuery, on_delete=models.PROTECT, related_name="messages")
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    text = models.TextField(_("message"), max_length=4000, blank=True)
    author = user_fk(verbose_name=_("by"))
    author_username = models.CharField(_("by"), max_length=150, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = QueryMessageQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("query message")
        verbose_name_plural = _("query messages")

    def __str__(self) -> str:
        return f"{self.get_action_display()} ({self.author_username})"

    @property
    def display_text(self) -> str:
        """What the edit check wrote (the raising question, the reason it now passes) in
        the reader's language; people's messages as they wrote them."""
        if self.author_id is not None or self.query.origin != DataQuery.Origin.EDIT_CHECK:
            return self.text
        if self.action == self.Action.RAISE:
            return self.query.display_text
        if self.action == self.Action.AUTO_CLOSE:
            return translate_reason(self.text) or ""
        return self.text
