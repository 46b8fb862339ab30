"""The access-log admin is scoped: a staff coordinator reads their own entries only."""

from __future__ import annotations

from django.urls import reverse

from audit.models import AccessLog


def _entry(user, ip: str, path: str) -> AccessLog:
    return AccessLog.objects.create(
        event=AccessLog.Event.VIEW, user=user, username=user.username, ip=ip, path=path
    )


def test_staff_coordinator_sees_only_their_own_access_log(
    client, coordinator_site_a, coordinator_site_b, data_manager
):
    own = _entry(coordinator_site_a, "198.51.100.1", "/patients/1/")
    other = _entry(coordinator_site_b, "198.51.100.2", "/patients/2/")
    coordinator_site_a.is_staff = True
    coordinator_site_a.save()
    client.force_login(coordinator_site_a)
    html = client.get(reverse("admin:audit_accesslog_changelist")).content.decode()
    assert "198.51.100.1" in html
    assert "198.51.100.2" not in html and "crc_b" not in html
    change = reverse("admin:audit_accesslog_change", args=[other.pk])
    assert client.get(change, follow=True).status_code == 404
    assert client.get(reverse("admin:audit_accesslog_change", args=[own.pk])).status_code == 200

    data_manager.is_staff = True
    data_manager.save()
    client.force_login(data_manager)  # a global role audits everyone
    html = client.get(reverse("admin:audit_accesslog_changelist")).content.decode()
    assert "198.51.100.1" in html and "198.51.100.2" in html
