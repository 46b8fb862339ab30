"""The research pages as their users meet them."""

from __future__ import annotations

import json

import pytest

from research.cohorts import cohort_create
from research.models import Cohort, CohortQuery

from .test_criteria import ICCA_FGFR2_ABLATION

pytestmark = pytest.mark.django_db


def test_researcher_builds_a_cohort_and_sees_suppressed_counts_never_a_row(
    client, network, researcher
):
    client.force_login(researcher)
    bad = client.post(
        "/research/cohorts/new/",
        {
            "name": "",
            "criteria": json.dumps({"all": [{"type": "genomic", "alteration": "fusion"}]}),
        },
    )
    assert bad.status_code == 200 and not Cohort.objects.exists()
    html = bad.content.decode()
    assert "all.0.gene: This field is required." in html and "This field is required." in html
    response = client.post(
        "/research/cohorts/new/",
        {"name": "iCCA FGFR2 ablation", "criteria": json.dumps(ICCA_FGFR2_ABLATION)},
    )
    cohort = Cohort.objects.get()
    assert response.status_code == 302 and response.url == f"/research/cohorts/{cohort.pk}/"
    html = client.get(response.url).content.decode()
    assert "&lt; 5" in html and ">9<" in html
    for patient in network["a"] + network["b"]:
        assert patient.record_number not in html
    assert CohortQuery.objects.filter(username="researcher").count() == 1


def test_center_staff_see_their_own_rows(client, network, abstractor_a, researcher):
    cohort = cohort_create(
        name="c", criteria=ICCA_FGFR2_ABLATION, is_shared=True, acting_user=researcher
    )
    client.force_login(abstractor_a)
    html = client.get(f"/research/cohorts/{cohort.pk}/").content.decode()
    assert all(p.record_number in html for p in network["a"])
    assert not any(p.record_number in html for p in network["b"])
    assert "cohort-counts" not in html  # the abstractor has no aggregate permission


def test_analysis_page_with_a_split_and_the_steward_log(client, network, researcher, steward_a):
    cohort = cohort_create(
        name="iCCA", criteria={"type": "diagnosis", "category": ["icca"]}, acting_user=researcher
    )
    split = cohort_create(
        name="FGFR2 fusion",
        criteria={"type": "genomic", "alteration": "fusion", "gene": "FGFR2"},
        acting_user=researcher,
    )
    client.force_login(researcher)
    response = client.get(
        f"/research/cohorts/{cohort.pk}/analysis/?anchor=diagnosis&endpoint=os&split={split.pk}"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and "FGFR2 fusion" in html and "not FGFR2 fusion" in html
    # nonsense parameters fall back to the defaults
    assert (
        client.get(f"/research/cohorts/{cohort.pk}/analysis/?anchor=x&split=abc").status_code == 200
    )
    client.force_login(steward_a)
    log = client.get("/research/queries/").content.decode()
    assert "researcher" in log and "survival" in log.lower()


def test_another_users_private_cohort_is_a_404(client, researcher, researcher_2):
    cohort = cohort_create(
        name="mine", criteria={"type": "patient", "sex": "F"}, acting_user=researcher
    )
    client.force_login(researcher_2)
    for url in ("", "edit/", "analysis/"):
        assert client.get(f"/research/cohorts/{cohort.pk}/{url}").status_code == 404


def test_network_figures_are_under_disclosure_control(client, network, researcher):
    """``/registry/aggregates/`` shows the same suppressed counts as the cohort builder."""
    client.force_login(researcher)
    page = client.get("/registry/aggregates/").content.decode()
    for code, n in (("CA", 7), ("CB", 7), ("CC", 6)):
        assert f"<td>{code}</td><td>{n}</td>" in page, code
    assert "<th>20</th>" in page  # 20 registry records over the three centers


def test_a_small_center_is_hidden_with_its_complement(
    client, researcher, center_a, center_b, abstractor_a, abstractor_b
):
    from .conftest import make_patient

    for i in range(6):
        make_patient(center_a, abstractor_a, i)
    for i in range(2):
        make_patient(center_b, abstractor_b, 10 + i)
    client.force_login(researcher)
    page = client.get("/registry/aggregates/").content.decode()
    # CB has 2 (hidden); CA's 6 would give it back from the total of 8, so CA is hidden too
    assert '<td>CB</td><td class="muted">&lt; 5</td>' in page
    assert '<td>CA</td><td class="muted">*</td>' in page
    assert "<td>2</td>" not in page and "<td>6</td>" not in page


def test_network_figures_explain_the_suppression_in_chinese(client, network, researcher):
    client.force_login(researcher)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = client.get("/registry/aggregates/").content.decode()
    assert "1 至 5 − 1 的计数显示为" in page and "肝内胆管癌" in page


def test_registry_roles_are_not_offered_the_trial_menus(client, network, researcher, abstractor_a):
    for user in (researcher, abstractor_a):
        client.force_login(user)
        nav = client.get("/research/cohorts/").content.decode().split('class="mainnav"')[1]
        nav = nav.split("</nav>")[0]
        assert "/research/cohorts/" in nav and "/registry/" in nav
        for trial_menu in ("/patients/", "/trials/", "/monitoring/queries/"):
            assert f'href="{trial_menu}"' not in nav, (user.username, trial_menu)


def test_trial_roles_keep_them(client, coordinator_site_a):
    client.force_login(coordinator_site_a)
    nav = client.get("/").content.decode().split('class="mainnav"')[1].split("</nav>")[0]
    assert 'href="/patients/"' in nav and 'href="/trials/"' in nav
