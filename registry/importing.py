"""CSV bulk import, one template per domain.

A file is first **checked** in full: every row is validated by the same service a form
uses, inside a savepoint that is rolled back, and every problem is reported as
(row, field, problem); nothing is written. Only a file without problems can then be
**imported**, all rows in one transaction. Rows are matched by source system + source id
(results of a molecular test, which have no id of their own in the lab's report, by
their test's source id + what identifies them: gene and HGVS for a variant, the two
genes of a fusion, gene and change for a copy-number change), so re-importing the same
file changes nothing (an unchanged row is not re-saved; a
changed one is updated with the reason "re-import"). Both passes run as a background job
(Celery, eager without Redis) that updates the job's progress.
"""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from domain.csv_safety import writer as safe_csv_writer
from sites.roles import Perm
from sites.scoping import has_perm

from . import services
from .models import (
    CopyNumberChange,
    FollowUp,
    Fusion,
    GenomicTest,
    ImagingStudy,
    ImportJob,
    PathologyReport,
    RegistryPatient,
    Treatment,
    Tumour,
    Variant,
)

MAX_ROWS = 50000
MAX_BYTES = 20 * 1024 * 1024
PROGRESS_EVERY = 25


class RowError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _date(field: str, value: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise RowError(field, _("Not a date (use YYYY-MM-DD).")) from exc


def _bool(field: str, value: str) -> bool | None:
    v = value.lower()
    if v == "":
        return None
    if v in ("1", "true", "yes", "y"):
        return True
    if v in ("0", "false", "no", "n"):
        return False
    raise RowError(field, _("Use yes or no (or leave empty if unknown)."))


def _int(field: str, value: str) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise RowError(field, _("Not a whole number.")) from exc


def _decimal(field: str, value: str) -> Decimal | None:
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise RowError(field, _("Not a number.")) from exc


def _list(field: str, value: str) -> list[str]:
    return [v.strip() for v in value.split(";") if v.strip()]


def _text(field: str, value: str) -> str:
    return value


def _markers(field: str, value: str) -> dict[str, str]:
    """``marker:result;marker:result`` (IHC) as a dict."""
    markers: dict[str, str] = {}
    for item in _list(field, value):
        marker, sep, result = item.partition(":")
        if not sep or not marker.strip() or not result.strip():
            raise RowError(field, _("Write markers as marker:result separated by ;."))
        markers[marker.strip()] = result.strip()
    return markers


@dataclass(frozen=True)
class DomainSpec:
    label: Any
    model: type
    columns: dict[str, Callable[[str, str], Any]]  # column -> parser (all optional ones too)
    required: tuple[str, ...]
    save: Callable[..., Any]  # (owner, existing, fields, user, reason, source) -> record
    owned_by_patient: bool = True
    #: the column naming the owning record by its source id, and that record's model
    owner_column: str = "patient_source_id"
    owner_model: type = RegistryPatient
    defaults: dict[str, Any] | None = None  # empty optional cells; None: DEFAULTS
    example: tuple[str, ...] = ()  # one documented example row of the template
    #: for records without a source id of their own (a test's variants): the columns
    #: that identify a row within its owner; re-imports match on them
    natural_key: tuple[str, ...] = ()

    @property
    def owner_field(self) -> str:
        if self.owner_model is Tumour:
            return "tumour"
        if self.owner_model is GenomicTest:
            return "test"
        return "patient"

    def row_key(self, row: dict[str, str]) -> str:
        """What two rows of one file may not share (a duplicate would import twice)."""
        if self.natural_key:
            parts = (row.get(self.owner_column, ""), *(row.get(c, "") for c in self.natural_key))
            return "\x1f".join(parts) if any(parts) else ""
        return row.get("source_id", "")


def _save_patient(
    patient_owner: Any,
    existing: Any,
    fields: dict,
    user: Any,
    reason: str,
    source: tuple[str, str],
    site: Any,
) -> Any:
    if existing is None:
        return services.registry_patient_register(
            site=site, acting_user=user, source_system=source[0], source_id=source[1], **fields
        )
    return services.registry_patient_update(
        patient=existing, acting_user=user, reason=reason, **fields
    )


def _child_saver(
    service: Callable[..., Any], kw: str, owner_kw: str = "patient"
) -> Callable[..., Any]:
    def save(
        owner: Any,
        existing: Any,
        fields: dict,
        user: Any,
        reason: str,
        source: tuple[str, str],
        site: Any,
    ) -> Any:
        if existing is None:
            return service(
                **{owner_kw: owner},
                acting_user=user,
                source_system=source[0],
                source_id=source[1],
                **fields,
            )
        return service(
            **{owner_kw: owner}, acting_user=user, reason=reason, **{kw: existing}, **fields
        )

    return save


def _result_saver(service: Callable[..., Any], kw: str) -> Callable[..., Any]:
    """Saver of a molecular test's result rows (no source id: matched by natural key)."""

    def save(
        owner: Any,
        existing: Any,
        fields: dict,
        user: Any,
        reason: str,
        source: tuple[str, str],
        site: Any,
    ) -> Any:
        if existing is None:
            return service(test=owner, acting_user=user, **fields)
        return service(test=owner, acting_user=user, reason=reason, **{kw: existing}, **fields)

    return save


RISK = dict.fromkeys(RegistryPatient.RISK_FACTORS, _bool)
DOMAINS: dict[str, DomainSpec] = {
    "patients": DomainSpec(
        gettext_lazy("Patients"),
        RegistryPatient,
        {
            "source_id": _text,
            "full_name": _text,
            "id_document_type": _text,
            "id_document_number": _text,
            "sex": _text,
            "birth_date": _date,
            "nationality": _text,
            "is_expatriate": _bool,
            "residence_region": _text,
            **RISK,
        },
        ("source_id", "full_name", "id_document_type", "id_document_number", "sex", "birth_date"),
        _save_patient,
        owned_by_patient=False,
    ),
    "tumours": DomainSpec(
        gettext_lazy("Diagnoses"),
        Tumour,
        {
            "patient_source_id": _text,
            "source_id": _text,
            "category": _text,
            "topography": _text,
            "morphology": _text,
            "diagnosis_date": _date,
            "basis": _text,
            "focality": _text,
            "tumour_count": _int,
            "largest_size_mm": _int,
            "vascular_invasion": _text,
            "extrahepatic_invasion": _bool,
            "peritoneum_perforated": _bool,
            "nodes_positive": _bool,
            "metastatic_sites": _list,
        },
        (
            "patient_source_id",
            "source_id",
            "category",
            "topography",
            "morphology",
            "diagnosis_date",
            "basis",
        ),
        _child_saver(services.tumour_record, "tumour"),
    ),
    "treatments": DomainSpec(
        gettext_lazy("Treatments"),
        Treatment,
        {
            "patient_source_id": _text,
            "source_id": _text,
            "kind": _text,
            "start_date": _date,
            "end_date": _date,
            "intent": _text,
            "line": _int,
            "regimen": _text,
            "drugs": _list,
            "best_response": _text,
        },
        ("patient_source_id", "source_id", "kind", "start_date", "intent"),
        _child_saver(services.treatment_record, "treatment"),
    ),
    "follow_ups": DomainSpec(
        gettext_lazy("Follow-up"),
        FollowUp,
        {
            "patient_source_id": _text,
            "source_id": _text,
            "contact_date": _date,
            "vital_status": _text,
            "status_source": _text,
            "event": _text,
            "event_date": _date,
            "event_site": _text,
            "event_method": _text,
            "death_date": _date,
            "cause_of_death": _text,
        },
        ("patient_source_id", "source_id", "contact_date", "vital_status", "status_source"),
        _child_saver(services.followup_record, "follow_up"),
    ),
    "pathology": DomainSpec(
        gettext_lazy("Pathology reports"),
        PathologyReport,
        {
            "tumour_source_id": _text,
            "source_id": _text,
            "protocol": _text,
            "protocol_version": _text,
            "report_date": _date,
            "specimen": _text,
            "histologic_type": _text,
            "grade": _text,
            "icca_subtype": _text,
            "margin": _text,
            "margin_distance_mm": _decimal,
            "nodes_examined": _int,
            "nodes_positive": _int,
            "perineural_invasion": _text,
            "vascular_invasion": _text,
            "pt": _text,
            "pn": _text,
            "ihc": _markers,
        },
        (
            "tumour_source_id",
            "source_id",
            "protocol",
            "protocol_version",
            "report_date",
            "specimen",
            "histologic_type",
            "grade",
        ),
        _child_saver(services.pathology_report_record, "report", "tumour"),
        owner_column="tumour_source_id",
        owner_model=Tumour,
        defaults={},
        example=(
            "T2",
            "P1",
            "CAP_ICC",
            "4.2.0.0",
            "2024-06-10",
            "resection",
            "8160/3",
            "G2",
            "small_duct",
            "negative",
            "5",
            "6",
            "1",
            "yes",
            "yes",
            "pT2",
            "pN1",
            "CK7:positive;CK19:positive;HepPar1:negative",
        ),
    ),
    "genomic_tests": DomainSpec(
        gettext_lazy("Molecular tests and biomarkers"),
        GenomicTest,
        {
            "patient_source_id": _text,
            "source_id": _text,
            "kind": _text,
            "lab": _text,
            "specimen": _text,
            "test_date": _date,
            "genes_covered": _list,
            "panel_size_mb": _decimal,
            "msi": _text,
            "tmb": _decimal,
            "pdl1_tps": _int,
            "pdl1_cps": _int,
            "her2": _text,
        },
        ("patient_source_id", "source_id", "kind", "lab", "specimen", "test_date"),
        _child_saver(services.genomic_test_record, "test"),
        defaults={},
        example=(
            "H2",
            "G1",
            "panel",
            "Center molecular lab",
            "tissue",
            "2024-06-20",
            "FGFR2;IDH1;KRAS;TP53",
            "1.2",
            "MSS",
            "3.5",
            "",
            "",
            "",
        ),
    ),
    "imaging_studies": DomainSpec(
        gettext_lazy("Imaging studies"),
        ImagingStudy,
        {
            "patient_source_id": _text,
            "source_id": _text,
            "study_instance_uid": _text,
            "modality": _text,
            "study_date": _date,
            "body_part": _text,
            "description": _text,
            "contrast_phases": _list,
            "dicomweb_url": _text,
        },
        ("patient_source_id", "source_id", "study_instance_uid", "modality", "study_date"),
        _child_saver(services.imaging_study_record, "study"),
        defaults={},
        example=(
            "H1",
            "I1",
            "1.2.840.113619.2.55.3.4271045733.996",
            "MR",
            "2024-04-20",
            "ABDOMEN",
            "Liver MRI with gadoxetate",
            "arterial;portal_venous;hepatobiliary",
            "https://pacs.center.example/dicomweb/studies/1.2.840.113619.2.55.3.4271045733.996",
        ),
    ),
    "variants": DomainSpec(
        gettext_lazy("Variants (of a molecular test)"),
        Variant,
        {
            "test_source_id": _text,
            "gene": _text,
            "hgvs_c": _text,
            "hgvs_p": _text,
            "vaf": _decimal,
            "classification": _text,
            "chrom": _text,
            "position": _int,
            "ref": _text,
            "alt": _text,
        },
        ("test_source_id", "gene"),
        _result_saver(services.variant_record, "variant"),
        owner_column="test_source_id",
        owner_model=GenomicTest,
        defaults={},
        natural_key=("gene", "hgvs_c", "hgvs_p"),
        example=(
            "G1",
            "IDH1",
            "c.394C>T",
            "p.Arg132Cys",
            "0.31",
            "pathogenic",
            "chr2",
            "208248389",
            "G",
            "A",
        ),
    ),
    "fusions": DomainSpec(
        gettext_lazy("Fusions (of a molecular test)"),
        Fusion,
        {
            "test_source_id": _text,
            "gene_5": _text,
            "gene_3": _text,
            "breakpoint_5": _text,
            "breakpoint_3": _text,
            "in_frame": _bool,
        },
        ("test_source_id", "gene_5", "gene_3"),
        _result_saver(services.fusion_record, "fusion"),
        owner_column="test_source_id",
        owner_model=GenomicTest,
        defaults={},
        natural_key=("gene_5", "gene_3"),
        example=("G1", "FGFR2", "BICC1", "exon 17", "exon 3", "yes"),
    ),
    "copy_numbers": DomainSpec(
        gettext_lazy("Copy-number changes (of a molecular test)"),
        CopyNumberChange,
        {
            "test_source_id": _text,
            "gene": _text,
            "change": _text,
            "copy_number": _decimal,
        },
        ("test_source_id", "gene", "change"),
        _result_saver(services.copy_number_record, "cnv"),
        owner_column="test_source_id",
        owner_model=GenomicTest,
        defaults={},
        natural_key=("gene", "change"),
        example=("G1", "CDKN2A", "deep_deletion", "0"),
    ),
}
EXAMPLES: dict[str, tuple[str, ...]] = {
    "patients": (
        "H1",
        "张三",
        "resident_id",
        "11010519491231002X",
        "M",
        "1949-12-31",
        "CN",
        "no",
        "Shanghai",
        *(["no"] * len(RegistryPatient.RISK_FACTORS)),
    ),
    "tumours": (
        "H1",
        "T1",
        "hcc",
        "C22.0",
        "8170/3",
        "2024-05-01",
        "histology",
        "unifocal",
        "1",
        "35",
        "none",
        "no",
        "no",
        "no",
        "",
    ),
    "treatments": (
        "H1",
        "R1",
        "resection",
        "2024-05-20",
        "",
        "curative",
        "",
        "",
        "",
        "",
    ),
    "follow_ups": (
        "H1",
        "F1",
        "2024-11-02",
        "alive",
        "visit",
        "none",
        "",
        "",
        "",
        "",
        "",
    ),
}
# empty cells of optional text columns mean "not given": the model default applies
DEFAULTS = {
    "event": "none",
    "focality": "unifocal",
    "tumour_count": 1,
    "nationality": "CN",
    "is_expatriate": False,
    "vascular_invasion": "unknown",
}


FHIR = "fhir"


def domain_choices() -> list[tuple[str, Any]]:
    return [(k, d.label) for k, d in DOMAINS.items()] + [
        (FHIR, gettext_lazy("FHIR R4 bundle (JSON)"))
    ]


def template_csv(domain: str, *, example: bool = True) -> str:
    """The CSV template of ``domain``: its header row and one documented example row
    (delete the example before filling in real rows)."""
    spec = DOMAINS[domain]
    out = io.StringIO()
    writer = safe_csv_writer(out, lineterminator="\n")
    writer.writerow(spec.columns)
    row = spec.example or EXAMPLES.get(domain, ())
    if example and row:
        writer.writerow(row)
    return out.getvalue()


def import_job_create(
    *, site: Any, domain: str, source_system: str, content: bytes, filename: str, acting_user: Any
) -> ImportJob:
    if not has_perm(acting_user, Perm.IMPORT_REGISTRY, site=site):
        raise PermissionDenied(_("You may not import registry data for this center."))
    errors: dict[str, list[str]] = {}
    if domain not in DOMAINS and domain != FHIR:
        errors["domain"] = [_("Choose a domain from the list.")]
    if not source_system.strip():
        errors["source_system"] = [_("Name the system the file comes from.")]
    if len(content) > MAX_BYTES:
        errors["file"] = [_("The file is larger than 20 MB.")]
    if errors:
        raise ValidationError(errors)
    job = ImportJob(
        site=site, domain=domain, source_system=source_system.strip(), created_by=acting_user
    )
    job.file.save(
        filename.rsplit("/", 1)[-1][:100] or "import.csv", ContentFile(content), save=False
    )
    job.save()
    return job


def import_job_run_async(job: ImportJob, *, dry_run: bool) -> None:
    from .tasks import run_import

    _status(job, status=ImportJob.Status.QUEUED)
    transaction.on_commit(lambda: run_import.delay(job.pk, dry_run), robust=True)


def _read(job: ImportJob) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    spec = DOMAINS[job.domain]
    with job.file.open("rb") as fh:
        raw = fh.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [{"row": 1, "field": "", "problem": _("The file is not UTF-8 text.")}]
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in spec.required if c not in header]
    unknown = [c for c in header if c not in spec.columns]
    problems = [{"row": 1, "field": c, "problem": _("Required column missing.")} for c in missing]
    problems += [{"row": 1, "field": c, "problem": _("Unknown column.")} for c in unknown]
    rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in reader]
    if len(rows) > MAX_ROWS:
        problems.append(
            {"row": 1, "field": "", "problem": _("More than %(n)s rows.") % {"n": MAX_ROWS}}
        )
    return rows, problems


