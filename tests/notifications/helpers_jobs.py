"""Building blocks for the background-job tests: an enrolled patient at site A with the
protocol of ``tests/patients/helpers_visits.py``, SAE form data, and staff with emails."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from tests.factories import MembershipFactory, UserFactory
from tests.patients.helpers_visits import DAY, as_post

SAFETY_CONTACTS = "pv@sponsor.example\n  drug.safety@cro.example  \nnot-an-address\n"


def staff(username: str, role: str, *, language: str = "en", **where: Any) -> Any:
    from sites.models import StaffProfile

    user = UserFactory(username=username)
    MembershipFactory(user=user, role=role, **where)
    if language != "en":
        StaffProfile.objects.create(user=user, preferred_language=language)
    return user


def sae_data(today: datetime.date, causality: dict[int, str], **overrides: Any) -> dict[str, Any]:
    data = {
        "term": "Liver abscess",
        "grade": 3,
        "serious": True,
        "serious_criteria": ["hospitalisation"],
        "onset_date": today - 2 * DAY,
        "resolution_date": None,
        "outcome": "recovering",
        "action_taken": "interrupted",
        "description": "Fever and abscess after cryoablation; admitted.",
        "causality": causality,
    }
    data.update(overrides)
    return data


def form_post(data: dict[str, Any]) -> dict[str, Any]:
    """Service keyword data as the adverse-event form posts it."""
    data = dict(data)
    causality = data.pop("causality")
    awareness = data.pop("awareness_at", None)
    post = as_post(data)
    post["serious_criteria"] = data["serious_criteria"]
    for pk, value in causality.items():
        post[f"causality_{pk}"] = value
    if awareness is not None:
        # The form reads times in the site's zone (Asia/Shanghai for the test sites).
        local = awareness.astimezone(zoneinfo.ZoneInfo("Asia/Shanghai"))
        post["awareness_at"] = local.strftime("%Y-%m-%dT%H:%M")
    return post


def causality_for(protocol: dict[str, Any], **relatedness: str) -> dict[int, str]:
    """Causality for arm A's interventions; unnamed ones "not_related"."""
    i = protocol["interventions"]
    out = {i[name].pk: "not_related" for name in ("Cryoablation", "Lenvatinib", "Toripalimab")}
    for name, value in relatedness.items():
        out[i[name].pk] = value
    return out
