"""OMOP CDM 5.4 (+ oncology extension): the export's tables match the official DDL, every
NOT NULL column is filled, the episodes link their events, and on PostgreSQL every CSV
loads with COPY into a schema built by the official DDL and primary keys."""

from __future__ import annotations

import csv
import re
import uuid
from pathlib import Path

import pytest
from django.db import connection

from registry.models import RegistryPatient
from research.interop import omop
from research.interop.dataset import Pseudonymiser, collect

from .interop_data import build_network, clean_key
from .test_interop_dataset import assert_no_identity

DDL_DIR = Path(__file__).parent / "omop_ddl"
DDL = DDL_DIR / "OMOPCDM_postgresql_5.4_ddl.sql"
PRIMARY_KEYS = DDL_DIR / "OMOPCDM_postgresql_5.4_primary_keys.sql"


def ddl_tables() -> dict[str, list[tuple[str, bool]]]:
    """(column, NOT NULL) per table, in DDL order, from the official file."""
    tables = {}
    for name, body in re.findall(
        r"CREATE TABLE @cdmDatabaseSchema\.(\w+) \((.*?)\);", DDL.read_text(), re.S
    ):
        columns = []
        for line in body.strip().splitlines():
            m = re.match(r"\s*(\w+) .*?\b(NOT NULL|NULL)\b", line)
            if m:
                columns.append((m.group(1), m.group(2) == "NOT NULL"))
        tables[name] = columns
    return tables


@pytest.fixture
def network(center_a, abstractor_a, center_b, abstractor_b):
    return build_network(center_a, abstractor_a, center_b, abstractor_b)


@pytest.fixture
def export(network):
    p = Pseudonymiser(clean_key(network))
    data = collect(RegistryPatient.objects.all(), pseudonymiser=p)
    return data, omop.rows(data), p


def test_every_table_has_the_official_columns_and_fills_every_not_null_one(export):
    _data, tables, _p = export
    official = ddl_tables()
    assert set(tables) == {
        "person", "observation_period", "condition_occurrence", "measurement",
        "procedure_occurrence", "drug_exposure", "episode", "episode_event", "death",
    }  # fmt: skip
    for name, rows in tables.items():
        assert list(omop.COLUMNS[name]) == [c for c, _nn in official[name]], name
        required = [c for c, not_null in official[name] if not_null]
        assert rows, name
        for row in rows:
            missing = [c for c in required if row[c] is None]
            assert not missing, f"{name}: {missing} empty in {row}"
            for column, value in row.items():
                if column.endswith("_source_value") and value is not None:
                    assert len(value) <= 50


def test_one_person_per_subject_and_ids_unique_in_the_export(export, network):
    data, tables, p = export
    icca = p.subject_id(network.icca_a.national_pseudonym)
    hcc = p.subject_id(network.hcc_b.national_pseudonym)
    persons = {r["person_source_value"]: r for r in tables["person"]}
    assert set(persons) == {icca, hcc}
    assert [r["person_id"] for r in tables["person"]] == [1, 2]
    assert [r["person_source_value"] for r in tables["person"]] == sorted([icca, hcc])
    assert persons[icca]["gender_concept_id"] == 8507 and persons[hcc]["gender_concept_id"] == 8532
    assert persons[icca]["year_of_birth"] == 1958
    ids = [
        r[f"{t}_id"]
        for t in ("observation_period", "condition_occurrence", "measurement",
                  "procedure_occurrence", "drug_exposure", "episode")
        for r in tables[t]
    ]  # fmt: skip
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) for i in ids)
    (death,) = tables["death"]
    assert death["person_id"] == persons[icca]["person_id"]


