"""Governed row-level extracts: a data request, each center's decision, the frozen
pseudonymised extract, its timed download and its expiry.

Why one module: it is one workflow whose steps check each other's state (a decision
only on a pending request, a build only of an approved one, a download only of a built
one by its requester); the views and the API call it, never the models directly.

The path of a request (DOMAIN.md "research governance"; PIPL, and the human genetic
resources rules for genomic data):

1. ``request_submit``: a researcher (``Perm.REQUEST_EXTRACT``) names a cohort they may use,
   the purpose, the ethics approval, the centers concerned and the formats; genomic data
   also need the human genetic resources (HGR) approval number. The cohort's criteria are
   frozen into the request: a later edit of the cohort changes nothing.
2. ``request_decide``: the data steward of each center decides for their center. One
   rejection rejects the request; when every center approved, the extract is queued.
3. ``extract_build`` (a Celery task): one consistent read (REPEATABLE READ on PostgreSQL)
   of the matching records of the approving centers, filtered by consent tier (broad
   research use always; recontact when the request is for recontact; genomic rows only of
   patients who agreed to genomic research), pseudonymised by ``research.interop``
   (subject ids keyed per extract, so two extracts cannot be joined on them; dates
   shifted per person; no names, documents, record numbers or source ids), written as
   Parquet and CSV plus the requested formats, zipped with a manifest giving every
   file's SHA-256. The ZIP's own SHA-256 is kept on the extract and shown to the user.
4. ``extract_download``: the requester only, until ``expires_at``
   (``RESEARCH_EXTRACT_DAYS``, default 7); every download is logged (``ExtractDownload``
   and the access log). ``extracts_expire_due`` (hourly) deletes the files afterwards.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import json
import logging
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.files import expire_due
from audit.middleware import client_ip
from audit.models import AccessLog
from audit.transitions import check_transition
from registry.models import RegistryPatient
from sites.models import Site
from sites.roles import Perm, Role
from sites.scoping import has_perm, scope_for

from . import cohorts
from .models import (
    Cohort,
    CohortQuery,
    DataRequest,
    DataRequestApproval,
    Extract,
    ExtractDownload,
    ExtractFormat,
)

logger = logging.getLogger(__name__)

EXTRACT_DIR = "research_extracts"
GENOMIC_TABLES = ("genomic_tests", "variants", "fusions", "copy_numbers")
GENOMIC_CRITERIA = ("genomic", "biomarker")
#: a build still "running" after this long is taken to be dead (its worker was lost)
RUNNING_LEASE = datetime.timedelta(hours=2)
STALE_QUEUED_AFTER = datetime.timedelta(minutes=15)
TRANSITIONS = {
    Extract.Status.QUEUED: {Extract.Status.RUNNING, Extract.Status.FAILED},
    Extract.Status.RUNNING: {Extract.Status.DONE, Extract.Status.FAILED},
    Extract.Status.FAILED: {Extract.Status.QUEUED, Extract.Status.RUNNING, Extract.Status.EXPIRED},
    Extract.Status.DONE: {Extract.Status.EXPIRED},
    Extract.Status.EXPIRED: set(),
}


class ExtractUnavailable(ValidationError):
    """The file cannot be downloaded: not ready, failed, or expired (``gone``)."""

    def __init__(self, message: str, *, gone: bool) -> None:
        super().__init__({"status": [message]})
        self.gone = gone


def extract_days() -> int:
    return int(getattr(settings, "RESEARCH_EXTRACT_DAYS", 7))


def may_request(user: Any) -> bool:
    return has_perm(user, Perm.REQUEST_EXTRACT)


def may_decide(user: Any, site: Site) -> bool:
    """Only a data steward *of this center* (a membership, not a global role or the
    superuser flag: one account must never both ask and approve for every center)."""
    if not has_perm(user, Perm.APPROVE_EXTRACT, site=site):
        return False
    return any(
        m.role == Role.CENTER_STEWARD and m.site_id == site.pk for m in scope_for(user).memberships
    )


def touches_genomics(tree: Any) -> bool:
    """Does a criteria tree select by a genomic result (alteration or biomarker)? Then
    being in the extract states that result, so it needs genomic consent and approval."""
    if isinstance(tree, dict):
        if tree.get("type") in GENOMIC_CRITERIA:
            return True
        return any(touches_genomics(v) for k, v in tree.items() if k in ("all", "any", "not"))
    if isinstance(tree, list):
        return any(touches_genomics(v) for v in tree)
    return False


def requestable_cohorts(user: Any) -> Any:
    return Cohort.objects.visible_to(user).order_by("name", "id")


def request_centers() -> Any:
    """The centers a request may concern: those with registry records (a semi-join, not
    a join over every registry record and a DISTINCT)."""
    return Site.objects.filter(
        Exists(RegistryPatient.objects.filter(site=OuterRef("pk")))
    ).order_by("code")


# --- request ------------------------------------------------------------------------------


def request_errors(
    *,
    user: Any,
    cohort: Cohort | None,
    title: str,
    purpose: str,
    ethics_committee: str,
    ethics_approval_number: str,
    ethics_approval_date: datetime.date | None,
    include_genomics: bool,
    hgr_approval_number: str,
    formats: Iterable[str],
    centers: Iterable[Site],
) -> dict[str, list[str]]:
    """Every problem of a request at once, by field (the form shows them in one round)."""
    errors: dict[str, list[str]] = {}
    required = _("This field is required.")
    for field, value in (
        ("title", title),
        ("purpose", purpose),
        ("ethics_committee", ethics_committee),
        ("ethics_approval_number", ethics_approval_number),
    ):
        if not (value or "").strip():
            errors[field] = [required]
    if ethics_approval_date is None:
        errors["ethics_approval_date"] = [required]
    elif ethics_approval_date > timezone.localdate():
        errors["ethics_approval_date"] = [_("The approval date cannot be in the future.")]
    if include_genomics and not (hgr_approval_number or "").strip():
        errors["hgr_approval_number"] = [
            _(
                "Genomic data may only leave with a human genetic resources approval: "
                "give its number, or leave genomic data out."
            )
        ]
    if cohort is not None and not include_genomics and touches_genomics(cohort.criteria):
        errors["include_genomics"] = [
            _(
                "The cohort selects patients by a genomic result, so the extract reveals "
                "it: include genomic data (with its human genetic resources approval)."
            )
        ]
    if cohort is None:
        errors["cohort"] = [required]
    elif not requestable_cohorts(user).filter(pk=cohort.pk).exists():
        errors["cohort"] = [_("Choose one of your cohorts or a shared one.")]
    unknown = sorted(set(formats) - set(ExtractFormat.values))
    if unknown:
        errors["formats"] = [_("Unknown format: %(f)s.") % {"f": ", ".join(unknown)}]
    center_list = list(centers)
    if not center_list:
        errors["centers"] = [_("Choose at least one center.")]
    else:
        allowed = set(request_centers().values_list("pk", flat=True))
        outside = sorted(c.code for c in center_list if c.pk not in allowed)
        if outside:
            errors["centers"] = [
                _("These centers have no registry records: %(codes)s.")
                % {"codes": ", ".join(outside)}
            ]
    return errors


def request_submit(
    *,
    acting_user: Any,
    cohort: Cohort | None,
    title: str,
    purpose: str,
    ethics_committee: str,
    ethics_approval_number: str,
    ethics_approval_date: datetime.date | None,
    centers: Iterable[Site],
    formats: Iterable[str] = (ExtractFormat.TABLES,),
    include_genomics: bool = False,
    hgr_approval_number: str = "",
    recontact: bool = False,
    request: Any = None,
) -> DataRequest:
    """Submit a data request: validated in one round, criteria frozen, one pending
    decision per center."""
    if not may_request(acting_user):
        raise PermissionDenied(_("You may not request research extracts."))
    center_list = list(dict.fromkeys(centers))  # a center named twice is one decision
    format_list = list(dict.fromkeys([ExtractFormat.TABLES, *formats]))
    errors = request_errors(
        user=acting_user,
        cohort=cohort,
        title=title,
        purpose=purpose,
        ethics_committee=ethics_committee,
        ethics_approval_number=ethics_approval_number,
        ethics_approval_date=ethics_approval_date,
        include_genomics=include_genomics,
        hgr_approval_number=hgr_approval_number,
        formats=format_list,
        centers=center_list,
    )
    if errors:
        raise ValidationError(errors)
    assert cohort is not None and ethics_approval_date is not None  # noqa: S101 - checked above
    errors = cohorts.criteria_errors(cohort.criteria)
    if errors:
        raise ValidationError({"cohort": errors["criteria"]})
    with transaction.atomic(), audit_context(user=acting_user, reason=_("Data request submitted")):
        data_request = DataRequest.objects.create(
            title=title.strip(),
            purpose=purpose.strip(),
            ethics_committee=ethics_committee.strip(),
            ethics_approval_number=ethics_approval_number.strip(),
            ethics_approval_date=ethics_approval_date,
            include_genomics=include_genomics,
            hgr_approval_number=hgr_approval_number.strip() if include_genomics else "",
            recontact=recontact,
            formats=format_list,
            cohort=cohort,
            cohort_version=cohort.version,
            criteria=cohort.criteria,
            requested_by=acting_user,
            requested_by_username=acting_user.get_username(),
        )
        data_request.centers.set(center_list)
        for site in sorted(center_list, key=lambda s: s.code):
            DataRequestApproval.objects.create(request=data_request, site=site)
        AccessLog.record(
            event=AccessLog.Event.EXPORT, request=request, user=acting_user, obj=data_request
        )
    return data_request


def request_decide(
    *,
    acting_user: Any,
    data_request: DataRequest,
    site: Site,
    approve: bool,
    note: str = "",
) -> DataRequestApproval:
    """The decision of ``site``'s data steward. A rejection needs a reason and rejects the
    request; the last approval approves it and queues its extract."""
    if not may_decide(acting_user, site):
        raise PermissionDenied(_("Only the data steward of this center decides for it."))
    if data_request.requested_by_id == acting_user.pk:
        raise PermissionDenied(_("A data steward does not decide on their own request."))
    if not approve and not note.strip():
        raise ValidationError({"note": [_("Say why the request is rejected.")]})
    with transaction.atomic():
        locked = DataRequest.objects.select_for_update().get(pk=data_request.pk)
        if locked.status != DataRequest.Status.PENDING:
            raise ValidationError(
                {"decision": [_("This request is %(s)s.") % {"s": locked.get_status_display()}]}
            )
        try:
            approval = locked.approvals.get(site=site)
        except DataRequestApproval.DoesNotExist as exc:
            raise ValidationError(
                {"decision": [_("This request does not concern your center.")]}
            ) from exc
        if approval.decision != DataRequestApproval.Decision.PENDING:
            raise ValidationError({"decision": [_("Your center has already decided.")]})
        reason = _("Approved for %(c)s") if approve else _("Rejected for %(c)s")
        with audit_context(user=acting_user, reason=reason % {"c": site.code}):
            approval.decision = (
                DataRequestApproval.Decision.APPROVED
                if approve
                else DataRequestApproval.Decision.REJECTED
            )
            approval.steward = acting_user
            approval.steward_username = acting_user.get_username()
            approval.note = note.strip()
            approval.decided_at = timezone.now()
            approval.save()
            decisions = set(locked.approvals.values_list("decision", flat=True))
            if DataRequestApproval.Decision.REJECTED in decisions:
                locked.status = DataRequest.Status.REJECTED
            elif decisions == {DataRequestApproval.Decision.APPROVED}:
                locked.status = DataRequest.Status.APPROVED
            if locked.status != DataRequest.Status.PENDING:
                locked.decided_at = timezone.now()
                locked.save()
            if locked.status == DataRequest.Status.APPROVED:
                extract = Extract.objects.create(request=locked)
                transaction.on_commit(lambda: _enqueue(extract.pk), robust=True)
    data_request.refresh_from_db()
    return approval


def request_withdraw(*, acting_user: Any, data_request: DataRequest, reason: str) -> DataRequest:
    """The requester withdraws a request still awaiting decisions."""
    if data_request.requested_by_id != getattr(acting_user, "pk", None):
        raise PermissionDenied(_("Only the requester withdraws a request."))
    if not reason.strip():
        raise ValidationError({"reason": [_("Say why the request is withdrawn.")]})
    with transaction.atomic(), audit_context(user=acting_user, reason=reason.strip()):
        locked = DataRequest.objects.select_for_update().get(pk=data_request.pk)
        if locked.status != DataRequest.Status.PENDING:
            raise ValidationError(
                {"reason": [_("This request is %(s)s.") % {"s": locked.get_status_display()}]}
            )
        locked.status = DataRequest.Status.WITHDRAWN
        locked.decided_at = timezone.now()
        locked.save()
    return locked


def pending_decisions(user: Any) -> Any:
    """The decisions waiting for this user (a data steward's work list): the centers of
    their steward memberships, as ``may_decide`` requires."""
    sites = [m.site_id for m in scope_for(user).memberships if m.role == Role.CENTER_STEWARD]
    return (
        DataRequestApproval.objects.filter(
            site__in=sites,
            decision=DataRequestApproval.Decision.PENDING,
            request__status=DataRequest.Status.PENDING,
        )
        .select_related("request", "site")
        .order_by("request__created_at")
    )


# --- build --------------------------------------------------------------------------------


def _enqueue(extract_id: int) -> None:
    from .tasks import build_extract

    build_extract.delay(extract_id)


def _set_progress(extract_id: int, percent: int, step: str) -> None:
    Extract.objects.filter(pk=extract_id).update(progress=percent, step=step[:100])


def _claim(extract_id: int) -> Extract | None:
    with transaction.atomic():
        extract = Extract.objects.select_for_update().select_related("request").get(pk=extract_id)
        if extract.status in (Extract.Status.DONE, Extract.Status.EXPIRED):
            return None
        if extract.status == Extract.Status.RUNNING and (
            extract.started_at is None or timezone.now() - extract.started_at < RUNNING_LEASE
        ):
            return None  # another worker is building it (a redelivery, a double enqueue)
        check_transition(
            choices=Extract.Status,
            table=TRANSITIONS,
            current=extract.status,
            target=Extract.Status.RUNNING,
        )
        with audit_context(
            user=extract.request.requested_by, reason=_("Extract started"), origin="task"
        ):
            extract.status = Extract.Status.RUNNING
            extract.started_at = timezone.now()
            extract.attempts += 1
            extract.error = ""
            extract.progress = 0
            extract.save()
    return extract


@contextlib.contextmanager
def _one_snapshot() -> Iterator[None]:
    """Every table read in one REPEATABLE READ transaction on PostgreSQL, so the extract
    is one consistent state of the registry (SQLite serialises writers anyway)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def pseudonym_key(purpose: str, ident: object) -> bytes:
    """A pseudonymisation key derived from ``RESEARCH_PSEUDONYM_KEY`` (else SECRET_KEY),
    the purpose and an id: never stored, never the same for two extracts or exports."""
    secret = getattr(settings, "RESEARCH_PSEUDONYM_KEY", "") or None
    return salted_hmac(purpose, str(ident), secret=secret).digest()


def extract_key(extract: Extract) -> bytes:
    """The pseudonymisation key of one extract (the same on a rebuild of it)."""
    return pseudonym_key("research.extract.pseudonym", extract.pk)


def eligible_patients(data_request: DataRequest) -> tuple[Any, int]:
    """(the records the extract may hold, how many matching records consent leaves out)."""
    matching = cohorts.matching_patients(data_request.criteria).filter(
        site__in=data_request.approvals.filter(
            decision=DataRequestApproval.Decision.APPROVED
        ).values("site")
    )
    allowed = consented(matching, genomic_criteria=touches_genomics(data_request.criteria))
    if data_request.recontact:
        allowed = allowed.filter(consent_recontact=True)
    return allowed, matching.count() - allowed.count()


def consented(patients: Any, *, genomic_criteria: bool) -> Any:
    """The records whose consent covers research use (and genomic research when the
    selection itself is by a genomic result)."""
    allowed = patients.filter(consent_research=True)
    if genomic_criteria:
        allowed = allowed.filter(consent_genomic=True)
    return allowed


def _withhold_genomics(dataset: Any, allowed: set[tuple[str, str]]) -> tuple[Any, int]:
    """Drop genomic rows of records without genomic consent ((subject_id, center) pairs
    not in ``allowed``); returns the dataset and how many records lost genomic rows."""
    tables = dict(dataset.tables)
    withheld: set[tuple[str, str]] = set()
    for name in GENOMIC_TABLES:
        table = tables.get(name)
        if table is None:
            continue
        columns = [c.name for c in table.columns]
        subject, center = columns.index("subject_id"), columns.index("center")
        kept = []
        for row in table.rows:
            key = (row[subject], row[center])
            if key in allowed:
                kept.append(row)
            else:
                withheld.add(key)
        tables[name] = dataclasses.replace(table, rows=kept)
    return dataclasses.replace(dataset, tables=tables), len(withheld)


def _final_path(extract: Extract) -> Path:
    stamp = (extract.started_at or timezone.now()).astimezone(datetime.UTC)
    name = f"DR-{extract.request_id}_{stamp:%Y%m%dT%H%M%SZ}.zip"
    return Path(settings.MEDIA_ROOT) / EXTRACT_DIR / str(extract.pk) / name


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def seal(
    target: Path,
    work: Path,
    written: Iterable[Path],
    manifest_for: Callable[[list[dict[str, Any]]], dict[str, Any]],
) -> dict[str, Any]:
    """Zip the files written under ``work`` into ``target`` with a MANIFEST.json that
    lists each one with its size and SHA-256; returns the manifest."""
    files: list[dict[str, Any]] = [
        {"path": str(p.relative_to(work)), "bytes": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(written)
    ]
    manifest = manifest_for(files)
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("MANIFEST.json", json.dumps(manifest, ensure_ascii=False, indent=2))
        for entry in files:
            zf.write(work / entry["path"], entry["path"])
    return manifest


def _manifest(
    extract: Extract, files: list[dict[str, Any]], counts: dict[str, int]
) -> dict[str, Any]:
    req = extract.request
    return {
        "request": f"DR-{req.pk}",
        "title": req.title,
        "purpose": req.purpose,
        "requested_by": req.requested_by_username,
        "ethics": {
            "committee": req.ethics_committee,
            "approval_number": req.ethics_approval_number,
            "approval_date": req.ethics_approval_date.isoformat(),
        },
        "human_genetic_resources_approval": req.hgr_approval_number or None,
        "cohort": {"name": req.cohort.name, "version": req.cohort_version},
        "criteria": req.criteria,
        "centers": [
            {
                "code": a.site.code,
                "steward": a.steward_username,
                "approved_at": a.decided_at.isoformat() if a.decided_at else None,
            }
            for a in req.approvals.select_related("site")
        ],
        "data_cut_off": extract.started_at.isoformat() if extract.started_at else None,
        "consent": {
            "broad_research_required": True,
            "recontact_required": req.recontact,
            "genomic_rows_only_with_genomic_consent": req.include_genomics,
        },
        "pseudonymisation": (
            "Subject ids are keyed per extract; dates are shifted per person by up to "
            "180 days; names, document numbers, registry numbers, source ids and imaging "
            "identifiers are left out; birth is given as the year."
        ),
        "counts": counts,
        "formats": req.formats,
        "files": files,
    }


def extract_build(*, extract_id: int) -> Extract:
    """Write the extract of an approved request (the worker's job). A done extract is
    returned as it is; a failure leaves no partial file and marks the extract failed."""
    from . import interop
    from .interop.dataset import Pseudonymiser, collect

    extract = _claim(extract_id)
    if extract is None:
        return Extract.objects.get(pk=extract_id)
    final = _final_path(extract)
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".extract{extract.pk}-", dir=final.parent))
    tmp_zip = final.with_name(f".{final.name}.{uuid.uuid4().hex}.part")
    req = extract.request
    try:
        requester = req.requested_by
        if requester is None or not may_request(requester):
            raise PermissionDenied(_("The requester may no longer receive research extracts."))
        _set_progress(extract.pk, 5, _("Reading the registry"))
        pseudonymiser = Pseudonymiser(extract_key(extract))
        with _one_snapshot():
            patients, left_out = eligible_patients(req)
            records = list(patients.values_list("national_pseudonym", "site__code"))
            genomic_ok = {
                (pseudonymiser.subject_id(p), code)
                for p, code in patients.filter(consent_genomic=True).values_list(
                    "national_pseudonym", "site__code"
                )
            }
            dataset = collect(
                patients, pseudonymiser=pseudonymiser, include_genomics=req.include_genomics
            )
        withheld = 0
        if req.include_genomics:
            dataset, withheld = _withhold_genomics(dataset, genomic_ok)
        counts = {
            "patient_records": len(records),
            "persons": len({p for p, _code in records}),
            "left_out_no_consent": left_out,
            "genomic_rows_withheld_records": withheld,
        }
        _set_progress(extract.pk, 40, _("Writing the files"))
        written = interop.write(
            dataset,
            work,
            req.formats,
            study_id=f"hb_dr{req.pk}",
            title=req.title,
            description=req.purpose,
        )
        _set_progress(extract.pk, 85, _("Sealing the extract"))
        claimed: Extract = extract
        manifest = seal(tmp_zip, work, written, lambda files: _manifest(claimed, files, counts))
        tmp_zip.replace(final)
        done = _finish(extract, final, manifest, counts, left_out, withheld)
    except Exception as exc:
        tmp_zip.unlink(missing_ok=True)
        if extract.attempts == _attempts(extract.pk):  # not a newer build's file
            final.unlink(missing_ok=True)
        _fail(extract.pk, exc)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return done


