"""Research personas and a small network: iCCA patients with and without an FGFR2
fusion and ablation at three centers, one person registered at two centers."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from registry.services import (
    followup_record,
    fusion_record,
    genomic_test_record,
    registry_patient_register,
    treatment_record,
    tumour_record,
)
from sites.roles import Role

from ..api.conftest import api_for  # noqa: F401  (the API client fixture)
from ..factories import SiteFactory, UserFactory
from ..registry import conftest as registry_fixtures

# the registry's personas and centers, shared with these tests
center_a = registry_fixtures.center_a
center_b = registry_fixtures.center_b
abstractor_a = registry_fixtures.abstractor_a
abstractor_b = registry_fixtures.abstractor_b
center_investigator_a = registry_fixtures.center_investigator_a
researcher = registry_fixtures.researcher
center_persona = registry_fixtures.center_persona

D = datetime.date
ICCA = dict(
    category="icca",
    topography="C22.1",
    morphology="8160/3",
    diagnosis_date=D(2024, 3, 1),
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


def make_patient(
    site: Any,
    user: Any,
    n: int,
    *,
    category: str = "icca",
    fusion: bool = False,
    ablation_day: int | None = None,
    systemic_day: int | None = None,
    dead_day: int | None = None,
    document: str | None = None,
    sex: str = "M",
) -> Any:
    patient = registry_patient_register(
        site=site,
        acting_user=user,
        full_name=f"Patient {site.code} {n}",
        id_document_type="passport",
        id_document_number=document or f"P{site.code}{n:05d}",
        sex=sex,
        birth_date=D(1960, 1, 1) + datetime.timedelta(days=97 * n),
        nationality="CN",
        hbv=n % 2 == 0,
    )
    fields = dict(ICCA)
    if category == "hcc":
        fields.update(category="hcc", topography="C22.0", morphology="8170/3")
    tumour = tumour_record(patient=patient, acting_user=user, **fields)
    dx = tumour.diagnosis_date
    test = genomic_test_record(
        patient=patient,
        tumour=tumour,
        acting_user=user,
        kind="panel",
        lab="Lab",
        specimen="tissue",
        test_date=dx + datetime.timedelta(days=10),
        genes_covered=["FGFR2", "IDH1"],
        tmb=3 + n % 10,
        panel_size_mb=1.2,
    )
    if fusion:
        fusion_record(test=test, acting_user=user, gene_5="FGFR2", gene_3="BICC1")
    if ablation_day is not None:
        treatment_record(
            patient=patient,
            tumour=tumour,
            acting_user=user,
            kind="mwa",
            start_date=dx + datetime.timedelta(days=ablation_day),
            intent="curative",
        )
    if systemic_day is not None:
        treatment_record(
            patient=patient,
            tumour=tumour,
            acting_user=user,
            kind="systemic",
            start_date=dx + datetime.timedelta(days=systemic_day),
            intent="palliative",
            line=1,
            regimen="GemCis",
        )
    last = dx + datetime.timedelta(days=dead_day if dead_day is not None else 400 + 30 * n)
    followup_record(
        patient=patient,
        acting_user=user,
        contact_date=last,
        vital_status="dead" if dead_day is not None else "alive",
        status_source="record",
        death_date=last if dead_day is not None else None,
        cause_of_death="cancer" if dead_day is not None else "",
    )
    return patient


@pytest.fixture
def center_c(db: Any) -> Any:
    return SiteFactory(code="CC", name="Center C")


@pytest.fixture
def abstractor_c(center_c: Any) -> Any:
    return center_persona("abs_c", Role.CENTER_ABSTRACTOR, center_c)


@pytest.fixture
def steward_a(center_a: Any) -> Any:
    return center_persona("steward_a", Role.CENTER_STEWARD, center_a)


@pytest.fixture
def researcher_2(db: Any) -> Any:
    from ..factories import MembershipFactory

    user = UserFactory(username="researcher2")
    MembershipFactory(user=user, role=Role.NETWORK_RESEARCHER, trial=None, trial_site=None)
    return user


@pytest.fixture
def network(center_a, center_b, center_c, abstractor_a, abstractor_b, abstractor_c) -> dict:
    """FGFR2-fusion iCCA with ablation: 7 at A, 3 at B (one of them also at A, the same
    person), 0 at C; plus iCCA without fusion and HCC elsewhere."""
    made: dict[str, list[Any]] = {"a": [], "b": [], "c": []}
    for i in range(7):
        made["a"].append(
            make_patient(
                center_a,
                abstractor_a,
                i,
                fusion=True,
                ablation_day=30 + i,
                dead_day=(200 + 50 * i) if i % 2 else None,
            )
        )
    for i in range(3):
        document = "PCA00000" if i == 0 else None  # the first A patient, seen again at B
        made["b"].append(
            make_patient(center_b, abstractor_b, i, fusion=True, ablation_day=20, document=document)
        )
    for i in range(4):  # no fusion, late ablation after systemic therapy
        made["b"].append(
            make_patient(center_b, abstractor_b, 10 + i, ablation_day=200, systemic_day=60)
        )
    for i in range(6):
        made["c"].append(make_patient(center_c, abstractor_c, i, category="hcc", sex="F"))
    return made
