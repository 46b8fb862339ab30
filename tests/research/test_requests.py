"""Data requests for governed extracts: submission (every problem at once, nothing saved
on error), each center's steward decides for their center only, one rejection rejects,
the last approval queues the extract; who sees a request; the pages and the API."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from research import extracts as svc
from research.cohorts import cohort_create
from research.models import DataRequest, DataRequestApproval, Extract
from sites.roles import Role

from .conftest import center_persona

pytestmark = pytest.mark.django_db

FGFR2_ABLATION = {
    "all": [
        {"type": "diagnosis", "category": ["icca"]},
        {"type": "genomic", "alteration": "fusion", "gene": "FGFR2"},
        {"type": "treatment", "kind": ["rfa", "mwa", "cryoablation"]},
    ]
}


@pytest.fixture
def steward_b(center_b: Any) -> Any:
    return center_persona("steward_b", Role.CENTER_STEWARD, center_b)


@pytest.fixture
def cohort(researcher: Any, network: dict) -> Any:
    return cohort_create(
        name="iCCA FGFR2 ablation", criteria=FGFR2_ABLATION, acting_user=researcher
    )


def fields(cohort: Any, centers: list, **over: Any) -> dict:
    data = dict(
        cohort=cohort,
        title="FGFR2 fusions and ablation outcome",
        purpose="Does ablation change survival in FGFR2-fused iCCA?",
        ethics_committee="Lead hospital IRB",
        ethics_approval_number="IRB-2026-031",
        ethics_approval_date=datetime.date(2026, 6, 1),
        centers=centers,
        # the cohort selects by FGFR2 fusion: its extract reveals a genomic result
        include_genomics=True,
        hgr_approval_number="HGR-2026-0042",
    )
    data.update(over)
    return data


def test_a_request_names_every_problem_at_once_and_saves_nothing(
    researcher: Any, cohort: Any
) -> None:
    with pytest.raises(ValidationError) as exc:
        svc.request_submit(
            acting_user=researcher,
            **fields(
                cohort,
                [],
                ethics_approval_number=" ",
                ethics_approval_date=datetime.date.today() + datetime.timedelta(days=3),
                hgr_approval_number="",
            ),
        )
    errors = exc.value.message_dict
    assert set(errors) == {
        "ethics_approval_number",
        "ethics_approval_date",
        "hgr_approval_number",
        "centers",
    }
    assert "human genetic resources" in errors["hgr_approval_number"][0]
    assert "future" in errors["ethics_approval_date"][0]
    assert not DataRequest.objects.exists()


def test_only_research_roles_request(abstractor_a: Any, cohort: Any, center_a: Any) -> None:
    with pytest.raises(PermissionDenied):
        svc.request_submit(acting_user=abstractor_a, **fields(cohort, [center_a]))


def test_a_center_without_registry_records_cannot_be_asked(
    researcher: Any, cohort: Any, center_a: Any
) -> None:
    from ..factories import SiteFactory

    empty = SiteFactory(code="CZ", name="No registry")
    with pytest.raises(ValidationError) as exc:
        svc.request_submit(acting_user=researcher, **fields(cohort, [center_a, empty]))
    assert "CZ" in exc.value.message_dict["centers"][0]


def test_criteria_are_frozen_at_submission(researcher: Any, cohort: Any, center_a: Any) -> None:
    from research.cohorts import cohort_update

    req = svc.request_submit(acting_user=researcher, **fields(cohort, [center_a]))
    cohort_update(
        cohort=cohort,
        acting_user=researcher,
        criteria={"all": [{"type": "diagnosis", "category": ["hcc"]}]},
        reason="HCC instead",
    )
    req.refresh_from_db()
    assert req.criteria == FGFR2_ABLATION
    assert req.cohort_version == 1
    assert req.formats == ["tables"]  # tables are always part of an extract


def test_each_steward_decides_for_their_center_and_the_last_approval_queues_the_extract(
    researcher: Any,
    cohort: Any,
    center_a: Any,
    center_b: Any,
    steward_a: Any,
    steward_b: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    req = svc.request_submit(acting_user=researcher, **fields(cohort, [center_a, center_b]))
    assert [a.decision for a in req.approvals.all()] == ["pending", "pending"]
    with pytest.raises(PermissionDenied):
        svc.request_decide(acting_user=steward_a, data_request=req, site=center_b, approve=True)
    with pytest.raises(PermissionDenied):
        svc.request_decide(acting_user=researcher, data_request=req, site=center_a, approve=True)

    svc.request_decide(acting_user=steward_a, data_request=req, site=center_a, approve=True)
    assert req.status == DataRequest.Status.PENDING
    assert not Extract.objects.exists()
    with pytest.raises(ValidationError) as exc:
        svc.request_decide(acting_user=steward_a, data_request=req, site=center_a, approve=True)
    assert "already decided" in exc.value.messages[0]

    queued: list[int] = []
    svc_enqueue = svc._enqueue
    try:
        svc._enqueue = queued.append  # type: ignore[assignment]
        with django_capture_on_commit_callbacks(execute=True):
            svc.request_decide(
                acting_user=steward_b, data_request=req, site=center_b, approve=True, note="ok"
            )
    finally:
        svc._enqueue = svc_enqueue  # type: ignore[assignment]
    assert req.status == DataRequest.Status.APPROVED
    assert req.decided_at is not None
    extract = Extract.objects.get(request=req)
    assert queued == [extract.pk]
    approval = req.approvals.get(site=center_b)
    assert (approval.steward_username, approval.note) == ("steward_b", "ok")
    assert approval.history.first().history_user == steward_b


def test_a_rejection_needs_a_reason_and_rejects_the_request(
    researcher: Any, cohort: Any, center_a: Any, center_b: Any, steward_a: Any, steward_b: Any
) -> None:
    req = svc.request_submit(acting_user=researcher, **fields(cohort, [center_a, center_b]))
    with pytest.raises(ValidationError) as exc:
        svc.request_decide(acting_user=steward_a, data_request=req, site=center_a, approve=False)
    assert list(exc.value.message_dict) == ["note"]
    svc.request_decide(
        acting_user=steward_a,
        data_request=req,
        site=center_a,
        approve=False,
        note="Consent of 2019 does not cover this",
    )
    assert req.status == DataRequest.Status.REJECTED
    with pytest.raises(ValidationError):
        svc.request_decide(acting_user=steward_b, data_request=req, site=center_b, approve=True)
    assert not Extract.objects.exists()


def test_the_requester_withdraws_a_pending_request(
    researcher: Any, researcher_2: Any, cohort: Any, center_a: Any
) -> None:
    req = svc.request_submit(acting_user=researcher, **fields(cohort, [center_a]))
    with pytest.raises(PermissionDenied):
        svc.request_withdraw(acting_user=researcher_2, data_request=req, reason="x")
    with pytest.raises(ValidationError):
        svc.request_withdraw(acting_user=researcher, data_request=req, reason="  ")
    svc.request_withdraw(acting_user=researcher, data_request=req, reason="Question changed")
    req.refresh_from_db()
    assert req.status == DataRequest.Status.WITHDRAWN
    assert req.history.first().history_change_reason == "Question changed"


def test_who_sees_a_request(
    researcher: Any,
    researcher_2: Any,
    cohort: Any,
    center_a: Any,
    steward_a: Any,
    center_c: Any,
    abstractor_a: Any,
) -> None:
    req = svc.request_submit(acting_user=researcher, **fields(cohort, [center_a]))
    steward_c = center_persona("steward_c", Role.CENTER_STEWARD, center_c)
    visible = lambda user: list(DataRequest.objects.visible_to(user))  # noqa: E731
    assert visible(researcher) == [req]
    assert visible(steward_a) == [req]
    assert visible(researcher_2) == []
    assert visible(steward_c) == []
    assert visible(abstractor_a) == []
    assert [a.request_id for a in svc.pending_decisions(steward_a)] == [req.pk]
    assert list(svc.pending_decisions(steward_c)) == []


# --- pages --------------------------------------------------------------------------------


def test_the_request_page_shows_every_error_in_one_round(
    client: Any, researcher: Any, cohort: Any, center_a: Any
) -> None:
    client.force_login(researcher)
    url = reverse("research:request_new")
    page = client.get(url + f"?cohort={cohort.pk}")
    assert page.status_code == 200
    assert f'<option value="{cohort.pk}" selected>' in page.content.decode()
    response = client.post(
        url,
        {
            "title": "T",
            "cohort": cohort.pk,
            "purpose": "P",
            "ethics_committee": "IRB",
            "ethics_approval_number": "IRB-1",
            "ethics_approval_date": "2026-01-01",
            "centers": [center_a.pk],
            "formats": ["tables", "omop"],
            "include_genomics": "on",
        },
    )
    assert response.status_code == 200
    assert "human genetic resources approval" in response.content.decode()
    assert not DataRequest.objects.exists()
    response = client.post(
        url,
        {
            "title": "T",
            "cohort": cohort.pk,
            "purpose": "P",
            "ethics_committee": "IRB",
            "ethics_approval_number": "IRB-1",
            "ethics_approval_date": "2026-01-01",
            "centers": [center_a.pk],
            "formats": ["tables", "omop"],
            "include_genomics": "on",
            "hgr_approval_number": "HGR-1",
        },
    )
    req = DataRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("research:request", args=[req.pk])
    assert req.formats == ["tables", "omop"]


def test_the_steward_decides_on_the_request_page(
    client: Any, researcher: Any, cohort: Any, center_a: Any, steward_a: Any
) -> None:
    req = svc.request_submit(acting_user=researcher, **fields(cohort, [center_a]))
    client.force_login(steward_a)
    listing = client.get(reverse("research:requests")).content.decode()
    assert 'id="awaiting-decision"' in listing and f"DR-{req.pk}" in listing
    detail = client.get(reverse("research:request", args=[req.pk])).content.decode()
    assert 'id="decide-CA"' in detail
    url = reverse("research:request_decide", args=[req.pk, center_a.pk])
    refused = client.post(url, {"decision": "reject", "note": ""})
    assert refused.status_code == 400
    assert "Say why the request is rejected." in refused.content.decode()
    assert client.post(url, {"decision": "reject", "note": "Not covered"}).status_code == 302
    req.refresh_from_db()
    assert req.status == DataRequest.Status.REJECTED
    assert req.approvals.get().decision == DataRequestApproval.Decision.REJECTED


def test_a_request_of_another_center_is_not_found(
    client: Any, researcher: Any, cohort: Any, center_a: Any, abstractor_b: Any
) -> None:
    req = svc.request_submit(acting_user=researcher, **fields(cohort, [center_a]))
    client.force_login(abstractor_b)
    assert client.get(reverse("research:request", args=[req.pk])).status_code == 404
    assert client.get(reverse("research:requests")).status_code == 403


# --- API ----------------------------------------------------------------------------------


def test_api_submit_decide_and_read(
    api_for: Any, researcher: Any, cohort: Any, center_a: Any, steward_a: Any
) -> None:
    api = api_for(researcher)
    url = "/api/v1/registry/data-requests/"
    bad = api.post(
        url,
        {
            "title": "T",
            "purpose": "P",
            "cohort": cohort.pk,
            "ethics_committee": "IRB",
            "ethics_approval_number": "IRB-1",
            "ethics_approval_date": "2026-01-01",
            "centers": ["CA"],
            "include_genomics": True,
        },
        format="json",
    )
    assert bad.status_code == 400
    assert list(bad.json()) == ["hgr_approval_number"]
    made = api.post(
        url,
        {
            "title": "T",
            "purpose": "P",
            "cohort": cohort.pk,
            "ethics_committee": "IRB",
            "ethics_approval_number": "IRB-1",
            "ethics_approval_date": "2026-01-01",
            "centers": ["CA", "CA"],  # named twice: one decision
            "formats": ["cbioportal"],
            "include_genomics": True,
            "hgr_approval_number": "HGR-1",
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["status"] == "pending"
    assert body["formats"] == ["tables", "cbioportal"]
    assert body["approvals"] == [
        {
            "center": "CA",
            "decision": "pending",
            "steward_username": "",
            "note": "",
            "decided_at": None,
        }
    ]
    assert body["extract"] is None
    req_id = body["id"]
    steward = api_for(steward_a)
    assert steward.get(f"{url}{req_id}/extract/").status_code == 404
    wrong = steward.post(f"{url}{req_id}/decide/", {"center": "CB", "decision": "approve"})
    assert wrong.status_code == 400 and "center" in wrong.json()
    assert (
        api.post(f"{url}{req_id}/decide/", {"center": "CA", "decision": "approve"}).status_code
        == 403
    )
    svc_enqueue = svc._enqueue
    try:
        svc._enqueue = lambda pk: None  # type: ignore[assignment]
        decided = steward.post(f"{url}{req_id}/decide/", {"center": "CA", "decision": "approve"})
    finally:
        svc._enqueue = svc_enqueue  # type: ignore[assignment]
    assert decided.status_code == 200
    assert decided.json()["status"] == "approved"
    extract = api.get(f"{url}{req_id}/extract/").json()
    assert extract["status"] == "queued" and extract["download_url"] is None
    assert api.get(f"{url}{req_id}/download/").status_code == 409


@pytest.mark.parametrize(
    ("persona", "listed", "detail", "create", "decide"),
    [
        ("anonymous", 401, 401, 401, 401),
        ("researcher", 200, 200, 400, 403),  # the requester (an empty body: fields named)
        ("researcher_2", 200, 404, 400, 404),  # another researcher: not theirs
        ("steward_a", 200, 200, 403, 200),  # the steward of a center concerned decides
        ("abstractor_a", 200, 404, 403, 404),
        ("coordinator_site_a", 200, 404, 403, 404),
    ],
)
def test_api_matrix(
    request: Any,
    api_for: Any,
    researcher: Any,
    cohort: Any,
    center_a: Any,
    persona: str,
    listed: int,
    detail: int,
    create: int,
    decide: int,
) -> None:
    from rest_framework.test import APIClient

    req = svc.request_submit(acting_user=researcher, **fields(cohort, [center_a]))
    client = APIClient() if persona == "anonymous" else api_for(request.getfixturevalue(persona))
    url = "/api/v1/registry/data-requests/"
    listing = client.get(url)
    assert listing.status_code == listed
    if listed == 200:
        ids = [r["id"] for r in listing.json()["results"]]
        assert ids == ([req.pk] if detail == 200 else [])
    assert client.get(f"{url}{req.pk}/").status_code == detail
    before = DataRequest.objects.count()
    assert client.post(url, {}, format="json").status_code == create
    assert DataRequest.objects.count() == before
    decided = client.post(f"{url}{req.pk}/decide/", {"center": "CA", "decision": "approve"})
    assert decided.status_code == decide
    req.refresh_from_db()
    assert req.status == ("approved" if decide == 200 else "pending")


def test_api_list_costs_the_same_for_one_request_or_many(
    api_for: Any,
    researcher: Any,
    cohort: Any,
    center_a: Any,
    center_b: Any,
    django_assert_max_num_queries: Any,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api = api_for(researcher)
    url = "/api/v1/registry/data-requests/"
    svc.request_submit(acting_user=researcher, **fields(cohort, [center_a]))
    with CaptureQueriesContext(connection) as one:
        assert api.get(url).status_code == 200
    for _ in range(4):
        svc.request_submit(acting_user=researcher, **fields(cohort, [center_a, center_b]))
    with django_assert_max_num_queries(len(one.captured_queries)):
        body = api.get(url).json()
    assert len(body["results"]) == 5
    assert {len(r["approvals"]) for r in body["results"]} == {1, 2}


def test_the_request_pages_in_chinese(
    client: Any, researcher: Any, cohort: Any, center_a: Any, steward_a: Any
) -> None:
    req = svc.request_submit(acting_user=researcher, **fields(cohort, [center_a]))
    client.force_login(steward_a)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    listing = client.get(reverse("research:requests")).content.decode()
    assert "等待您的决定" in listing and "数据申请" in listing
    detail = client.get(reverse("research:request", args=[req.pk])).content.decode()
    for zh in ("各中心的决定", "伦理批件", "等待各中心决定", "为本中心批准", "记录决定", "待定"):
        assert zh in detail, zh
    for english in ("Decisions of the centers", "Ethics approval", "Record the decision"):
        assert english not in detail, english
    refused = client.post(
        reverse("research:request_decide", args=[req.pk, center_a.pk]),
        {"decision": "reject", "note": ""},
    )
    assert "请说明拒绝申请的理由。" in refused.content.decode()
    client.force_login(researcher)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    form = client.get(reverse("research:request_new")).content.decode()
    assert "人类遗传资源批准号" in form and "提交审批" in form


def test_a_field_the_form_refuses_does_not_hide_the_rules(
    client: Any, researcher: Any, cohort: Any, center_a: Any
) -> None:
    """The ethics number is missing (the form's own check) and genomics lack the HGR
    number (the service's rule): both at once."""
    client.force_login(researcher)
    response = client.post(
        reverse("research:request_new"),
        {
            "title": "T",
            "cohort": cohort.pk,
            "purpose": "P",
            "ethics_committee": "IRB",
            "ethics_approval_date": "2026-01-01",
            "centers": [center_a.pk],
            "include_genomics": "on",
        },
    )
    form = response.context["form"]
    assert set(form.errors) == {"ethics_approval_number", "hgr_approval_number"}
    assert not DataRequest.objects.exists()


def test_the_history_of_a_request_names_every_decision(
    client: Any, researcher: Any, cohort: Any, center_a: Any, steward_a: Any
) -> None:
    req = svc.request_submit(acting_user=researcher, **fields(cohort, [center_a]))
    svc.request_decide(
        acting_user=steward_a, data_request=req, site=center_a, approve=False, note="No"
    )
    client.force_login(researcher)
    page = client.get(reverse("audit:history", args=["research.datarequest", req.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Data request submitted" in body and "steward_a" in body


def test_a_genomic_selection_needs_genomic_approval(
    researcher: Any, cohort: Any, center_a: Any
) -> None:
    """Being in an FGFR2-fusion extract states the fusion: without genomic data (and
    its human genetic resources approval) the request is refused."""
    with pytest.raises(ValidationError) as exc:
        svc.request_submit(
            acting_user=researcher,
            **fields(cohort, [center_a], include_genomics=False, hgr_approval_number=""),
        )
    assert list(exc.value.message_dict) == ["include_genomics"]
    assert svc.touches_genomics({"not": {"type": "biomarker", "marker": "tmb"}})
    assert not svc.touches_genomics({"all": [{"type": "diagnosis", "category": ["icca"]}]})


def test_nobody_approves_their_own_request(cohort: Any, center_a: Any, network: dict) -> None:
    from django.contrib.auth import get_user_model

    from ..factories import MembershipFactory, UserFactory

    both = UserFactory(username="investigator_steward")
    MembershipFactory(user=both, role=Role.CENTER_INVESTIGATOR, site=center_a, trial=None)
    MembershipFactory(user=both, role=Role.CENTER_STEWARD, site=center_a, trial=None)
    cohort.is_shared = True
    cohort.save()
    req = svc.request_submit(acting_user=both, **fields(cohort, [center_a]))
    with pytest.raises(PermissionDenied):
        svc.request_decide(acting_user=both, data_request=req, site=center_a, approve=True)
    root = get_user_model().objects.create_superuser("root_user", "r@x.invalid", "pw-12345678")
    assert not svc.may_decide(root, center_a)  # no membership: not a steward of the center
    with pytest.raises(PermissionDenied):
        svc.request_decide(acting_user=root, data_request=req, site=center_a, approve=True)
    req.refresh_from_db()
    assert req.status == DataRequest.Status.PENDING
