from __future__ import annotations

from django_countries.serializer_fields import CountryField
from rest_framework import serializers

from ..models import Site, TrialSite


class SiteSerializer(serializers.ModelSerializer):
    country = CountryField()

    class Meta:
        model = Site
        fields = [
            "id",
            "code",
            "name",
            "name_local",
            "city",
            "country",
            "time_zone",
            "clinic_weekdays",
        ]


class TrialSiteSerializer(serializers.ModelSerializer):
    site_code = serializers.CharField(source="site.code", read_only=True)

    class Meta:
        model = TrialSite
        fields = [
            "id",
            "trial",
            "site",
            "site_code",
            "status",
            "ethics_approval_ref",
            "ethics_approval_date",
            "activation_date",
            "enrollment_target",
            "enrollment_cap",
        ]