def _existing(
    spec: DomainSpec, job: ImportJob, owner: Any, source_id: str, fields: dict[str, Any]
) -> Any:
    if spec.natural_key:
        key = {c: fields.get(c, "") for c in spec.natural_key}
        return spec.model.objects.filter(**{spec.owner_field: owner}, **key).first()
    if spec.owned_by_patient:
        return spec.model.objects.filter(
            **{spec.owner_field: owner}, source_system=job.source_system, source_id=source_id
        ).first()
    return RegistryPatient.objects.filter(
        site=job.site, source_system=job.source_system, source_id=source_id
    ).first()


def _unchanged(existing: Any, fields: dict[str, Any]) -> bool:
    for name, value in fields.items():
        current = getattr(existing, name)
        if hasattr(current, "code"):  # CountryField
            current = current.code
        if name == "id_document_number":
            from patients.identity import normalize_document_number

            value = normalize_document_number(value)
        if isinstance(current, Decimal) and value is not None:
            value = Decimal(value)
        if current != value:
            return False
    return True


def _process_row(
    job: ImportJob, spec: DomainSpec, number: int, row: dict[str, str], user: Any
) -> str:
    """Validate and save one row; returns "created", "updated" or "unchanged"."""
    fields: dict[str, Any] = {}
    bad: dict[str, list[str]] = {}
    for column, parser in spec.columns.items():
        value = row.get(column, "")
        if column in spec.required and not value:
            bad.setdefault(column, []).append(_("Required."))
            continue
        if column in ("source_id", spec.owner_column):
            continue
        try:
            parsed = parser(column, value)
        except RowError as exc:
            bad.setdefault(column, []).append(str(exc))
            continue
        defaults = DEFAULTS if spec.defaults is None else spec.defaults
        if parsed in (None, "", []) and column in defaults:
            parsed = defaults[column]
        if parsed is None and parser is _text:
            parsed = ""
        fields[column] = parsed
    if bad:  # every cell that cannot be read, in one round
        raise ValidationError(bad)
    owner = None
    if spec.owner_model is GenomicTest:
        owner = GenomicTest.objects.filter(
            patient__site=job.site,
            source_system=job.source_system,
            source_id=row[spec.owner_column],
        ).first()
        if owner is None:
            raise RowError(
                spec.owner_column,
                _(
                    "No molecular test with this source id at this center (import the "
                    "molecular tests first)."
                ),
            )
    elif spec.owned_by_patient and spec.owner_model is Tumour:
        owner = Tumour.objects.filter(
            patient__site=job.site,
            source_system=job.source_system,
            source_id=row[spec.owner_column],
        ).first()
        if owner is None:
            raise RowError(
                spec.owner_column,
                _("No diagnosis with this source id at this center (import the diagnoses first)."),
            )
    elif spec.owned_by_patient:
        owner = RegistryPatient.objects.filter(
            site=job.site, source_system=job.source_system, source_id=row["patient_source_id"]
        ).first()
        if owner is None:
            raise RowError(
                "patient_source_id",
                _("No patient with this source id at this center (import the patients first)."),
            )
    source_id = row.get("source_id", "")
    existing = _existing(spec, job, owner, source_id, fields)
    if existing is not None and _unchanged(existing, fields):
        return "unchanged"
    reason = _("Re-import from %(source)s") % {"source": job.source_system}
    spec.save(owner, existing, fields, user, reason, (job.source_system, source_id), job.site)
    return "updated" if existing is not None else "created"


