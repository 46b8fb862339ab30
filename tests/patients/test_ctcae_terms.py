"""Coded adverse-event terms: the shipped CTCAE v5.0 list, search in English and Chinese,
"other, specify", grade text beside the grade, safety tables by SOC and term, and the
loader of NCI's spreadsheet."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from patients.ctcae_catalogue import read_nci_csv
from patients.models import CtcaeTerm
from patients.selectors_ctcae import ctcae_grade_rows, ctcae_term_lookup, ctcae_term_search
from patients.selectors_safety import ae_by_soc_and_term
from patients.services.safety import adverse_event_record

from .helpers_visits import DAY, enroll, setup_protocol


@pytest.fixture
def protocol(trial):
    return setup_protocol(trial)


@pytest.fixture
def enrolled_a(patient_a, coordinator_site_a, protocol):
    enroll(patient_a, coordinator_site_a, protocol["arm"])
    return patient_a


def record(patient, user, protocol, **kw):
    from patients.services.visits import patient_local_today

    data = {
        "grade": 2,
        "serious": False,
        "serious_criteria": [],
        "onset_date": patient_local_today(patient) - DAY,
        "resolution_date": None,
        "outcome": "not_recovered",
        "action_taken": "none",
        "causality": {i.pk: "possible" for i in protocol["arm"].interventions.all()},
    }
    data.update(kw)
    return adverse_event_record(patient=patient, acting_user=user, **data)


@pytest.mark.django_db
def test_shipped_terms_carry_meddra_codes_and_soc():
    hypertension = CtcaeTerm.objects.get(meddra_code="10020772")
    assert (hypertension.term, hypertension.soc) == ("Hypertension", "Vascular disorders")
    assert hypertension.grades["3"].startswith("Systolic BP >=160 mm Hg")
    assert CtcaeTerm.objects.filter(soc="Investigations").count() >= 8


@pytest.mark.django_db
def test_search_in_english_and_chinese_and_lookup_by_label():
    assert [t.meddra_code for t in ctcae_term_search("高血压")] == ["10020772"]
    assert "10035528" in [t.meddra_code for t in ctcae_term_search("platelet")]
    assert ctcae_term_lookup("Hypertension · 高血压 (10020772)").term == "Hypertension"
    assert ctcae_term_lookup("hypertension").meddra_code == "10020772"
    assert ctcae_term_lookup("Hypertensive thing") is None


@pytest.mark.django_db
def test_grade_rows_fall_back_to_the_general_scale_and_say_so():
    nausea = CtcaeTerm.objects.get(meddra_code="10028813")
    rows = dict(ctcae_grade_rows(nausea))
    assert rows[4].startswith("(general scale)")
    own = dict(ctcae_grade_rows(CtcaeTerm.objects.get(meddra_code="10035528")))
    assert own[3] == "<50,000 - 25,000/mm3; <50.0 - 25.0 x 10e9 /L"


def test_coded_and_other_specify_events(enrolled_a, coordinator_site_a, protocol):
    term = CtcaeTerm.objects.get(meddra_code="10020772")
    coded = record(enrolled_a, coordinator_site_a, protocol, ctcae_term=term, grade=3)
    assert coded.term == "Hypertension"
    other = record(
        enrolled_a,
        coordinator_site_a,
        protocol,
        other_specify="Cryoshock",
        other_soc="Injury, poisoning and procedural complications",
    )
    assert (other.term, other.ctcae_term) == ("Cryoshock", None)
    with pytest.raises(ValidationError) as exc:
        record(enrolled_a, coordinator_site_a, protocol, ctcae_term=term, other_specify="x")
    assert "other_specify" in exc.value.message_dict
    table = ae_by_soc_and_term(user=coordinator_site_a, trial=enrolled_a.trial_site.trial)
    by_soc = {row["soc"]: row for row in table["socs"]}
    vascular = by_soc["Vascular disorders"]
    arm_a = table["groups"].index(str(protocol["arm"]))
    assert vascular["terms"][0]["term"] == "Hypertension"
    assert vascular["counts"][arm_a]["severe"] == 1
    assert "Injury, poisoning and procedural complications" in by_soc


def test_web_form_shows_term_picker_and_grade_text(client, enrolled_a, coordinator_site_a):
    client.force_login(coordinator_site_a)
    response = client.get(reverse("patients:ae_new", args=[enrolled_a.pk]))
    body = response.content.decode()
    assert 'list="ctcae-terms"' in body
    assert "Hypertension · 高血压 (10020772)" in body
    assert "grade-definitions" in body


def test_web_form_refuses_unknown_term(client, enrolled_a, coordinator_site_a):
    client.force_login(coordinator_site_a)
    response = client.post(
        reverse("patients:ae_new", args=[enrolled_a.pk]),
        {"ctcae_term": "Something made up", "grade": "2"},
    )
    assert response.status_code == 200
    assert "Pick a term from the list" in response.content.decode()


def test_nci_spreadsheet_loader(tmp_path, db):
    path = tmp_path / "ctcae.csv"
    path.write_text(
        "MedDRA Code,MedDRA SOC,CTCAE Term,Grade 1,Grade 2,Grade 3,Grade 4,Grade 5,Definition\n"
        '10020772,Vascular disorders,Hypertension,"Systolic BP 120 - 139",b,c,d,Death,def\n'
        "10099999,Vascular disorders,Test term,a,-,-,-,-,A test\n",
        encoding="utf-8",
    )
    rows = read_nci_csv(path)
    assert rows[1]["grades"] == {"1": "a"}
    call_command("load_ctcae_terms", str(path))
    assert CtcaeTerm.objects.get(meddra_code="10099999").term == "Test term"
    kept = CtcaeTerm.objects.get(meddra_code="10020772")
    assert kept.term_zh == "高血压" and kept.grades["1"] == "Systolic BP 120 - 139"
    bad = tmp_path / "bad.csv"
    bad.write_text("Code,Term\n1,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="MedDRA Code"):
        read_nci_csv(bad)


@pytest.mark.django_db
def test_an_empty_catalogue_is_filled_after_migrate_and_a_full_one_left_alone():
    """The test databases are built from the models, without the data migration, and a
    flush empties every table: after ``post_migrate`` the shipped terms are there; a
    catalogue that has terms (loaded, or edited by a data manager) is not touched."""
    from django.apps import apps
    from django.db.models.signals import post_migrate

    config = apps.get_app_config("patients")
    shipped = CtcaeTerm.objects.count()
    assert shipped >= 50
    CtcaeTerm.objects.all().delete()
    post_migrate.send(sender=config, app_config=config, using="default", apps=apps)
    assert CtcaeTerm.objects.count() == shipped
    term = CtcaeTerm.objects.get(meddra_code="10020772")
    term.term_zh = "已改"
    term.save()
    post_migrate.send(sender=config, app_config=config, using="default", apps=apps)
    assert CtcaeTerm.objects.count() == shipped
    assert CtcaeTerm.objects.get(meddra_code="10020772").term_zh == "已改"
