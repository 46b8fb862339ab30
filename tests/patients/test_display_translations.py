"""Data the system writes in English is shown in the reader's language: the stratum of an
enrollment and the system's own reasons for change in the history."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation

from patients.templatetags.enrollment_tags import stratum_display


def test_stratum_key_reads_as_factor_names_and_levels():
    with translation.override("en"):
        assert stratum_display("ecog=1|site=SH01") == "Site SH01 · ECOG 1"
    with translation.override("zh-hans"):
        assert stratum_display("ecog=1|site=SH01") == "中心 SH01 · ECOG 1"
    assert stratum_display("") == ""
    assert stratum_display("other=x") == "other x"  # unknown factors stay readable


def test_history_shows_system_reasons_in_the_readers_language(client, patient_a, monitor):
    # the audit trail is write-once (PostgreSQL): new changes carry the reasons
    patient_a.phone = "13900000001"
    patient_a._change_reason = "Registration"
    patient_a.save()
    client.force_login(monitor)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get(reverse("audit:history", args=["patients.patient", patient_a.pk])).content
    html = html.decode()
    assert "患者登记" in html and ">Registration<" not in html
    patient_a.phone = "13900000002"
    patient_a._change_reason = "Typo in the phone number"
    patient_a.save()
    html = client.get(reverse("audit:history", args=["patients.patient", patient_a.pk])).content
    assert "Typo in the phone number" in html.decode()  # a person's reason is kept as written


def test_screening_section_is_named_as_a_step_not_a_status(client, patient_a, coordinator_site_a):
    """The patient page's section is "筛选" (screening, the step); "筛选中" is the status."""
    client.force_login(coordinator_site_a)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    html = client.get(reverse("patients:detail", args=[patient_a.pk])).content.decode()
    assert "<h2>筛选</h2>" in html and "<h2>筛选中</h2>" not in html