def _problems_of(number: Any, exc: Exception) -> list[dict[str, Any]]:
    if isinstance(exc, RowError):
        return [{"row": number, "field": exc.field, "problem": str(exc)}]
    if isinstance(exc, ValidationError):
        items = exc.message_dict.items() if hasattr(exc, "error_dict") else [("", exc.messages)]
        return [
            {"row": number, "field": "" if f == "__all__" else f, "problem": str(m)}
            for f, messages in items
            for m in messages
        ]
    return [{"row": number, "field": "", "problem": str(exc) or _("Not allowed.")}]


def _run_fhir(job: ImportJob, dry_run: bool) -> ImportJob:
    """A bundle's resources depend on each other (a Condition on its Patient), so the
    check runs every row in one transaction that is rolled back at the end."""
    from .fhir import FhirError, bundle_rows

    with job.file.open("rb") as fh:
        content = fh.read()
    try:
        rows, _skipped = bundle_rows(content)
    except FhirError as exc:
        return _status(
            job,
            status=ImportJob.Status.FAILED,
            problems=[{"row": 1, "field": "", "problem": str(exc)}],
            finished_at=timezone.now(),
        )
    if not rows:
        problem = {
            "row": 1,
            "field": "",
            "problem": _("The bundle has no Patient, Condition or Procedure."),
        }
        return _status(
            job, status=ImportJob.Status.FAILED, problems=[problem], finished_at=timezone.now()
        )
    _status(job, status=ImportJob.Status.RUNNING, total_rows=len(rows), processed_rows=0)

    def run_all(check: bool) -> tuple[dict[str, int], list[dict[str, Any]]]:
        results = {"created": 0, "updated": 0, "unchanged": 0}
        problems: list[dict[str, Any]] = []
        for number, (domain, row) in enumerate(rows, start=1):
            label = f"{number} ({domain} {row.get('source_id', '')})"
            try:
                with transaction.atomic():
                    results[_process_row(job, DOMAINS[domain], number, row, job.created_by)] += 1
            except (RowError, ValidationError, PermissionDenied) as exc:
                if not check:
                    raise
                problems.extend(_problems_of(label, exc))
        return results, problems

    with transaction.atomic():
        results, problems = run_all(check=True)
        transaction.set_rollback(True)
    if not problems and not dry_run:
        with transaction.atomic():
            results, _none = run_all(check=False)
    status = (
        ImportJob.Status.FAILED
        if problems
        else (ImportJob.Status.CHECKED if dry_run else ImportJob.Status.DONE)
    )
    return _status(
        job,
        status=status,
        processed_rows=len(rows),
        problems=problems,
        created_count=results["created"],
        updated_count=results["updated"],
        unchanged_count=results["unchanged"],
        finished_at=timezone.now(),
    )


