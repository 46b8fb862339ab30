from __future__ import annotations

from sites.scoping import ScopedQuerySet


class PatientChildQuerySet(ScopedQuerySet):
    """Records that hang on a patient are scoped through the patient's trial-site."""

    scope_trial_field = "patient__trial_site__trial"
    scope_trial_site_field = "patient__trial_site"
