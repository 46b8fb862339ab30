from __future__ import annotations

import datetime

import factory
from django.contrib.auth import get_user_model

from sites.models import Membership, Site, TrialSite
from trials.models import Arm, Trial


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("pw-for-tests-123")


class TrialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trial

    protocol_code = factory.Sequence(lambda n: f"TRIAL{n}")
    title = "Cryoablation + lenvatinib + PD-1 in advanced iCCA"
    phase = Trial.Phase.PHASE2
    design = Trial.Design.RANDOMIZED
    blinding = Trial.Blinding.OPEN
    status = Trial.Status.RECRUITING
    planned_followup_months = 24


class ArmFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Arm

    trial = factory.SubFactory(TrialFactory)
    code = factory.Sequence(lambda n: f"A{n}")
    name = factory.Sequence(lambda n: f"Arm {n}")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    code = factory.Sequence(lambda n: f"S{n:02d}")
    name = factory.Sequence(lambda n: f"Hospital {n}")
    city = "Shanghai"
    time_zone = "Asia/Shanghai"
    clinic_weekdays = [0, 2]


class TrialSiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrialSite

    trial = factory.SubFactory(TrialFactory)
    site = factory.SubFactory(SiteFactory)
    status = TrialSite.Status.ACTIVE
    ethics_approval_ref = "EC-2026-001"
    ethics_approval_date = datetime.date(2026, 1, 10)
    activation_date = datetime.date(2026, 2, 1)
    enrollment_target = 10
    enrollment_cap = 12


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