def _attempts(extract_id: int) -> int:
    return Extract.objects.filter(pk=extract_id).values_list("attempts", flat=True).get()


def _finish(
    claimed: Extract,
    final: Path,
    manifest: dict[str, Any],
    counts: dict[str, int],
    left_out: int,
    withheld: int,
) -> Extract:
    """Mark the extract ready, unless this build is no longer the current one (a newer
    attempt took over after a lost worker): then its file goes and nothing changes."""
    with transaction.atomic():
        extract = Extract.objects.select_for_update().get(pk=claimed.pk)
        if extract.status != Extract.Status.RUNNING or extract.attempts != claimed.attempts:
            final.unlink(missing_ok=True)
            return extract
        with audit_context(
            user=claimed.request.requested_by, reason=_("Extract ready"), origin="task"
        ):
            extract.status = Extract.Status.DONE
            extract.progress = 100
            extract.step = ""
            extract.patients = counts["patient_records"]
            extract.persons = counts["persons"]
            extract.excluded_no_consent = left_out
            extract.genomics_withheld = withheld
            extract.file_path = str(final.relative_to(Path(settings.MEDIA_ROOT)))
            extract.file_size = final.stat().st_size
            extract.sha256 = _sha256(final)
            extract.manifest = manifest
            extract.finished_at = timezone.now()
            extract.expires_at = extract.finished_at + datetime.timedelta(days=extract_days())
            extract.save()
    return extract


