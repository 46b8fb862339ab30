"""The monitoring catalogue ships Chinese; pages and errors follow the user's language."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation

from monitoring.services import query_raise


def test_monitoring_pages_and_messages_in_chinese(client, visit_a, monitor):
    query = query_raise(record=visit_a, field_name="ecog", text="?", acting_user=monitor)
    client.force_login(monitor)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    page = client.get(reverse("monitoring:queries")).content.decode()
    assert "数据质疑" in page and "未解决质疑的时长" in page
    detail = client.get(reverse("monitoring:query", args=[query.pk])).content.decode()
    assert "往来记录" in detail
    with translation.override("zh-hans"):
        from monitoring.models import Signature

        assert str(Signature.Meaning.APPROVED.label) == "已审阅并批准"
