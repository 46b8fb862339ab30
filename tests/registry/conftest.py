"""Registry personas: center roles at two centers, and a registry patient at each."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from registry.services import registry_patient_register, tumour_record
from sites.roles import Role

from ..api.conftest import api_for  # noqa: F401  (the API client fixture)
from ..factories import MembershipFactory, SiteFactory, UserFactory

D = datetime.date

REGISTRY_PATIENT = dict(
    full_name="李娜",
    id_document_type="resident_id",
    id_document_number="11010519491231002X",
    sex="F",
    birth_date=D(1960, 5, 1),
    nationality="CN",
    residence_region="Shanghai",
    hbv=True,
    hcv=False,
)
EXPAT_PATIENT = dict(
    full_name="John Smith",
    id_document_type="passport",
    id_document_number="P9876543",
    sex="M",
    birth_date=D(1958, 2, 3),
    nationality="GB",
    is_expatriate=True,
    residence_region="Beijing",
)
HCC = dict(
    category="hcc",
    topography="C22.0",
    morphology="8170/3",
    diagnosis_date=D(2025, 3, 1),
    basis="histology",
    focality="unifocal",
    tumour_count=1,
    largest_size_mm=45,
    vascular_invasion="none",
    extrahepatic_invasion=False,
    peritoneum_perforated=False,
    nodes_positive=False,
    metastatic_sites=[],
)


def center_persona(username: str, role: str, site: Any) -> Any:
    user = UserFactory(username=username)
    MembershipFactory(user=user, role=role, site=site, trial=None, trial_site=None)
    return user


@pytest.fixture
def center_a(db: Any) -> Any:
    return SiteFactory(code="CA", name="Center A")


@pytest.fixture
def center_b(db: Any) -> Any:
    return SiteFactory(code="CB", name="Center B")


@pytest.fixture
def abstractor_a(center_a: Any) -> Any:
    return center_persona("abs_a", Role.CENTER_ABSTRACTOR, center_a)


@pytest.fixture
def abstractor_b(center_b: Any) -> Any:
    return center_persona("abs_b", Role.CENTER_ABSTRACTOR, center_b)


@pytest.fixture
def center_investigator_a(center_a: Any) -> Any:
    return center_persona("cinv_a", Role.CENTER_INVESTIGATOR, center_a)


@pytest.fixture
def researcher(db: Any) -> Any:
    user = UserFactory(username="researcher")
    MembershipFactory(user=user, role=Role.NETWORK_RESEARCHER, trial=None, trial_site=None)
    return user


@pytest.fixture
def rpatient_a(center_a: Any, abstractor_a: Any) -> Any:
    return registry_patient_register(site=center_a, acting_user=abstractor_a, **REGISTRY_PATIENT)


@pytest.fixture
def rpatient_b(center_b: Any, abstractor_b: Any) -> Any:
    return registry_patient_register(site=center_b, acting_user=abstractor_b, **EXPAT_PATIENT)


@pytest.fixture
def tumour_a(rpatient_a: Any, abstractor_a: Any) -> Any:
    return tumour_record(patient=rpatient_a, acting_user=abstractor_a, **HCC)