def _fail(extract_id: int, exc: BaseException) -> None:
    with transaction.atomic():
        extract = Extract.objects.select_for_update().get(pk=extract_id)
        if extract.status != Extract.Status.RUNNING:
            return
        with audit_context(reason=_("Extract failed"), origin="task"):
            extract.status = Extract.Status.FAILED
            # the user reads a kind, not the message (it may quote data); the log has it
            logger.error("Extract %s failed", extract_id, exc_info=exc)
            extract.error = _(
                "The extract could not be written (%(kind)s). Run it again; if it fails "
                "again, tell the data manager."
            ) % {"kind": type(exc).__name__}
            extract.step = ""
            extract.save()


def extract_retry(*, acting_user: Any, extract: Extract) -> Extract:
    """The requester runs a failed extract again (the same frozen request)."""
    if extract.request.requested_by_id != getattr(acting_user, "pk", None):
        raise PermissionDenied(_("Only the requester runs the extract again."))
    with transaction.atomic():
        locked = Extract.objects.select_for_update().get(pk=extract.pk)
        if locked.status != Extract.Status.FAILED:
            raise ValidationError({"status": [_("Only a failed extract is run again.")]})
        with audit_context(user=acting_user, reason=_("Extract queued again")):
            locked.status = Extract.Status.QUEUED
            locked.created_at = timezone.now()  # the stale-queue sweep counts from here
            locked.save()
        transaction.on_commit(lambda: _enqueue(locked.pk), robust=True)
    return locked


