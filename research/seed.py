"""Demo research objects: a shared cohort and a data request half-way through its
approvals, so the demo shows both sides of a governed extract (the researcher's request,
a data steward's decision)."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth import get_user_model

from sites.models import Site

from . import extracts
from .cohorts import cohort_create
from .models import Cohort, DataRequest

FGFR2_ABLATION = {
    "all": [
        {"type": "diagnosis", "category": ["icca"]},
        {"type": "genomic", "alteration": "fusion", "gene": "FGFR2"},
        {"type": "treatment", "kind": ["rfa", "mwa", "cryoablation"]},
    ]
}


def seed_research(*, stdout: Any = None) -> DataRequest | None:
    """Idempotent: nothing when the demo researcher or the registry is missing, or when the
    demo request exists."""
    researcher = get_user_model().objects.filter(username="researcher").first()
    centers = list(extracts.request_centers()[:2])
    if researcher is None or len(centers) < 2:
        return None
    existing = DataRequest.objects.filter(requested_by=researcher).first()
    if existing is not None:
        return existing
    cohort = Cohort.objects.filter(owner=researcher, name="iCCA + FGFR2 fusion + ablation").first()
    if cohort is None:
        cohort = cohort_create(
            name="iCCA + FGFR2 fusion + ablation",
            description="Intrahepatic cholangiocarcinoma with an FGFR2 fusion, treated by ablation.",
            criteria=FGFR2_ABLATION,
            is_shared=True,
            acting_user=researcher,
        )
    request = extracts.request_submit(
        acting_user=researcher,
        cohort=cohort,
        title="FGFR2 fusions and ablation outcome",
        purpose=(
            "Compare recurrence-free survival after ablation in FGFR2-fused and "
            "FGFR2-wild-type iCCA; row-level data are needed for a Cox model with "
            "center as a stratum."
        ),
        ethics_committee="Lead hospital ethics committee",
        ethics_approval_number="EC-2026-118",
        ethics_approval_date=datetime.date.today() - datetime.timedelta(days=30),
        centers=centers,
        formats=["tables", "cbioportal"],
        include_genomics=True,
        hgr_approval_number="HGR-2026-0042",
    )
    first: Site = centers[0]
    steward = get_user_model().objects.filter(username=f"stew_{first.code.lower()}").first()
    if steward is not None:
        extracts.request_decide(
            acting_user=steward, data_request=request, site=first, approve=True, note="Approved"
        )
    if stdout is not None:
        stdout.write(
            f"Research demo: data request DR-{request.pk} approved by {first.code}, "
            f"waiting for stew_{centers[1].code.lower()}."
        )
    return request
