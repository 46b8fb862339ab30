"""The characterisation counted in SQL gives what the former Python over rows gave.

A random registry (seeded, so reproducible) with the awkward cases: persons at two or
three centers, records without a tumour, several tumours on one day, stages restated
on one day and overridden, empty computed stages, treatments of one kind in a row and on
one day, follow-ups with recurrence and progression before and after the anchor, genes
in lower case, fusions counted on both sides, ages on a band's edge and negative. Every
table, curve, log-rank and hazard ratio is compared with ``reference_characterise`` (the
former implementation), at threshold 1 (every count shown) and 5. Runs on SQLite and,
with ``DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

import datetime
import json
import random
from typing import Any

import pytest

from registry.models import (
    CopyNumberChange,
    FollowUp,
    Fusion,
    GenomicTest,
    PathologyReport,
    RegistryPatient,
    StagingRecord,
    Treatment,
    Tumour,
    Variant,
)
from research import characterise as sql
from research.cohorts import matching_patients
from research.facts import facts_current, facts_refresh
from research.models import RegistryFacts
from research.tasks import refresh_registry_facts

from ..factories import SiteFactory
from . import reference_characterise as reference

D = datetime.date
BASE = D(2020, 1, 1)
ICCA = {"type": "diagnosis", "category": ["icca"]}
FUSION = {"type": "genomic", "alteration": "fusion", "gene": "FGFR2"}
# tables whose order depends on counts: ties were listed in row order, now by key
COUNT_ORDERED = ("cancer", "histology")


def _tumour(patient: RegistryPatient, category: str, day: datetime.date) -> Tumour:
    return Tumour.objects.create(
        patient=patient,
        category=category,
        topography="C22.1" if category == "icca" else "C22.0",
        morphology="8160/3",
        diagnosis_date=day,
        basis="histology",
    )


def _registry(rng: random.Random, patients: int = 90) -> None:
    sites = [SiteFactory(code=f"Q{i}", name=f"Q {i}") for i in range(3)]
    for i in range(patients):
        person = i if i % 7 else i - 7 * rng.randint(0, 1) - 1  # some persons twice
        person = max(person, 0)
        site = sites[i % 3]
        if RegistryPatient.objects.filter(site=site, national_pseudonym=f"NP{person}").exists():
            person = i
        dx = BASE + datetime.timedelta(days=rng.randint(0, 30))
        age_days = rng.choice([365 * 40, 365 * 40 - 1, 365 * 80, -3, 365 * 55 + 7, 365 * 201])
        patient = RegistryPatient.objects.create(
            site=site,
            record_number=f"T{i:05d}",
            full_name="x",
            id_document_type="passport",
            id_document_number="x",
            national_pseudonym=f"NP{person}",
            sex=rng.choice("FM"),
            birth_date=dx - datetime.timedelta(days=age_days),
            **{f: rng.choice([True, False, None]) for f in RegistryPatient.RISK_FACTORS},
        )
        if i % 11 == 5:
            continue  # a record without any tumour or event
        tumours = [
            _tumour(patient, rng.choice(["icca", "icca", "hcc", "gbc"]), dx)
            for _ in range(rng.choice([1, 1, 2]))
        ]
        for tumour in tumours:
            for _ in range(rng.randint(0, 3)):
                StagingRecord.objects.create(
                    tumour=tumour,
                    system=rng.choice(["CHILD_PUGH", "BCLC"]),
                    staged_on=dx + datetime.timedelta(days=rng.randint(0, 2)),
                    computed_value=rng.choice(["A", "B", "C", ""]),
                    override_value=rng.choice(["", "", "", "D"]),
                    engine_version="x",
                )
            if rng.random() < 0.5:
                PathologyReport.objects.create(
                    tumour=tumour,
                    protocol="CAP_ICC",
                    protocol_version="4.2",
                    report_date=dx,
                    specimen="resection",
                    histologic_type=rng.choice(["8160/3", "8170/3"]),
                )
        if rng.random() < 0.7:
            test = GenomicTest.objects.create(
                patient=patient,
                tumour=tumours[0],
                kind="panel",
                lab="Lab",
                specimen="tissue",
                test_date=dx + datetime.timedelta(days=rng.randint(-5, 20)),
            )
            for _ in range(rng.randint(0, 2)):
                Variant.objects.create(test=test, gene=rng.choice(["IDH1", "idh1", "KRAS"]))
            if rng.random() < 0.4:
                Fusion.objects.create(
                    test=test, gene_5=rng.choice(["FGFR2", "fgfr2"]), gene_3="BICC1"
                )
            if rng.random() < 0.3:
                CopyNumberChange.objects.create(
                    test=test, gene="MDM2", change=rng.choice(["amplification", "deletion"])
                )
        day = dx
        for _ in range(rng.randint(0, 5)):
            day += datetime.timedelta(days=rng.choice([0, 0, 10, 40]))
            Treatment.objects.create(
                patient=patient,
                kind=rng.choice(["rfa", "systemic"]),
                start_date=day,
                intent="curative",
            )
        for _ in range(rng.randint(0, 3)):
            contact = dx + datetime.timedelta(days=rng.randint(-10, 900))
            event = rng.choice(["none", "none", "recurrence", "progression"])
            dead = rng.random() < 0.25
            FollowUp.objects.create(
                patient=patient,
                contact_date=contact,
                vital_status="dead" if dead else "alive",
                status_source="record",
                event=event,
                event_date=None if event == "none" else contact - datetime.timedelta(days=5),
                death_date=contact if dead else None,
            )


def _normalised(result: dict[str, Any]) -> dict[str, Any]:
    """Tables ordered by count with ties in any order compared as sets of rows."""
    out = json.loads(json.dumps(result))
    for key in COUNT_ORDERED:
        out[key] = sorted(out[key], key=json.dumps)
    out["alterations"]["genes"] = sorted(out["alterations"]["genes"], key=json.dumps)
    out["treatment_sequences"] = sorted(out["treatment_sequences"], key=json.dumps)
    return out


def _by_count_then_key(rows: list[dict], name: str) -> None:
    counts = [(-int(r["display"]), r[name]) for r in rows]
    assert counts == sorted(counts)


COHORTS = [
    ICCA,
    {"type": "diagnosis", "category": ["hcc", "gbc"]},
    {"all": [ICCA, FUSION]},
    {"type": "patient", "sex": "F"},
]


def _facts(use: bool) -> None:
    """Read the search table (rebuilt now) or, as when it is stale, the live tables."""
    if use:
        facts_refresh()
    assert facts_current() is use


@pytest.mark.django_db
@pytest.mark.parametrize("facts", [False, True], ids=["live", "search_table"])
@pytest.mark.parametrize("threshold", [1, 5])
def test_characterisation_counts_equal_the_python_reference(threshold: int, facts: bool) -> None:
    _registry(random.Random(15))
    _facts(facts)
    for criteria in COHORTS:
        expected = reference.characterise(
            matching_patients(criteria), threshold=threshold, rows=False
        )
        got = sql.characterise(matching_patients(criteria), threshold=threshold, rows=False)
        assert len(expected["treatment_sequences"]) < 15  # the top 15 is then every sequence
        assert _normalised(got) == _normalised(expected), criteria
        if threshold == 1:  # every count shown: the order is by count, ties by key
            for key in COUNT_ORDERED:
                _by_count_then_key(got[key], "key")
            _by_count_then_key(got["treatment_sequences"], "key")
            genes = got["alterations"]["genes"]
            _by_count_then_key(
                [{"display": g["altered"], "gene": g["gene"]} for g in genes], "gene"
            )


@pytest.mark.django_db
def test_own_center_alterations_equal_the_python_reference() -> None:
    _registry(random.Random(7), patients=40)
    patients = matching_patients(ICCA).filter(site__code="Q0")
    expected = reference.alteration_matrix(patients, 1, rows=True)
    got = sql.alteration_matrix(patients, 1, rows=True)
    assert sorted(got["genes"], key=json.dumps) == sorted(expected["genes"], key=json.dumps)
    assert got["tested"] == expected["tested"]

    def cells(result: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
        return {
            p["record_number"]: {g: sorted(k) for g, k in p["alterations"].items()}
            for p in result["patients"]
        }

    assert cells(got) == cells(expected)


@pytest.mark.django_db
@pytest.mark.parametrize("anchor", sql.ANCHORS)
@pytest.mark.parametrize("endpoint", sql.ENDPOINTS)
@pytest.mark.parametrize("facts", [False, True], ids=["live", "search_table"])
def test_survival_equals_the_python_reference(anchor: str, endpoint: str, facts: bool) -> None:
    _registry(random.Random(3), patients=120)
    _facts(facts)

    def groups() -> list[tuple[str, Any]]:
        return [
            ("no fusion", matching_patients({"all": [ICCA, {"not": FUSION}]})),
            ("fusion", matching_patients({"all": [ICCA, FUSION]})),
        ]

    for threshold in (1, 5):
        expected = reference.survival(
            groups(), anchor=anchor, endpoint=endpoint, threshold=threshold
        )
        got = sql.survival(groups(), anchor=anchor, endpoint=endpoint, threshold=threshold)
        assert got == expected
        assert len(got["curves"][0]["steps"]) > 3


@pytest.mark.django_db
def test_an_empty_cohort_is_counted_as_empty() -> None:
    _registry(random.Random(1), patients=10)
    empty = RegistryPatient.objects.none()
    result = sql.characterise(empty, threshold=5, rows=False)
    assert result["persons"] == "0"
    assert result["treatment_sequences"] == []
    assert result["alterations"]["genes"] == []
    assert (
        sql.survival([("none", empty)], anchor="diagnosis", endpoint="os", threshold=5)["curves"][
            0
        ]["n"]
        == reference.survival([("none", empty)], anchor="diagnosis", endpoint="os", threshold=5)[
            "curves"
        ][0]["n"]
    )


@pytest.mark.django_db
def test_the_search_table_holds_what_the_live_tables_give() -> None:
    _registry(random.Random(5), patients=60)
    facts_refresh()
    live = reference.patient_facts(RegistryPatient.objects.all())
    table = {f.pk: f for f in RegistryFacts.objects.all()}
    assert set(table) == set(live)
    sequences = {s["key"] for s in reference.treatment_sequences(RegistryPatient.objects.all(), 1)}
    for pk, want in live.items():
        got = table[pk]
        assert (
            got.first_dx,
            got.category,
            got.first_treatment,
            got.first_test,
            got.last_contact,
            got.death,
            got.recurrence,
            got.progression,
        ) == (
            want.first_dx,
            want.category,
            want.first_treatment,
            want.first_test,
            want.last_contact,
            want.death,
            want.recurrence,
            want.progression,
        ), pk
        kinds = [k for k in (got.treatment_1, got.treatment_2, got.treatment_3) if k]
        assert not kinds or " → ".join(kinds) in sequences


@pytest.mark.django_db
def test_a_registry_write_makes_the_table_stale_and_a_refresh_picks_it_up() -> None:
    _registry(random.Random(9), patients=40)
    assert refresh_registry_facts() > 0  # stale (never built): rebuilt
    assert refresh_registry_facts() == 0.0  # current: nothing to do
    patient = matching_patients(ICCA).order_by("pk").first()
    assert patient is not None
    contact = D(2030, 6, 1)  # later than any contact of the random registry
    FollowUp.objects.create(
        patient=patient, contact_date=contact, vital_status="alive", status_source="record"
    )
    assert not facts_current()  # a history row after the refresh

    def os_curves() -> dict[str, Any]:
        return sql.survival(
            [("iCCA", matching_patients(ICCA))], anchor="diagnosis", endpoint="os", threshold=1
        )

    expected = reference.survival(
        [("iCCA", matching_patients(ICCA))], anchor="diagnosis", endpoint="os", threshold=1
    )
    assert os_curves() == expected  # stale: read live, the new contact counted
    assert RegistryFacts.objects.get(pk=patient.pk).last_contact != contact
    refresh_registry_facts()
    assert facts_current()
    assert RegistryFacts.objects.get(pk=patient.pk).last_contact == contact
    assert os_curves() == expected  # now from the table, the same curve


@pytest.mark.django_db
def test_a_failed_statement_leaves_no_cohort_table_behind(monkeypatch: Any) -> None:
    _registry(random.Random(2), patients=12)

    def broken(patients: Any) -> None:
        raise RuntimeError("statement failed")

    monkeypatch.setattr(sql, "_person_counts", broken)
    with pytest.raises(RuntimeError):
        sql.characterise(matching_patients(ICCA), threshold=5, rows=False)
    monkeypatch.undo()
    expected = reference.characterise(matching_patients(ICCA), threshold=5, rows=False)
    got = sql.characterise(matching_patients(ICCA), threshold=5, rows=False)
    assert _normalised(got) == _normalised(expected)  # the connection is still usable


@pytest.mark.django_db(transaction=True)
def test_research_statements_run_without_jit_on_postgresql() -> None:
    """In autocommit (a Celery task, a shell) the setting ends with the block; inside an
    outer transaction it lasts until that transaction ends (``SET LOCAL``)."""
    from django.db import connection

    from research.sql import without_jit

    if connection.vendor != "postgresql":
        pytest.skip("JIT is a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        before = cursor.fetchone()[0]
        with without_jit("default"):
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == before
