"""The pseudonymised research dataset every interchange format is written from.

Why one module: the pseudonymisation rule (what is read, shifted, dropped) and the
tables it produces are one decision; the formats only read its output.

Why it looks like this (PIPL; README "Interoperability exports"): identifiable data never
leaves the registry. A person is a *subject id*, a keyed HMAC of the national pseudonym,
so the same person's records at two centers share one subject id and nothing links it
back without the key (which stays with the registry). Every date of a person is shifted by
the same number of days (deterministic per key and person, 1 to 180 days either way,
never 0), so intervals within a person — diagnosis to treatment, to death — are exact
while no calendar date can be matched against a hospital record. The date of birth is
reduced to the year (and an age at diagnosis). Names, identity documents, record numbers,
source systems and source ids, DICOM UIDs, DICOMweb links and header tags, laboratory
names, uploaded files and free text (descriptions, override reasons, further protocol
elements, the site of recurrence) are not read at all. Three short fields are written as
entered because they are the research content: a treatment's regimen and drugs, and an
imaging study's body part.

``collect`` reads every registry domain of the given records in a fixed number of
queries (one per table, each filtered by the records' ids as a subquery): no per-patient
query, whatever the size of the cohort.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from django.db.models import QuerySet

from registry.models import (
    CopyNumberChange,
    FollowUp,
    Fusion,
    GenomicTest,
    ImagingStudy,
    LiradsObservation,
    PathologyReport,
    RegistryPatient,
    StagingRecord,
    Treatment,
    Tumour,
    Variant,
)

ColumnType = Literal["string", "int", "float", "date", "bool"]
COLUMN_TYPES: tuple[ColumnType, ...] = ("string", "int", "float", "date", "bool")
GENOMIC_TABLES = ("genomic_tests", "variants", "fusions", "copy_numbers")
MAX_SHIFT_DAYS = 180
AGE_CAP = 90  # ages above are reported as 90 (a very old age narrows a person down)


@dataclass(frozen=True)
class Pseudonymiser:
    """Subject ids and date shifts keyed by a secret the registry keeps."""

    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) < 16:
            raise ValueError("The pseudonymisation key needs at least 16 bytes.")

    def _digest(self, purpose: bytes, national_pseudonym: str) -> bytes:
        message = purpose + b"\x00" + national_pseudonym.encode("utf-8")
        return hmac.new(self.key, message, hashlib.sha256).digest()

    def subject_id(self, national_pseudonym: str) -> str:
        """``S`` + 12 hex characters: stable per key, the same for a person's records at
        every center."""
        return "S" + self._digest(b"subject", national_pseudonym).hex()[:12].upper()

    def shift_days(self, national_pseudonym: str) -> int:
        """The person's date shift: in [-180, -1] or [1, 180], never 0."""
        n = int.from_bytes(self._digest(b"date-shift", national_pseudonym)[:8], "big")
        n %= 2 * MAX_SHIFT_DAYS
        return n - MAX_SHIFT_DAYS if n < MAX_SHIFT_DAYS else n - MAX_SHIFT_DAYS + 1

    def date(self, d: datetime.date | None, national_pseudonym: str) -> datetime.date | None:
        if d is None:
            return None
        return d + datetime.timedelta(days=self.shift_days(national_pseudonym))


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"Unknown column type {self.type!r}")


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def records(self) -> list[dict[str, Any]]:
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class ResearchDataset:
    tables: dict[str, Table]

    def records(self, name: str) -> list[dict[str, Any]]:
        """The rows of ``name`` as dicts (an absent table has none)."""
        table = self.tables.get(name)
        return table.records() if table else []

    @property
    def has_genomics(self) -> bool:
        return "genomic_tests" in self.tables


def _cols(spec: str) -> tuple[Column, ...]:
    """``"name:type name:type …"`` (type defaults to string)."""
    out = []
    for item in spec.split():
        name, _sep, kind = item.partition(":")
        out.append(Column(name, kind or "string"))  # type: ignore[arg-type]
    return tuple(out)


