from __future__ import annotations

from rest_framework import viewsets

from api.base import ScopedViewSetMixin

from ..models import Site, TrialSite
from . import serializers


class SiteViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Hospitals taking part in your trials (your own site for site roles)."""

    queryset = Site.objects.all()
    serializer_class = serializers.SiteSerializer
    filterset_fields = ["country", "city"]
    ordering = ["code"]


class TrialSiteViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Site participation in a trial: status, ethics approval, targets and cap."""

    queryset = TrialSite.objects.all()
    serializer_class = serializers.TrialSiteSerializer
    filterset_fields = ["trial", "site", "status"]
    ordering = ["trial", "site__code"]

    def optimize(self, qs):  # noqa: ANN001, ANN201
        return qs.select_related("site")
