"""Protocol reference data a client needs to run the workflows: consent versions (to
record consent) and the visit schedule (to find a visit by its code). Read-only; data
managers configure them in the admin."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from api.base import ScopedViewSetMixin
from api.docs import inline_choice_field

from ..choices import Language
from ..models import ConsentVersion, VisitDefinition


class ConsentVersionSerializer(serializers.ModelSerializer):
    language = inline_choice_field(Language.choices, read_only=True)

    class Meta:
        model = ConsentVersion
        fields = [
            "id",
            "trial",
            "version",
            "language",
            "ethics_approval_ref",
            "approved_on",
            "effective_from",
            "superseded_on",
            "requires_reconsent",
        ]


class VisitDefinitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = VisitDefinition
        fields = [
            "id",
            "trial",
            "code",
            "name",
            "anchor",
            "day_offset",
            "window_before",
            "window_after",
            "tumor_assessment",
            "labs",
            "ae_review",
            "order",
        ]


class ConsentVersionViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Ethics-approved consent documents of your trials (pass the id when recording
    consent)."""

    queryset = ConsentVersion.objects.all()
    serializer_class = ConsentVersionSerializer
    filterset_fields = ["trial", "language", "requires_reconsent"]
    ordering_fields = ["effective_from", "id"]
    ordering = ["trial", "language", "-effective_from"]


class VisitDefinitionViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The protocol visit schedule of your trials."""

    queryset = VisitDefinition.objects.all()
    serializer_class = VisitDefinitionSerializer
    filterset_fields = ["trial", "anchor", "tumor_assessment"]
    ordering_fields = ["order", "day_offset", "id"]
    ordering = ["trial", "order", "day_offset"]
