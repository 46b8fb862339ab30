"""Roles and what each may do. The README's role table is generated from this file's
content by hand: keep them in step.

Visibility (which records a role sees) is the scope in ``access.scoping``, which
allocation details it sees is ``access.blinding``; this module is about actions.
"""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COORDINATOR = "coordinator", _("Trial coordinator")
    SITE_INVESTIGATOR = "site_investigator", _("Site investigator")
    LEAD_INVESTIGATOR = "lead_investigator", _("Lead investigator")
    MONITOR = "monitor", _("Monitor")
    DATA_MANAGER = "data_manager", _("Data manager")
    ADMINISTRATOR = "administrator", _("Administrator")
    CENTER_ABSTRACTOR = "center_abstractor", _("Center data abstractor")
    CENTER_INVESTIGATOR = "center_investigator", _("Center investigator")
    CENTER_STEWARD = "center_steward", _("Center data steward")
    NETWORK_RESEARCHER = "network_researcher", _("Network researcher (aggregates only)")


SITE_ROLES = frozenset({Role.COORDINATOR, Role.SITE_INVESTIGATOR})
TRIAL_ROLES = frozenset({Role.LEAD_INVESTIGATOR, Role.MONITOR})
GLOBAL_ROLES = frozenset({Role.DATA_MANAGER, Role.ADMINISTRATOR})
#: Roles attached to a center (``Membership.site``) whatever trial the person works on:
#: the national registry's staff. They see their center's registry records only.
CENTER_ROLES = frozenset({Role.CENTER_ABSTRACTOR, Role.CENTER_INVESTIGATOR, Role.CENTER_STEWARD})
#: Network-level roles on nothing in particular that see no row, only aggregates.
NETWORK_ROLES = frozenset({Role.NETWORK_RESEARCHER})


class Perm(StrEnum):
    VIEW_IDENTITY = "view_identity"  # names, contacts, document numbers
    REGISTER_PATIENT = "register_patient"
    EDIT_PATIENT = "edit_patient"
    ENTER_CLINICAL_DATA = "enter_clinical_data"  # screening, consent, visits, AEs
    ENROLL = "enroll"
    SIGN_OFF = "sign_off"
    VIEW_DASHBOARD = "view_dashboard"
    VIEW_UNBLINDED = "view_unblinded"
    EMERGENCY_UNBLIND = "emergency_unblind"
    RAISE_QUERY = "raise_query"  # raise, close, cancel and re-open data queries
    ANSWER_QUERY = "answer_query"  # answer a query on the site's data
    VERIFY_SOURCE = "verify_source"  # source data verification
    LOCK_DATA = "lock_data"  # freeze / lock and unlock casebooks, sites, trials
    CONFIGURE_TRIAL = "configure_trial"
    MANAGE_STAFF = "manage_staff"
    EXPORT = "export"
    # the national registry (center roles); distinct from the trial permissions above so a
    # center role never gains anything on trial data, and the reverse
    VIEW_REGISTRY = "view_registry"  # the center's registry records
    VIEW_REGISTRY_IDENTITY = "view_registry_identity"  # names and documents in the registry
    EDIT_REGISTRY = "edit_registry"  # enter and correct registry records
    IMPORT_REGISTRY = "import_registry"  # CSV / FHIR bulk import
    VIEW_REGISTRY_AGGREGATES = "view_registry_aggregates"  # network-wide counts, no rows
    REQUEST_EXTRACT = "request_extract"  # ask for a governed row-level research extract
    APPROVE_EXTRACT = "approve_extract"  # decide a data request for one's own center


ROLE_PERMS: dict[str, frozenset[Perm]] = {
    Role.COORDINATOR: frozenset(
        {
            Perm.VIEW_IDENTITY,
            Perm.REGISTER_PATIENT,
            Perm.EDIT_PATIENT,
            Perm.ENTER_CLINICAL_DATA,
            Perm.ENROLL,
            Perm.ANSWER_QUERY,
        }
    ),
    Role.SITE_INVESTIGATOR: frozenset(
        {
            Perm.VIEW_IDENTITY,
            Perm.REGISTER_PATIENT,
            Perm.EDIT_PATIENT,
            Perm.ENTER_CLINICAL_DATA,
            Perm.ENROLL,
            Perm.SIGN_OFF,
            Perm.VIEW_DASHBOARD,
            Perm.EMERGENCY_UNBLIND,
            Perm.ANSWER_QUERY,
        }
    ),
    Role.LEAD_INVESTIGATOR: frozenset(
        {Perm.VIEW_DASHBOARD, Perm.VIEW_UNBLINDED, Perm.EMERGENCY_UNBLIND, Perm.EXPORT}
    ),
    Role.MONITOR: frozenset(
        {Perm.VIEW_IDENTITY, Perm.RAISE_QUERY, Perm.VERIFY_SOURCE, Perm.VIEW_DASHBOARD}
    ),
    Role.DATA_MANAGER: frozenset(
        {
            Perm.CONFIGURE_TRIAL,
            Perm.EXPORT,
            Perm.VIEW_DASHBOARD,
            Perm.RAISE_QUERY,
            Perm.LOCK_DATA,
            Perm.VIEW_REGISTRY,
            Perm.VIEW_REGISTRY_AGGREGATES,
        }
    ),
    Role.ADMINISTRATOR: frozenset({Perm.CONFIGURE_TRIAL, Perm.MANAGE_STAFF, Perm.VIEW_DASHBOARD}),
    Role.CENTER_ABSTRACTOR: frozenset(
        {Perm.VIEW_REGISTRY, Perm.VIEW_REGISTRY_IDENTITY, Perm.EDIT_REGISTRY, Perm.IMPORT_REGISTRY}
    ),
    Role.CENTER_INVESTIGATOR: frozenset(
        {
            Perm.VIEW_REGISTRY,
            Perm.VIEW_REGISTRY_IDENTITY,
            Perm.EDIT_REGISTRY,
            Perm.VIEW_REGISTRY_AGGREGATES,
            Perm.REQUEST_EXTRACT,
        }
    ),
    Role.CENTER_STEWARD: frozenset(
        {
            Perm.VIEW_REGISTRY,
            Perm.VIEW_REGISTRY_IDENTITY,
            Perm.EDIT_REGISTRY,
            Perm.IMPORT_REGISTRY,
            Perm.VIEW_REGISTRY_AGGREGATES,
            Perm.APPROVE_EXTRACT,
        }
    ),
    Role.NETWORK_RESEARCHER: frozenset({Perm.VIEW_REGISTRY_AGGREGATES, Perm.REQUEST_EXTRACT}),
}
