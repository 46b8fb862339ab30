"""The home page's monitoring sections, by what the user may do.

- monitor / data manager (``RAISE_QUERY``): unresolved queries by site and age, the SDV
  to-do of their trials, and records changed since their last visit to each site;
- site investigator (``SIGN_OFF``): casebooks to sign, signatures invalidated by a
  change, serious adverse events awaiting the expectedness assessment;
- coordinator / investigator (``ANSWER_QUERY``): open queries of their site.
"""

from __future__ import annotations

from typing import Any

from sites.roles import Perm
from sites.scoping import has_perm

from . import selectors
from .models import DataQuery


def monitoring_home(user: Any) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if has_perm(user, Perm.RAISE_QUERY):
        context["monitor_home"] = {
            "aging": selectors.aging_report(user),
            "changed": selectors.changed_since_last_visit(user),
        }
    if has_perm(user, Perm.SIGN_OFF):
        lists = selectors.to_sign(user)
        context["investigator_home"] = {
            "unsigned": list(lists["unsigned"][:50]),
            "unsigned_count": lists["unsigned"].count(),
            "invalidated": list(lists["invalidated"][:50]),
            "saes": list(selectors.saes_awaiting_assessment(user)[:50]),
        }
    if has_perm(user, Perm.ANSWER_QUERY):
        context["show_site_queries"] = True
        context["site_queries"] = list(
            selectors.queries_for(user, {"status": DataQuery.Status.OPEN})[:50]
        )
    return context
