"""One row: reading the file, matching a row to the record it updates (source id or natural
key), skipping an unchanged one, validating and saving through the services, and the
(row, field, problem) list of a failure."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..models import GenomicTest, ImportJob, RegistryPatient, Tumour
from .cells import RowError, _text
from .domains import DEFAULTS, DOMAINS
from .spec import DomainSpec

MAX_ROWS = 50000


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
        return spec.model._default_manager.filter(**{spec.owner_field: owner}, **key).first()
    if spec.owned_by_patient:
        return spec.model._default_manager.filter(
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
    owner: GenomicTest | Tumour | RegistryPatient | None = None
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
