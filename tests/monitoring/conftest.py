"""An enrolled patient at site A with a submitted D0 visit, for the monitoring tests."""

from __future__ import annotations

from typing import Any

import pytest

from patients.services.visits import visit_submit

from ..patients.helpers_visits import enroll, setup_protocol, submit_data, visit


@pytest.fixture
def protocol(trial: Any) -> dict[str, Any]:
    return setup_protocol(trial)


@pytest.fixture
def enrolled_a(patient_a: Any, coordinator_site_a: Any, protocol: dict[str, Any]) -> Any:
    enroll(patient_a, coordinator_site_a, protocol["arm"])
    return patient_a


@pytest.fixture
def visit_a(enrolled_a: Any, coordinator_site_a: Any) -> Any:
    d0 = visit(enrolled_a, "D0")
    return visit_submit(
        visit=d0,
        acting_user=coordinator_site_a,
        actual_date=d0.scheduled_date,
        **submit_data(ecog=1),
    )


@pytest.fixture
def signer(investigator_site_a: Any) -> Any:
    investigator_site_a.set_password("sign-Here-2026")
    investigator_site_a.first_name, investigator_site_a.last_name = "Li", "Na"
    investigator_site_a.save()
    return investigator_site_a