KEY = "subject_id center"
SCHEMAS: dict[str, tuple[Column, ...]] = {
    "patients": _cols(
        f"{KEY} sex year_of_birth:int age_at_diagnosis:int is_expatriate:bool "
        + " ".join(f"{r}:bool" for r in RegistryPatient.RISK_FACTORS)
        + " vital_status death_date:date cause_of_death last_contact_date:date"
    ),
    "tumours": _cols(
        f"{KEY} tumour_id:int category topography morphology diagnosis_date:date basis "
        "focality tumour_count:int largest_size_mm:int vascular_invasion "
        "extrahepatic_invasion:bool peritoneum_perforated:bool nodes_positive:bool "
        "metastatic_sites"
    ),
    "staging": _cols(
        f"{KEY} tumour_id:int system staged_on:date value computed_value "
        "overridden:bool engine_version"
    ),
    "pathology": _cols(
        f"{KEY} tumour_id:int protocol protocol_version report_date:date specimen "
        "histologic_type grade icca_subtype margin margin_distance_mm:float "
        "nodes_examined:int nodes_positive:int perineural_invasion vascular_invasion pt pn ihc"
    ),
    "treatments": _cols(
        f"{KEY} treatment_id:int tumour_id:int kind start_date:date end_date:date intent "
        "line:int regimen drugs best_response"
    ),
    "follow_ups": _cols(
        f"{KEY} contact_date:date vital_status status_source event event_date:date "
        "event_method death_date:date cause_of_death"
    ),
    "imaging": _cols(
        f"{KEY} imaging_id:int study_date:date modality body_part contrast_phases lirads_categories"
    ),
    "genomic_tests": _cols(
        f"{KEY} test_id:int sample_id tumour_id:int kind specimen test_date:date "
        "genes_covered panel_size_mb:float msi tmb:float pdl1_tps:int pdl1_cps:int her2"
    ),
    "variants": _cols(
        f"{KEY} sample_id gene hgvs_c hgvs_p vaf:float classification chrom position:int ref alt"
    ),
    "fusions": _cols(f"{KEY} sample_id gene_5 gene_3 breakpoint_5 breakpoint_3 in_frame:bool"),
    "copy_numbers": _cols(f"{KEY} sample_id gene change copy_number:float"),
}


