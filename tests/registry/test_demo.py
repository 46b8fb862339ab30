"""The registry demo: realistic mix, history for every row, idempotent."""

from __future__ import annotations

from registry.demo import seed_registry
from registry.models import Fusion, RegistryPatient, StagingRecord, Tumour, Variant

from ..factories import SiteFactory


def test_demo_registry_is_realistic_and_idempotent(db):
    SiteFactory(code="D1")
    SiteFactory(code="D2")
    assert seed_registry(patients=400) == 400
    assert RegistryPatient.objects.count() == 400
    assert RegistryPatient.history.count() == 400  # bulk path still writes history
    assert Tumour.history.count() == Tumour.objects.count() == 400
    hcc = Tumour.objects.filter(category="hcc").count()
    icca = Tumour.objects.filter(category="icca").count()
    assert 0.6 < hcc / 400 < 0.85 and icca > 20
    fgfr2 = Fusion.objects.filter(gene_5="FGFR2").count()
    idh1 = Variant.objects.filter(gene="IDH1").count()
    assert 0 < fgfr2 < icca * 0.3 and 0 < idh1 < icca * 0.3
    assert (
        StagingRecord.objects.filter(system="BCLC").count()
        == hcc + Tumour.objects.filter(category="chcc_cca").count()
    )
    assert seed_registry(patients=400) == 0  # again: nothing new
    assert RegistryPatient.objects.count() == 400


def test_demo_consent_tiers_and_a_data_request_half_way(db):
    from research.models import DataRequest
    from research.seed import seed_research

    SiteFactory(code="D1")
    SiteFactory(code="D2")
    seed_registry(patients=200)
    broad = RegistryPatient.objects.filter(consent_research=True).count()
    genomic = RegistryPatient.objects.filter(consent_genomic=True).count()
    unasked = RegistryPatient.objects.filter(consent_date__isnull=True).count()
    assert 150 < broad < 200 and 0 < genomic < broad and 0 < unasked < 40
    assert not RegistryPatient.objects.filter(consent_genomic=True, consent_research=False)
    request = seed_research()
    assert request is not None and request.status == DataRequest.Status.PENDING
    assert [(a.site.code, a.decision) for a in request.approvals.select_related("site")] == [
        ("D1", "approved"),
        ("D2", "pending"),
    ]
    assert seed_research() == request  # again: nothing new
    assert DataRequest.objects.count() == 1