# --- download and expiry ------------------------------------------------------------------


def extract_may_download(user: Any, extract: Extract) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and extract.request.requested_by_id == user.pk
        and may_request(user)
    )


def extract_download(
    *, extract: Extract, user: Any, request: Any = None, log: bool = True
) -> BinaryIO:
    """The open ZIP of a ready extract, for its requester. The extract is locked while
    the file is opened, so an expiry running at the same moment either comes first (410)
    or after the file is open; the download is logged only then (``log=False`` for a HEAD
    request, which transfers nothing)."""
    if not extract_may_download(user, extract):
        raise PermissionDenied(_("Only the requester downloads this extract."))
    with transaction.atomic():
        locked = Extract.objects.select_for_update().get(pk=extract.pk)
        if locked.is_expired:
            raise ExtractUnavailable(
                _("This extract has expired and its file was deleted."), gone=True
            )
        if locked.status != Extract.Status.DONE:
            raise ExtractUnavailable(_("This extract is not ready."), gone=False)
        path = locked.absolute_path
        try:
            handle = path.open("rb") if path is not None else None
        except FileNotFoundError:
            handle = None
        if handle is None:
            raise ExtractUnavailable(_("The file of this extract is missing."), gone=True)
        if log:
            with audit_context(user=user, reason=_("Extract downloaded")):
                ExtractDownload.objects.create(
                    extract=locked,
                    user=user,
                    username=user.get_username(),
                    ip=client_ip(request) if request is not None else None,
                    sha256=locked.sha256,
                )
                AccessLog.record(
                    event=AccessLog.Event.DOWNLOAD, request=request, user=user, obj=locked
                )
    return handle