def test_conditions_stages_biomarkers_treatments_and_episodes(export, network):
    _data, tables, _p = export
    conditions = {r["condition_occurrence_id"]: r for r in tables["condition_occurrence"]}
    assert sorted(r["condition_source_value"] for r in conditions.values()) == [
        "8160/3-C22.1", "8160/3-C22.1", "8170/3-C22.0",
    ]  # fmt: skip
    assert {r["condition_concept_id"] for r in conditions.values()} == {0}  # unmapped
    measurements = {r["measurement_source_value"]: r for r in tables["measurement"]}
    assert measurements["AJCC8_ICC"]["value_source_value"] == "IA"
    assert measurements["AJCC8_ICC"]["measurement_event_id"] in conditions
    assert measurements["AJCC8_ICC"]["meas_event_field_concept_id"] == 1147127
    assert measurements["TMB"]["value_as_number"] == 2.5
    assert measurements["TMB"]["unit_source_value"] == "mut/Mb"
    assert measurements["MSI"]["value_source_value"] == "MSS"
    assert sorted(r["procedure_source_value"] for r in tables["procedure_occurrence"]) == [
        "resection", "rfa", "tace",
    ]  # fmt: skip
    (drug,) = tables["drug_exposure"]
    assert drug["drug_source_value"] == "lenvatinib"
    episodes = {r["episode_id"]: r for r in tables["episode"]}
    disease = [e for e in episodes.values() if e["episode_concept_id"] == 32533]
    regimens = [e for e in episodes.values() if e["episode_concept_id"] == 32531]
    assert len(disease) == 3 and len(regimens) == 1
    (regimen,) = regimens
    assert regimen["episode_number"] == 1 and regimen["episode_parent_id"] in episodes
    events = {
        (e["episode_id"], e["episode_event_field_concept_id"]) for e in tables["episode_event"]
    }
    assert (regimen["episode_id"], 1147094) in events
    for episode in disease:
        assert (episode["episode_id"], 1147127) in events
    procedures = {r["procedure_occurrence_id"] for r in tables["procedure_occurrence"]}
    linked = {
        e["event_id"]
        for e in tables["episode_event"]
        if e["episode_event_field_concept_id"] == 1147082
    }
    assert linked == procedures


def test_write_tables_writes_one_csv_per_table_with_the_omop_header_and_no_identity(
    network, tmp_path
):
    data = collect(RegistryPatient.objects.all(), pseudonymiser=Pseudonymiser(clean_key(network)))
    paths = omop.write_tables(data, tmp_path)
    assert {p.name for p in paths} == {f"{t}.csv" for t in omop.TABLES}
    with (tmp_path / "condition_occurrence.csv").open(encoding="utf-8") as stream:
        header = next(csv.reader(stream))
    assert header == list(omop.COLUMNS["condition_occurrence"])
    assert_no_identity(tmp_path, network)


@pytest.mark.postgres
def test_the_csvs_load_into_the_official_ddl_on_postgresql(network, tmp_path):
    data = collect(RegistryPatient.objects.all(), pseudonymiser=Pseudonymiser(clean_key(network)))
    omop.write_tables(data, tmp_path)
    expected = {t: len(r) for t, r in omop.rows(data).items()}
    schema = f"omop_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {schema}")
        for path in (DDL, PRIMARY_KEYS):
            cursor.execute(path.read_text().replace("@cdmDatabaseSchema", schema))
        raw = cursor.cursor  # the psycopg cursor, for COPY
        for table in omop.TABLES:
            columns = ", ".join(omop.COLUMNS[table])
            with raw.copy(
                f"COPY {schema}.{table} ({columns}) FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy:
                copy.write((tmp_path / f"{table}.csv").read_bytes())
        counts = {}
        for table in omop.TABLES:
            cursor.execute(f"SELECT count(*) FROM {schema}.{table}")
            counts[table] = cursor.fetchone()[0]
        assert counts == expected
        assert counts["person"] == 2 and counts["condition_occurrence"] == 3
        # every Disease episode reaches its condition through episode_event
        cursor.execute(
            f"SELECT e.episode_id, c.condition_source_value, c.person_id = e.person_id "
            f"FROM {schema}.episode e "
            f"JOIN {schema}.episode_event ee ON ee.episode_id = e.episode_id "
            f"AND ee.episode_event_field_concept_id = 1147127 "
            f"JOIN {schema}.condition_occurrence c ON c.condition_occurrence_id = ee.event_id "
            f"WHERE e.episode_concept_id = 32533"
        )
        joined = cursor.fetchall()
        assert len(joined) == 3 and all(same for _e, _s, same in joined)
        # the regimen's drug, and the person's death, by joins
        cursor.execute(
            f"SELECT d.drug_source_value, p.person_source_value, x.death_date "
            f"FROM {schema}.episode e "
            f"JOIN {schema}.episode_event ee ON ee.episode_id = e.episode_id "
            f"AND ee.episode_event_field_concept_id = 1147094 "
            f"JOIN {schema}.drug_exposure d ON d.drug_exposure_id = ee.event_id "
            f"JOIN {schema}.person p ON p.person_id = d.person_id "
            f"JOIN {schema}.death x ON x.person_id = p.person_id "
            f"WHERE e.episode_concept_id = 32531"
        )
        ((drug, subject, _died),) = cursor.fetchall()
        p = Pseudonymiser(clean_key(network))
        assert drug == "lenvatinib"
        assert subject == p.subject_id(network.icca_a.national_pseudonym)
        cursor.execute(f"DROP SCHEMA {schema} CASCADE")
