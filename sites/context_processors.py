from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .roles import Perm, Role
from .scoping import has_perm, scope_for


def roles(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    labels = dict(Role.choices)
    scope = scope_for(user)
    memberships = scope.memberships
    return {
        # the trial menus (patients, trials, safety, queries) for those who work on a
        # trial; center and network roles of the registry have no trial data to show
        "nav_trials": user.is_superuser
        or scope.everything
        or bool(scope.trial_ids or scope.trial_site_ids),
        "user_roles": [
            {
                "role": labels.get(m.role, m.role),
                "where": str(
                    m.trial_site.site.code
                    if m.trial_site_id
                    else (
                        m.trial.protocol_code if m.trial_id else (m.site.code if m.site_id else "")
                    )
                ),
            }
            for m in memberships
        ],
        "is_superuser": user.is_superuser,
        "nav_enters_data": has_perm(user, Perm.ENTER_CLINICAL_DATA),
        "nav_exports": has_perm(user, Perm.EXPORT),
        "nav_dashboard": has_perm(user, Perm.VIEW_DASHBOARD),
        "nav_registry": has_perm(user, Perm.VIEW_REGISTRY),
        "nav_registry_aggregates": has_perm(user, Perm.VIEW_REGISTRY_AGGREGATES),
    }
