"""Monitoring rows created directly, for the URL walk and the API permission matrix."""

from __future__ import annotations

from typing import Any


def monitoring_objects(patient: Any, visit: Any) -> dict[str, Any]:
    """A query, a verification, a signature and a (released) lock on ``patient``'s data."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from monitoring.models import DataQuery, Lock, Signature, SourceVerification

    where = {
        "trial": patient.trial_site.trial,
        "trial_site": patient.trial_site,
        "patient": patient,
        "content_type": ContentType.objects.get_for_model(visit),
        "object_id": visit.pk,
        "record_label": f"{patient.subject_id} visit",
    }
    now = timezone.now()
    return {
        "monitoring.dataquery": DataQuery.objects.create(**where, text="Walk query"),
        "monitoring.sourceverification": SourceVerification.objects.create(
            **where, verified_at=now
        ),
        "monitoring.signature": Signature.objects.create(
            **where,
            level="record",
            meaning="approved",
            signer_username="pi",
            printed_name="PI",
            signed_at=now,
            content_hash="0" * 64,
        ),
        "monitoring.lock": Lock.objects.create(
            trial=patient.trial_site.trial,
            trial_site=patient.trial_site,
            patient=patient,
            level="casebook",
            reason="Walk",
            locked_at=now,
            released_at=now,
            release_reason="Walk",
        ),
    }
