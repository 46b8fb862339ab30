"""OMOP CDM 5.4 tables, with the oncology extension (episode, episode_event), from a
research dataset.

Tables: person, observation_period, condition_occurrence, measurement,
procedure_occurrence, drug_exposure, episode, episode_event, death — the column names and
NOT NULL columns of the official 5.4 DDL (OHDSI/CommonDataModel
``inst/ddl/5.4/postgresql``; the tests load these files into it).

Concept ids. The export carries no OMOP vocabulary, so a clinical code is written as its
source value with concept id **0** ("No matching concept", the OMOP convention for
unmapped codes): the ICD-O-3 diagnosis as ``condition_source_value`` ``8160/3-C22.1``
(histology-topography, the form of the ICDO3 vocabulary's concept codes), staging and
biomarkers as measurement source values (``AJCC8_ICC`` with value ``IB``, ``TMB`` with
its number and ``mut/Mb``), treatments by their registry kind (``resection``, ``tace`` …),
drugs by name. A site that loads the vocabularies maps them with its usual source-to-concept
step. Fixed concepts that need no mapping are used as such: gender 8507 male / 8532
female; type concept 32879 *Registry* for every row's provenance; episode concepts 32533
*Disease Episode* and 32531 *Treatment Regimen*; episode_event (and measurement event)
field concepts 1147127 condition_occurrence.condition_occurrence_id, 1147082
procedure_occurrence.procedure_occurrence_id, 1147094 drug_exposure.drug_exposure_id.

Ids are integers: person_id 1…n in subject-id order (person_source_value is the subject
id); every other id comes from one counter, so an id is unique within the whole export.
One person per subject: the same person's records at two centers are one OMOP person.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .dataset import ResearchDataset, persons

GENDER = {"M": 8507, "F": 8532}
REGISTRY_TYPE = 32879
DISEASE_EPISODE = 32533
TREATMENT_REGIMEN = 32531
FIELD_CONDITION = 1147127
FIELD_PROCEDURE = 1147082
FIELD_DRUG = 1147094
UNMAPPED = 0
SOURCE_MAX = 50  # varchar(50) of every *_source_value column


def _n(names: str) -> tuple[str, ...]:
    return tuple(names.split())


COLUMNS: dict[str, tuple[str, ...]] = {
    "person": _n(
        "person_id gender_concept_id year_of_birth month_of_birth day_of_birth birth_datetime "
        "race_concept_id ethnicity_concept_id location_id provider_id care_site_id "
        "person_source_value gender_source_value gender_source_concept_id race_source_value "
        "race_source_concept_id ethnicity_source_value ethnicity_source_concept_id"
    ),
    "observation_period": _n(
        "observation_period_id person_id observation_period_start_date "
        "observation_period_end_date period_type_concept_id"
    ),
    "condition_occurrence": _n(
        "condition_occurrence_id person_id condition_concept_id condition_start_date "
        "condition_start_datetime condition_end_date condition_end_datetime "
        "condition_type_concept_id condition_status_concept_id stop_reason provider_id "
        "visit_occurrence_id visit_detail_id condition_source_value "
        "condition_source_concept_id condition_status_source_value"
    ),
    "measurement": _n(
        "measurement_id person_id measurement_concept_id measurement_date measurement_datetime "
        "measurement_time measurement_type_concept_id operator_concept_id value_as_number "
        "value_as_concept_id unit_concept_id range_low range_high provider_id "
        "visit_occurrence_id visit_detail_id measurement_source_value "
        "measurement_source_concept_id unit_source_value unit_source_concept_id "
        "value_source_value measurement_event_id meas_event_field_concept_id"
    ),
    "procedure_occurrence": _n(
        "procedure_occurrence_id person_id procedure_concept_id procedure_date "
        "procedure_datetime procedure_end_date procedure_end_datetime "
        "procedure_type_concept_id modifier_concept_id quantity provider_id "
        "visit_occurrence_id visit_detail_id procedure_source_value "
        "procedure_source_concept_id modifier_source_value"
    ),
    "drug_exposure": _n(
        "drug_exposure_id person_id drug_concept_id drug_exposure_start_date "
        "drug_exposure_start_datetime drug_exposure_end_date drug_exposure_end_datetime "
        "verbatim_end_date drug_type_concept_id stop_reason refills quantity days_supply sig "
        "route_concept_id lot_number provider_id visit_occurrence_id visit_detail_id "
        "drug_source_value drug_source_concept_id route_source_value dose_unit_source_value"
    ),
    "episode": _n(
        "episode_id person_id episode_concept_id episode_start_date episode_start_datetime "
        "episode_end_date episode_end_datetime episode_parent_id episode_number "
        "episode_object_concept_id episode_type_concept_id episode_source_value "
        "episode_source_concept_id"
    ),
    "episode_event": _n("episode_id event_id episode_event_field_concept_id"),
    "death": _n(
        "person_id death_date death_datetime death_type_concept_id cause_concept_id "
        "cause_source_value cause_source_concept_id"
    ),
}
TABLES = tuple(COLUMNS)


def _source(value: Any) -> str | None:
    text = "" if value is None else str(value)
    return text[:SOURCE_MAX] or None


def _ids() -> Iterator[int]:
    n = 0
    while True:
        n += 1
        yield n


def rows(dataset: ResearchDataset) -> dict[str, list[dict[str, Any]]]:
    """Every OMOP table as a list of rows (dicts with every column of the table)."""
    out: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}

    def add(table: str, **values: Any) -> dict[str, Any]:
        unknown = set(values) - set(COLUMNS[table])
        if unknown:
            raise KeyError(f"{table} has no column {sorted(unknown)}")
        row = {c: values.get(c) for c in COLUMNS[table]}
        out[table].append(row)
        return row

    people = persons(dataset)
    person_id = {p.subject_id: n for n, p in enumerate(people, start=1)}
    next_id = _ids()
    dates: dict[str, list[datetime.date]] = defaultdict(list)

    for p in people:
        add(
            "person",
            person_id=person_id[p.subject_id],
            gender_concept_id=GENDER.get(p.sex, UNMAPPED),
            year_of_birth=p.year_of_birth,
            race_concept_id=UNMAPPED,
            ethnicity_concept_id=UNMAPPED,
            person_source_value=p.subject_id,
            gender_source_value=p.sex,
            gender_source_concept_id=UNMAPPED,
        )
        for d in (p.last_contact, p.death_date):
            if d:
                dates[p.subject_id].append(d)
        if p.death_date:
            add(
                "death",
                person_id=person_id[p.subject_id],
                death_date=p.death_date,
                death_type_concept_id=REGISTRY_TYPE,
                cause_concept_id=UNMAPPED if p.cause_of_death else None,
                cause_source_value=_source(p.cause_of_death),
                cause_source_concept_id=UNMAPPED if p.cause_of_death else None,
            )

    # diagnoses: a condition and a Disease episode per tumour
    condition_of: dict[tuple[str, str, int], int] = {}
    disease_episode: dict[tuple[str, str, int], int] = {}
    first_episode: dict[str, int] = {}
    for t in dataset.records("tumours"):
        subject, key = t["subject_id"], (t["subject_id"], t["center"], t["tumour_id"])
        source = f"{t['morphology']}-{t['topography']}"
        condition = add(
            "condition_occurrence",
            condition_occurrence_id=next(next_id),
            person_id=person_id[subject],
            condition_concept_id=UNMAPPED,
            condition_start_date=t["diagnosis_date"],
            condition_type_concept_id=REGISTRY_TYPE,
            condition_source_value=source,
            condition_source_concept_id=UNMAPPED,
        )
        condition_of[key] = condition["condition_occurrence_id"]
        episode = add(
            "episode",
            episode_id=next(next_id),
            person_id=person_id[subject],
            episode_concept_id=DISEASE_EPISODE,
            episode_start_date=t["diagnosis_date"],
            episode_object_concept_id=UNMAPPED,
            episode_type_concept_id=REGISTRY_TYPE,
            episode_source_value=_source(f"{t['category']} {source}"),
            episode_source_concept_id=UNMAPPED,
        )
        disease_episode[key] = episode["episode_id"]
        first_episode.setdefault(subject, episode["episode_id"])
        add(
            "episode_event",
            episode_id=episode["episode_id"],
            event_id=condition["condition_occurrence_id"],
            episode_event_field_concept_id=FIELD_CONDITION,
        )
        dates[subject].append(t["diagnosis_date"])

    # staging: measurements linked to the condition they stage
    for s in dataset.records("staging"):
        if not s["value"]:
            continue
        key = (s["subject_id"], s["center"], s["tumour_id"])
        add(
            "measurement",
            measurement_id=next(next_id),
            person_id=person_id[s["subject_id"]],
            measurement_concept_id=UNMAPPED,
            measurement_date=s["staged_on"],
            measurement_type_concept_id=REGISTRY_TYPE,
            value_as_concept_id=UNMAPPED,
            measurement_source_value=_source(s["system"]),
            measurement_source_concept_id=UNMAPPED,
            value_source_value=_source(s["value"]),
            measurement_event_id=condition_of.get(key),
            meas_event_field_concept_id=FIELD_CONDITION if key in condition_of else None,
        )
        dates[s["subject_id"]].append(s["staged_on"])

    # biomarkers of the molecular tests
    for g in dataset.records("genomic_tests"):
        subject = g["subject_id"]
        key = (subject, g["center"], g["tumour_id"])
        markers: list[tuple[str, float | None, str | None, str | None]] = [
            ("TMB", g["tmb"], "mut/Mb", None),
            ("PD-L1 TPS", g["pdl1_tps"], "%", None),
            ("PD-L1 CPS", g["pdl1_cps"], None, None),
            ("MSI", None, None, g["msi"] or None),
            ("HER2", None, None, g["her2"] or None),
        ]
        for name, number, unit, value in markers:
            if number is None and value is None:
                continue
            add(
                "measurement",
                measurement_id=next(next_id),
                person_id=person_id[subject],
                measurement_concept_id=UNMAPPED,
                measurement_date=g["test_date"],
                measurement_type_concept_id=REGISTRY_TYPE,
                value_as_number=number,
                value_as_concept_id=UNMAPPED if value else None,
                unit_concept_id=UNMAPPED if unit else None,
                measurement_source_value=name,
                measurement_source_concept_id=UNMAPPED,
                unit_source_value=unit,
                value_source_value=_source(value),
                measurement_event_id=condition_of.get(key),
                meas_event_field_concept_id=FIELD_CONDITION if key in condition_of else None,
            )
        dates[subject].append(g["test_date"])

    # treatments: procedures, and drug exposures grouped in Treatment Regimen episodes
    for t in dataset.records("treatments"):
        subject = t["subject_id"]
        key = (subject, t["center"], t["tumour_id"])
        parent = disease_episode.get(key) or first_episode.get(subject)
        end = t["end_date"]
        dates[subject] += [d for d in (t["start_date"], end) if d]
        if t["kind"] != "systemic":
            procedure = add(
                "procedure_occurrence",
                procedure_occurrence_id=next(next_id),
                person_id=person_id[subject],
                procedure_concept_id=UNMAPPED,
                procedure_date=t["start_date"],
                procedure_end_date=end,
                procedure_type_concept_id=REGISTRY_TYPE,
                procedure_source_value=t["kind"],
                procedure_source_concept_id=UNMAPPED,
            )
            if parent:
                add(
                    "episode_event",
                    episode_id=parent,
                    event_id=procedure["procedure_occurrence_id"],
                    episode_event_field_concept_id=FIELD_PROCEDURE,
                )
            continue
        drugs = [d for d in (t["drugs"] or "").split(";") if d] or [t["regimen"] or "unspecified"]
        regimen = add(
            "episode",
            episode_id=next(next_id),
            person_id=person_id[subject],
            episode_concept_id=TREATMENT_REGIMEN,
            episode_start_date=t["start_date"],
            episode_end_date=end,
            episode_parent_id=parent,
            episode_number=t["line"],
            episode_object_concept_id=UNMAPPED,
            episode_type_concept_id=REGISTRY_TYPE,
            episode_source_value=_source(t["regimen"] or "+".join(drugs)),
            episode_source_concept_id=UNMAPPED,
        )
        for drug in drugs:
            exposure = add(
                "drug_exposure",
                drug_exposure_id=next(next_id),
                person_id=person_id[subject],
                drug_concept_id=UNMAPPED,
                drug_exposure_start_date=t["start_date"],
                # unknown end: the start (OMOP convention when no duration is known)
                drug_exposure_end_date=end or t["start_date"],
                verbatim_end_date=end,
                drug_type_concept_id=REGISTRY_TYPE,
                drug_source_value=_source(drug),
                drug_source_concept_id=UNMAPPED,
            )
            add(
                "episode_event",
                episode_id=regimen["episode_id"],
                event_id=exposure["drug_exposure_id"],
                episode_event_field_concept_id=FIELD_DRUG,
            )

    for table in ("follow_ups", "imaging", "pathology"):
        for r in dataset.records(table):
            for column in ("contact_date", "event_date", "study_date", "report_date"):
                if r.get(column):
                    dates[r["subject_id"]].append(r[column])

    for p in people:
        seen = dates.get(p.subject_id)
        if not seen:
            continue
        add(
            "observation_period",
            observation_period_id=next(next_id),
            person_id=person_id[p.subject_id],
            observation_period_start_date=min(seen),
            observation_period_end_date=max(seen),
            period_type_concept_id=REGISTRY_TYPE,
        )
    return out


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def write_tables(dataset: ResearchDataset, directory: Path) -> list[Path]:
    """``<table>.csv`` per OMOP table (header = the OMOP column names, UTF-8, empty cell =
    NULL, spreadsheet-safe); the paths written."""
    from domain import csv_safety

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for table, table_rows in rows(dataset).items():
        path = directory / f"{table}.csv"
        with path.open("w", encoding="utf-8", newline="") as stream:
            writer = csv_safety.writer(stream)
            writer.writerow(COLUMNS[table])
            writer.writerows([_csv_value(r[c]) for c in COLUMNS[table]] for r in table_rows)
        written.append(path)
    return written