def extracts_expire_due(*, now: datetime.datetime | None = None) -> int:
    """Delete the files of extracts past their download period; returns how many."""
    return expire_due(Extract, reason=_("Extract expired"), now=now)


def extracts_requeue_stale(*, now: datetime.datetime | None = None) -> int:
    """Queue again extracts still waiting long after approval (the broker was down)."""
    now = now or timezone.now()
    stale = list(
        Extract.objects.filter(
            status=Extract.Status.QUEUED, created_at__lte=now - STALE_QUEUED_AFTER
        ).values_list("pk", flat=True)
    )
    for extract_id in stale:
        _enqueue(extract_id)
    return len(stale)


# --- own-center export ----------------------------------------------------------------------


def own_center_export(*, cohort: Cohort, acting_user: Any, fmt: str) -> tuple[bytes, str]:
    """A center's staff export the cohort's records of their own center(s) in one format
    (ZIP bytes and a file name): the same consent rules and pseudonymisation as an
    extract (a key of its own, dates shifted, no identity; genomic rows only with genomic
    consent), logged in the query log. Only the centers of the user's center memberships:
    a global role (data manager) gets nothing here, it must go through a data request."""
    from . import interop
    from .interop.dataset import Pseudonymiser, collect

    own = scope_for(acting_user).center_site_ids  # center memberships, never "everything"
    if not own or not has_perm(acting_user, Perm.VIEW_REGISTRY):
        raise PermissionDenied(_("Only a center's staff export their own center's records."))
    if fmt not in ExtractFormat.values:
        raise ValidationError(
            {"kind": [_("Choose one of: %(f)s.") % {"f": ", ".join(ExtractFormat.values)}]}
        )
    genomic_criteria = touches_genomics(cohort.criteria)
    patients = consented(
        cohorts.matching_patients(cohort).filter(site_id__in=own),
        genomic_criteria=genomic_criteria,
    )
    logged = cohorts.log_query(
        user=acting_user,
        kind=CohortQuery.Kind.EXPORT,
        tree=cohort.criteria,
        cohort=cohort,
        result={"records": patients.count(), "format": fmt},
    )
    pseudonymiser = Pseudonymiser(pseudonym_key("research.export", logged.pk))
    with _one_snapshot():
        genomic_ok = {
            (pseudonymiser.subject_id(p), code)
            for p, code in patients.filter(consent_genomic=True).values_list(
                "national_pseudonym", "site__code"
            )
        }
        dataset = collect(patients, pseudonymiser=pseudonymiser, include_genomics=True)
    dataset, _withheld = _withhold_genomics(dataset, genomic_ok)
    stamp = timezone.now().astimezone(datetime.UTC)
    name = f"cohort{cohort.pk}v{cohort.version}_{fmt}_{stamp:%Y%m%dT%H%M%SZ}.zip"
    with tempfile.TemporaryDirectory(prefix="cohort-export-") as tmp:
        work = Path(tmp) / "files"
        written = interop.write(
            dataset,
            work,
            [fmt],
            study_id=f"hb_cohort{cohort.pk}",
            title=cohort.name,
            description=cohort.description,
        )
        target = Path(tmp) / name
        seal(
            target,
            work,
            written,
            lambda files: {
                "cohort": {"name": cohort.name, "version": cohort.version},
                "criteria": cohort.criteria,
                "exported_by": acting_user.get_username(),
                "exported_at": stamp.isoformat(),
                "centers": sorted({code for _p, code in patients.values_list("pk", "site__code")}),
                "records": len(dataset.tables["patients"].rows),
                "files": files,
            },
        )
        return target.read_bytes(), name
