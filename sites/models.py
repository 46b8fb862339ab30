from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from audit.history import AuditedHistory
from trials.validators import validate_code
from ui.translated import in_reader_language

from .roles import CENTER_ROLES, GLOBAL_ROLES, NETWORK_ROLES, SITE_ROLES, TRIAL_ROLES, Role
from .scoping import Scope, ScopedQuerySet

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("“%(value)s” is not a known time zone; use an IANA name such as Asia/Shanghai."),
            params={"value": value},
        )


def validate_weekdays(value: object) -> None:
    if not isinstance(value, list) or any(
        not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in value
    ):
        raise ValidationError(_("Clinic days must be weekdays numbered 0 (Monday) to 6 (Sunday)."))
    if len(set(value)) != len(value):
        raise ValidationError(_("Each clinic day may appear only once."))


class SiteQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> models.Q:
        return models.Q(
            pk__in=TrialSite.objects.filter(
                models.Q(trial__in=scope.trial_ids) | models.Q(pk__in=scope.trial_site_ids)
            ).values("site")
        ) | models.Q(pk__in=scope.center_site_ids)


class Site(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True, validators=[validate_code])
    name = models.CharField(_("name"), max_length=200)
    name_local = models.CharField(_("local name"), max_length=200, blank=True)
    city = models.CharField(_("city"), max_length=100)
    country = CountryField(_("country"), default="CN")
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    clinic_weekdays = models.JSONField(
        _("clinic days"),
        default=list,
        blank=True,
        validators=[validate_weekdays],
        help_text=_("Days on which the trial clinic runs; visits are scheduled on them."),
    )

    objects = SiteQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["code"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return f"{self.code} – {self.display_name}"

    @property
    def display_name(self) -> str:
        """The local (Chinese) name for a reader in Chinese when given."""
        return in_reader_language(self.name, self.name_local)

    # The site calendar: every "today at the site" and "the date of this moment at the
    # site" (visit windows, "not in the future", consent and registration dates, digests,
    # appointment invitations) is computed here.
    @property
    def zone(self) -> datetime.tzinfo:
        """The site's time zone. A zone the database no longer knows (the field is
        validated, so only a legacy row) falls back to the deployment's ``TIME_ZONE``."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    def local_date(self, moment: datetime.datetime) -> datetime.date:
        """The calendar date of ``moment`` at the site."""
        return moment.astimezone(self.zone).date()

    def today(self, now: datetime.datetime | None = None) -> datetime.date:
        """Today on the site's calendar (``now`` defaults to the current time)."""
        return self.local_date(now or timezone.now())

    def clinic_day_names(self) -> list[str]:
        names = dict(WEEKDAYS)
        return [str(names[d]) for d in sorted(self.clinic_weekdays or [])]


class TrialSiteQuerySet(ScopedQuerySet):
    scope_trial_field = "trial"
    scope_trial_site_field = "pk"


class TrialSite(models.Model):
    """A site's participation in a trial."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CLOSED = "closed", _("Closed")

    TRANSITIONS = {
        Status.PENDING: {Status.ACTIVE, Status.CLOSED},
        Status.ACTIVE: {Status.SUSPENDED, Status.CLOSED},
        Status.SUSPENDED: {Status.ACTIVE, Status.CLOSED},
        Status.CLOSED: set(),
    }

    trial = models.ForeignKey("trials.Trial", on_delete=models.PROTECT, related_name="trial_sites")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="trial_sites")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    ethics_approval_ref = models.CharField(
        _("ethics approval reference"), max_length=100, blank=True
    )
    ethics_approval_date = models.DateField(_("ethics approval date"), null=True, blank=True)
    activation_date = models.DateField(_("activation date"), null=True, blank=True)
    principal_investigator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("site principal investigator"),
    )
    enrollment_target = models.PositiveIntegerField(
        _("enrollment target"), default=0, validators=[MaxValueValidator(100000)]
    )
    enrollment_cap = models.PositiveIntegerField(
        _("enrollment cap"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100000)],
        help_text=_("Hard limit on enrollments at this site; empty means no cap."),
    )

    objects = TrialSiteQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["trial", "site__code"]
        constraints = [models.UniqueConstraint(fields=["trial", "site"], name="trial_site_unique")]
        verbose_name = _("trial site")
        verbose_name_plural = _("trial sites")

    def __str__(self) -> str:
        return f"{self.trial.protocol_code} @ {self.site.code}"

    def clean(self) -> None:
        errors = {}
        if self.status == self.Status.ACTIVE:
            if not self.ethics_approval_ref:
                errors["ethics_approval_ref"] = _("An active site needs its ethics approval.")
            if not self.activation_date:
                errors["activation_date"] = _("An active site needs an activation date.")
        if (
            self.enrollment_cap is not None
            and self.enrollment_target
            and self.enrollment_cap < self.enrollment_target
        ):
            errors["enrollment_cap"] = _("The cap cannot be below the enrollment target.")
        if (
            self.ethics_approval_date
            and self.activation_date
            and self.activation_date < self.ethics_approval_date
        ):
            errors["activation_date"] = _("A site cannot be activated before ethics approval.")
        if errors:
            raise ValidationError(errors)


class MembershipQuerySet(ScopedQuerySet):
    scope_trial_field = "trial"
    scope_trial_site_field = "trial_site"
    scope_site_field = "site"


class Membership(models.Model):
    """A staff role: site roles hang on a trial-site, trial roles on a trial, center roles
    (the national registry) on a center (``site``) whatever the trial; global and network
    roles on nothing."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    trial = models.ForeignKey(
        "trials.Trial", null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    trial_site = models.ForeignKey(
        TrialSite, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    site = models.ForeignKey(
        Site,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="center_memberships",
        verbose_name=_("center"),
        help_text=_("For center roles (registry): the hospital the person works for."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    granted_at = models.DateTimeField(_("granted"), auto_now_add=True)

    objects = MembershipQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        ordering = ["user__username", "role"]
        verbose_name = _("staff role")
        verbose_name_plural = _("staff roles")

    def __str__(self) -> str:
        where = self.site or self.trial_site or self.trial or _("all trials")
        return f"{self.user} – {self.get_role_display()} ({where})"

    def clean(self) -> None:
        if self.role in CENTER_ROLES:
            errors = {}
            if not self.site_id:
                errors["site"] = _("A center role belongs to a center: choose the site.")
            if self.trial_id:
                errors["trial"] = _("A center role is not tied to a trial; leave it empty.")
            if self.trial_site_id:
                errors["trial_site"] = _("A center role is not tied to a trial site.")
            if errors:
                raise ValidationError(errors)
            return
        if self.site_id:
            raise ValidationError({"site": _("Only center roles are attached to a center.")})
        if self.role in NETWORK_ROLES:
            if self.trial_id or self.trial_site_id:
                raise ValidationError(
                    {"role": _("A network role sees aggregates only; leave trial and site empty.")}
                )
            return
        if self.role in SITE_ROLES:
            if not self.trial_site_id:
                raise ValidationError({"trial_site": _("This role belongs to a trial site.")})
            self.trial_id = self.trial_site.trial_id
        elif self.role in TRIAL_ROLES:
            if not self.trial_id:
                raise ValidationError({"trial": _("This role belongs to a trial.")})
            if self.trial_site_id:
                raise ValidationError({"trial_site": _("A trial-wide role has no site.")})
        elif self.role in GLOBAL_ROLES and (self.trial_id or self.trial_site_id):
            raise ValidationError(
                {"role": _("This role applies to all trials; leave trial and site empty.")}
            )


class StaffProfileQuerySet(ScopedQuerySet):
    def scope_q(self, scope: Scope) -> models.Q:
        users = Membership.objects.filter(
            models.Q(trial__in=scope.trial_ids)
            | models.Q(trial_site__in=scope.trial_site_ids)
            | models.Q(site__in=scope.center_site_ids)
        ).values("user")
        return models.Q(user__in=users)


class StaffProfile(models.Model):
    """Per-user settings: the language notifications are written in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    preferred_language = models.CharField(
        _("language for notifications"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )

    objects = StaffProfileQuerySet.as_manager()
    history = AuditedHistory()

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return f"{self.user} ({self.preferred_language})"
