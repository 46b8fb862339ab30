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