def import_job_run(*, job: ImportJob, dry_run: bool) -> ImportJob:
    """Check every row (nothing written); with ``dry_run`` False and no problems, write."""
    if job.domain == FHIR:
        return _run_fhir(job, dry_run)
    spec = DOMAINS[job.domain]
    user = job.created_by
    rows, problems = _read(job)
    _status(job, status=ImportJob.Status.RUNNING, total_rows=len(rows), processed_rows=0)
    results: dict[str, int] = {"created": 0, "updated": 0, "unchanged": 0}
    seen: dict[str, int] = {}
    if not problems:
        for number, row in enumerate(rows, start=2):  # row 1 is the header
            key = spec.row_key(row)
            if key and key in seen:
                problems.append(
                    {
                        "row": number,
                        "field": spec.natural_key[0] if spec.natural_key else "source_id",
                        "problem": (
                            _("Same test and result as row %(row)s.")
                            if spec.natural_key
                            else _("Same source id as row %(row)s.")
                        )
                        % {"row": seen[key]},
                    }
                )
                continue
            seen[key] = number
            try:
                with transaction.atomic():
                    results[_process_row(job, spec, number, row, user)] += 1
                    transaction.set_rollback(True)  # checking only
            except RowError as exc:
                problems.append({"row": number, "field": exc.field, "problem": str(exc)})
            except ValidationError as exc:
                for field, messages in (
                    exc.message_dict.items() if hasattr(exc, "error_dict") else [("", exc.messages)]
                ):
                    for message in messages:
                        problems.append(
                            {
                                "row": number,
                                "field": "" if field == "__all__" else field,
                                "problem": str(message),
                            }
                        )
            except PermissionDenied as exc:
                problems.append(
                    {"row": number, "field": "", "problem": str(exc) or _("Not allowed.")}
                )
            if number % PROGRESS_EVERY == 0:
                _status(job, processed_rows=number - 1)
    if problems or dry_run:
        return _status(
            job,
            status=ImportJob.Status.FAILED if problems else ImportJob.Status.CHECKED,
            processed_rows=len(rows),
            problems=problems,
            created_count=results["created"],
            updated_count=results["updated"],
            unchanged_count=results["unchanged"],
            finished_at=timezone.now(),
        )
    results = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic():
        for number, row in enumerate(rows, start=2):
            results[_process_row(job, spec, number, row, user)] += 1
    return _status(
        job,
        status=ImportJob.Status.DONE,
        processed_rows=len(rows),
        problems=[],
        created_count=results["created"],
        updated_count=results["updated"],
        unchanged_count=results["unchanged"],
        finished_at=timezone.now(),
    )


def _status(job: ImportJob, **values: Any) -> ImportJob:
    """Progress and outcome of the job itself (saved, with history, outside the rows)."""
    for name, value in values.items():
        setattr(job, name, value)
    job.save(update_fields=list(values))
    return job
