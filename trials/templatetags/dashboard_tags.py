"""``{% can_view_dashboard trial as can %}``: whether to link to the trial's dashboard."""

from __future__ import annotations

from typing import Any

from django import template

from sites.roles import Perm
from sites.scoping import has_perm

register = template.Library()


@register.simple_tag(takes_context=True)
def can_view_dashboard(context: Any, trial: Any) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return has_perm(user, Perm.VIEW_DASHBOARD, trial=trial)
