"""Center-level roles (the national registry's staff): attached to a Site, not a trial."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sites.models import Membership, Site
from sites.roles import Perm, Role
from sites.scoping import forget_scope, has_perm, scope_for

from ..factories import SiteFactory, UserFactory


@pytest.fixture
def centers(db):
    return SiteFactory(code="CA", name="Center A"), SiteFactory(code="CB", name="Center B")


def test_center_role_granted_in_the_admin_scopes_a_queryset_by_site(client, administrator, centers):
    center_a, center_b = centers
    abstractor = UserFactory(username="abs_a")
    client.force_login(administrator)
    response = client.post(
        "/admin/trial_sites/membership/add/",
        {
            "user": abstractor.pk,
            "role": Role.CENTER_ABSTRACTOR,
            "site": center_a.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    membership = Membership.objects.get(user=abstractor)
    assert membership.site == center_a and membership.trial_id is None
    assert membership.history.first().history_user == administrator

    assert list(Site.objects.visible_to(abstractor)) == [center_a]
    assert scope_for(abstractor).center_site_ids == {center_a.pk}
    assert has_perm(abstractor, Perm.EDIT_REGISTRY, site=center_a)
    assert not has_perm(abstractor, Perm.EDIT_REGISTRY, site=center_b)
    assert not has_perm(abstractor, Perm.ENTER_CLINICAL_DATA)  # no trial permission


def test_admin_refuses_a_center_role_without_a_center(client, administrator, centers):
    client.force_login(administrator)
    user = UserFactory(username="nobody")
    response = client.post(
        "/admin/trial_sites/membership/add/",
        {"user": user.pk, "role": Role.CENTER_STEWARD, "is_active": "on"},
    )
    assert response.status_code == 200
    assert "A center role belongs to a center" in response.content.decode()
    assert not Membership.objects.filter(user=user).exists()


def test_center_role_rules(centers, trial_site_a):
    center_a, _b = centers
    user = UserFactory(username="x")
    with pytest.raises(ValidationError) as exc:
        Membership(user=user, role=Role.CENTER_INVESTIGATOR, trial_site=trial_site_a).clean()
    assert set(exc.value.message_dict) == {"site", "trial_site"}
    with pytest.raises(ValidationError) as exc:
        Membership(user=user, role=Role.COORDINATOR, trial_site=trial_site_a, site=center_a).clean()
    assert "site" in exc.value.message_dict
    with pytest.raises(ValidationError):
        Membership(user=user, role=Role.NETWORK_RESEARCHER, trial=trial_site_a.trial).clean()


def test_network_researcher_sees_no_rows_but_may_see_aggregates(centers):
    user = UserFactory(username="researcher")
    Membership.objects.create(user=user, role=Role.NETWORK_RESEARCHER)
    forget_scope(user)
    assert not Site.objects.visible_to(user).exists()
    assert has_perm(user, Perm.VIEW_REGISTRY_AGGREGATES)
    assert not has_perm(user, Perm.VIEW_REGISTRY)


def test_existing_site_roles_gain_nothing_on_registry_data(coordinator_site_a, centers):
    assert not has_perm(coordinator_site_a, Perm.VIEW_REGISTRY)
    assert not has_perm(coordinator_site_a, Perm.VIEW_IDENTITY, site=centers[0])