def _float(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def _joined(values: Iterable[Any]) -> str:
    return ";".join(str(v) for v in values if v not in (None, ""))


def _birth_year(birth: datetime.date, diagnosed: datetime.date | None) -> int:
    """The year of birth, capped like the age: a person older than ``AGE_CAP`` at the
    first diagnosis (or today) is given the year that makes them ``AGE_CAP``, so the year
    does not give away what the capped age hides."""
    on = diagnosed or datetime.date.today()
    if _age(birth, on) >= AGE_CAP:
        return on.year - AGE_CAP
    return birth.year


def _age(birth: datetime.date, on: datetime.date) -> int:
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return min(years, AGE_CAP)


def collect(
    patients: QuerySet[RegistryPatient],
    *,
    pseudonymiser: Pseudonymiser,
    include_genomics: bool = True,
) -> ResearchDataset:
    """The dataset of ``patients`` (every domain, pseudonymised; see the module docstring).

    Queries: patients with their centers (1), tumours, stages, pathology, treatments,
    follow-ups, imaging studies, LI-RADS observations (7), and with genomics the tests,
    variants, fusions and copy-number changes (4).
    """
    ids = patients.order_by().values("pk")
    people: dict[int, tuple[str, str, str]] = {}  # pk -> (subject, center, pseudonym)
    base: dict[int, RegistryPatient] = {}
    for p in (
        RegistryPatient.objects.filter(pk__in=ids)
        .select_related("site")
        .only(
            "pk",
            "national_pseudonym",
            "sex",
            "birth_date",
            "is_expatriate",
            *RegistryPatient.RISK_FACTORS,
            "site__code",
        )
        .order_by("pk")
    ):
        people[p.pk] = (
            pseudonymiser.subject_id(p.national_pseudonym),
            p.site.code,
            p.national_pseudonym,
        )
        base[p.pk] = p

    def key(pid: int) -> tuple[str, str]:
        return people[pid][0], people[pid][1]

    def shifted(pid: int, d: datetime.date | None) -> datetime.date | None:
        return pseudonymiser.date(d, people[pid][2])

    def order(pid: int, *rest: Any) -> tuple[Any, ...]:
        return (people[pid][0], people[pid][1], *rest)

    tables: dict[str, Table] = {}

    # tumours: export-local ids in subject order (registry keys never leave)
    tumours = sorted(
        Tumour.objects.filter(patient_id__in=ids),
        key=lambda t: order(t.patient_id, t.diagnosis_date, t.pk),
    )
    tumour_ids = {t.pk: n for n, t in enumerate(tumours, start=1)}
    first_dx: dict[int, datetime.date] = {}
    for t in tumours:
        if t.patient_id not in first_dx or t.diagnosis_date < first_dx[t.patient_id]:
            first_dx[t.patient_id] = t.diagnosis_date
    tables["tumours"] = Table(
        SCHEMAS["tumours"],
        [
            (
                *key(t.patient_id),
                tumour_ids[t.pk],
                t.category,
                t.topography,
                t.morphology,
                shifted(t.patient_id, t.diagnosis_date),
                t.basis,
                t.focality,
                t.tumour_count,
                t.largest_size_mm,
                t.vascular_invasion,
                t.extrahepatic_invasion,
                t.peritoneum_perforated,
                t.nodes_positive,
                _joined(t.metastatic_sites or []),
            )
            for t in tumours
        ],
    )

    stagings = sorted(
        StagingRecord.objects.filter(tumour__patient_id__in=ids).select_related("tumour"),
        key=lambda s: order(s.tumour.patient_id, tumour_ids[s.tumour_id], s.system, s.staged_on),
    )
    tables["staging"] = Table(
        SCHEMAS["staging"],
        [
            (
                *key(s.tumour.patient_id),
                tumour_ids[s.tumour_id],
                s.system,
                shifted(s.tumour.patient_id, s.staged_on),
                s.value,
                s.computed_value,
                bool(s.override_value),
                s.engine_version,
            )
            for s in stagings
        ],
    )

    reports = sorted(
        PathologyReport.objects.filter(tumour__patient_id__in=ids).select_related("tumour"),
        key=lambda r: order(r.tumour.patient_id, tumour_ids[r.tumour_id], r.report_date, r.pk),
    )
    tables["pathology"] = Table(
        SCHEMAS["pathology"],
        [
            (
                *key(r.tumour.patient_id),
                tumour_ids[r.tumour_id],
                r.protocol,
                r.protocol_version,
                shifted(r.tumour.patient_id, r.report_date),
                r.specimen,
                r.histologic_type,
                r.grade,
                r.icca_subtype,
                r.margin,
                _float(r.margin_distance_mm),
                r.nodes_examined,
                r.nodes_positive,
                r.perineural_invasion,
                r.vascular_invasion,
                r.pt,
                r.pn,
                _joined(f"{m}:{v}" for m, v in sorted((r.ihc or {}).items())),
            )
            for r in reports
        ],
    )

    treatments = sorted(
        Treatment.objects.filter(patient_id__in=ids),
        key=lambda t: order(t.patient_id, t.start_date, t.pk),
    )
    tables["treatments"] = Table(
        SCHEMAS["treatments"],
        [
            (
                *key(t.patient_id),
                n,
                tumour_ids.get(t.tumour_id) if t.tumour_id else None,
                t.kind,
                shifted(t.patient_id, t.start_date),
                shifted(t.patient_id, t.end_date),
                t.intent,
                t.line,
                t.regimen,
                _joined(t.drugs or []),
                t.best_response,
            )
            for n, t in enumerate(treatments, start=1)
        ],
    )

    follow_ups = sorted(
        FollowUp.objects.filter(patient_id__in=ids),
        key=lambda f: order(f.patient_id, f.contact_date, f.pk),
    )
    tables["follow_ups"] = Table(
        SCHEMAS["follow_ups"],
        [
            (
                *key(f.patient_id),
                shifted(f.patient_id, f.contact_date),
                f.vital_status,
                f.status_source,
                f.event,
                shifted(f.patient_id, f.event_date),
                f.event_method,
                shifted(f.patient_id, f.death_date),
                f.cause_of_death,
            )
            for f in follow_ups
        ],
    )

    lirads: dict[int, list[str]] = defaultdict(list)
    for study_id, category in (
        LiradsObservation.objects.filter(study__patient_id__in=ids)
        .order_by("study_id", "label", "pk")
        .values_list("study_id", "category")
    ):
        lirads[study_id].append(category)
    studies = sorted(
        ImagingStudy.objects.filter(patient_id__in=ids).only(
            "pk", "patient_id", "study_date", "modality", "body_part", "contrast_phases"
        ),
        key=lambda s: order(s.patient_id, s.study_date, s.pk),
    )
    tables["imaging"] = Table(
        SCHEMAS["imaging"],
        [
            (
                *key(s.patient_id),
                n,
                shifted(s.patient_id, s.study_date),
                s.modality,
                s.body_part,
                _joined(s.contrast_phases or []),
                _joined(lirads.get(s.pk, [])),
            )
            for n, s in enumerate(studies, start=1)
        ],
    )

    # patients: vital status from the latest follow-up, death from any follow-up
    last: dict[int, FollowUp] = {}
    death: dict[int, tuple[datetime.date, str]] = {}
    for f in follow_ups:
        if f.patient_id not in last or f.contact_date >= last[f.patient_id].contact_date:
            last[f.patient_id] = f
        if f.death_date and (f.patient_id not in death or f.death_date < death[f.patient_id][0]):
            death[f.patient_id] = (f.death_date, f.cause_of_death)
    patient_rows = []
    for pid in sorted(base, key=lambda pid: order(pid)):
        p = base[pid]
        latest = last.get(pid)
        died = death.get(pid)
        vital = "dead" if died else (latest.vital_status if latest else "")
        patient_rows.append(
            (
                *key(pid),
                p.sex,
                _birth_year(p.birth_date, first_dx.get(pid)),
                _age(p.birth_date, first_dx[pid]) if pid in first_dx else None,
                p.is_expatriate,
                *(getattr(p, r) for r in RegistryPatient.RISK_FACTORS),
                vital,
                shifted(pid, died[0]) if died else None,
                died[1] if died else "",
                shifted(pid, latest.contact_date) if latest else None,
            )
        )
    tables["patients"] = Table(SCHEMAS["patients"], patient_rows)

    if include_genomics:
        tables.update(_genomics(ids, key=key, shifted=shifted, order=order, tumour_ids=tumour_ids))
    ordered = ("patients", "tumours", "staging", "pathology", "treatments", "follow_ups")
    names = (*ordered, "imaging", *(GENOMIC_TABLES if include_genomics else ()))
    return ResearchDataset({name: tables[name] for name in names})


def _genomics(
    ids: Any,
    *,
    key: Callable[[int], tuple[str, str]],
    shifted: Callable[[int, datetime.date | None], datetime.date | None],
    order: Callable[..., tuple[Any, ...]],
    tumour_ids: dict[int, int],
) -> dict[str, Table]:
    tests = sorted(
        GenomicTest.objects.filter(patient_id__in=ids).defer("vcf_file", "vcf_sha256", "lab"),
        key=lambda t: order(t.patient_id, t.test_date, t.pk),
    )
    sample: dict[int, tuple[int, str]] = {}  # test pk -> (patient pk, sample id)
    counter: dict[str, int] = defaultdict(int)
    rows = []
    for n, t in enumerate(tests, start=1):
        subject, center = key(t.patient_id)
        counter[subject] += 1
        sample_id = f"{subject}-T{counter[subject]}"
        sample[t.pk] = (t.patient_id, sample_id)
        rows.append(
            (
                subject,
                center,
                n,
                sample_id,
                tumour_ids.get(t.tumour_id) if t.tumour_id else None,
                t.kind,
                t.specimen,
                shifted(t.patient_id, t.test_date),
                _joined(t.genes_covered or []),
                _float(t.panel_size_mb),
                t.msi,
                _float(t.tmb),
                t.pdl1_tps,
                t.pdl1_cps,
                t.her2,
            )
        )
    out = {"genomic_tests": Table(SCHEMAS["genomic_tests"], rows)}

    def results(model: Any, convert: Callable[[Any], tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        found = []
        for obj in model.objects.filter(test__patient_id__in=ids).order_by("test_id", "pk"):
            pid, sample_id = sample[obj.test_id]
            found.append((*key(pid), sample_id, *convert(obj)))
        found.sort(key=lambda row: (row[0], row[1], row[2], *[str(v) for v in row[3:]]))
        return found

    out["variants"] = Table(
        SCHEMAS["variants"],
        results(
            Variant,
            lambda v: (
                v.gene,
                v.hgvs_c,
                v.hgvs_p,
                _float(v.vaf),
                v.classification,
                v.chrom,
                v.position,
                v.ref,
                v.alt,
            ),
        ),
    )
    out["fusions"] = Table(
        SCHEMAS["fusions"],
        results(
            Fusion,
            lambda f: (f.gene_5, f.gene_3, f.breakpoint_5, f.breakpoint_3, f.in_frame),
        ),
    )
    out["copy_numbers"] = Table(
        SCHEMAS["copy_numbers"],
        results(CopyNumberChange, lambda c: (c.gene, c.change, _float(c.copy_number))),
    )
    return out


@dataclass(frozen=True)
class Person:
    """One person (subject) over all their records: what the per-person formats need
    (cBioPortal patients, OMOP persons, FHIR patients)."""

    subject_id: str
    centers: tuple[str, ...]
    sex: str
    year_of_birth: int
    age_at_diagnosis: int | None
    first_diagnosis: datetime.date | None
    last_contact: datetime.date | None
    death_date: datetime.date | None
    cause_of_death: str
    is_expatriate: bool
    risk: dict[str, bool | None]


def persons(dataset: ResearchDataset) -> list[Person]:
    """One entry per subject id, in subject order: the earliest diagnosis (and the age at
    it), the latest contact and the earliest death of any center; a risk factor is True if
    any center recorded it, False if one recorded its absence and none its presence."""
    first_dx: dict[str, datetime.date] = {}
    for t in dataset.records("tumours"):
        d = t["diagnosis_date"]
        if t["subject_id"] not in first_dx or d < first_dx[t["subject_id"]]:
            first_dx[t["subject_id"]] = d
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in dataset.records("patients"):
        grouped[row["subject_id"]].append(row)
    out = []
    for subject in sorted(grouped):
        rows = grouped[subject]
        with_dx = [r for r in rows if r["age_at_diagnosis"] is not None]
        deaths = sorted((r["death_date"], r["cause_of_death"]) for r in rows if r["death_date"])
        contacts = [r["last_contact_date"] for r in rows if r["last_contact_date"]]
        risk: dict[str, bool | None] = {}
        for factor in RegistryPatient.RISK_FACTORS:
            values = [r[factor] for r in rows if r[factor] is not None]
            risk[factor] = any(values) if values else None
        out.append(
            Person(
                subject_id=subject,
                centers=tuple(sorted({r["center"] for r in rows})),
                sex=rows[0]["sex"],
                year_of_birth=rows[0]["year_of_birth"],
                age_at_diagnosis=min(r["age_at_diagnosis"] for r in with_dx) if with_dx else None,
                first_diagnosis=first_dx.get(subject),
                last_contact=max(contacts) if contacts else None,
                death_date=deaths[0][0] if deaths else None,
                cause_of_death=deaths[0][1] if deaths else "",
                is_expatriate=any(r["is_expatriate"] for r in rows),
                risk=risk,
            )
        )
    return out


# --- writing ---------------------------------------------------------------------------


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def write_tables(dataset: ResearchDataset, directory: Path) -> list[Path]:
    """Each table as ``<name>.parquet`` (explicit schema from the column types) and
    ``<name>.csv`` (UTF-8, header row, spreadsheet-safe cells). Returns the paths."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from domain import csv_safety

    arrow_types = {
        "string": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "date": pa.date32(),
        "bool": pa.bool_(),
    }
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, table in dataset.tables.items():
        schema = pa.schema([pa.field(c.name, arrow_types[c.type]) for c in table.columns])
        columns = list(zip(*table.rows, strict=True)) if table.rows else [()] * len(table.columns)
        arrays = [
            pa.array(list(values), type=arrow_types[c.type])
            for c, values in zip(table.columns, columns, strict=True)
        ]
        parquet = directory / f"{name}.parquet"
        pq.write_table(pa.Table.from_arrays(arrays, schema=schema), parquet)
        csv_path = directory / f"{name}.csv"
        with csv_path.open("w", encoding="utf-8", newline="") as stream:
            writer = csv_safety.writer(stream)
            writer.writerow(table.names)
            writer.writerows([_csv_value(v) for v in row] for row in table.rows)
        written += [parquet, csv_path]
    return written
