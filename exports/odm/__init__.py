"""CDISC ODM 1.3.2 (Transactional) with the audit trail, written as a stream.

The clinical data are read from the history tables, so the file is the audit trail up
to the data cut-off: for each item, an ``ItemData`` with ``TransactionType="Insert"``
for its first value and one with ``"Update"`` for each later change, each carrying an
``AuditRecord`` (who, at which site, when in UTC, why, and the request id as
``SourceID``). The current value of an item is its last transaction.

Streaming: one history query per dataset, each ordered by patient, read with
``.iterator(chunk_size=...)`` and merged subject by subject. Only one subject's records
are held in memory at a time, so memory does not grow with the trial. The XML is
written element by element with ``xml.sax.saxutils`` escaping.

Structure::

    ODM
      Study / MetaDataVersion   StudyEventDef per visit definition + baseline,
                                unscheduled and common; FormDef, ItemGroupDef,
                                ItemDef (with DataType), CodeList
      AdminData                 User per history username, Location per site
      ClinicalData
        SubjectData (SubjectKey = subject id, SiteRef)
          StudyEventData > FormData > ItemGroupData > ItemData + AuditRecord

The package follows that structure: ``metadata`` (the study definition), ``admin_data``
(users, locations, signature definitions, ``Signature``), ``clinical_data`` (the
streams and the subject writer) and ``xmlout`` (escaping, the XML writer); this module
puts the document together and re-exports their public names.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from monitoring.selectors import casebook_signatures_at, record_signatures_at

from ..writing import ExportContext, Progress
from .admin_data import _write_admin
from .clinical_data import GroupData, Stream, SubjectWriter
from .metadata import (
    CLINICAL_FORMS,
    DATA_TYPES,
    F_AE,
    F_CM,
    F_DM,
    F_ENR,
    F_EX,
    F_IC,
    F_LB,
    F_LES,
    F_PR,
    F_RESP,
    F_SCREEN,
    F_TA,
    F_VISIT,
    F_VS,
    FORM_ORDER,
    FORMS,
    GROUPS,
    HISTORY_COLUMNS,
    IG_AE,
    IG_AECAUS,
    IG_CM,
    IG_DM,
    IG_ENR,
    IG_EX,
    IG_IC,
    IG_LB,
    IG_LES,
    IG_LM,
    IG_PR,
    IG_RESP,
    IG_SCREEN,
    IG_TA,
    IG_VISIT,
    IG_VS,
    ODM_NS,
    PLACEMENT,
    SE_BASELINE,
    SE_COMMON,
    SE_UNSCHEDULED,
    SYSTEM_USERNAME,
    VISIT_FORMS,
    Form,
    Group,
    Item,
    _items,
    _write_metadata,
)
from .xmlout import XmlOut, _oid_part


def count_rows(ctx: ExportContext) -> int:
    return sum(
        g.dataset.history_queryset(trial_site_ids=ctx.trial_site_ids, cutoff=ctx.cutoff).count()
        for g in GROUPS
    )


def write_odm(write: Callable[[str], Any], ctx: ExportContext, progress: Progress) -> int:
    """Write the ODM document through ``write``; returns the number of subjects."""
    out = XmlOut(write)
    items = {g.oid: _items(g, ctx) for g in GROUPS}
    now = timezone.now().astimezone(datetime.UTC)
    cutoff = ctx.cutoff.astimezone(datetime.UTC)

    def iso(t: datetime.datetime) -> str:
        return t.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"

    write('<?xml version="1.0" encoding="UTF-8"?>\n')
    description = (
        _("Pseudonymised export: identity items are left out.")
        if not ctx.identities
        else _("Identified export: contains personal information.")
    )
    if not ctx.allocation:
        description += " " + _("Allocation hidden (blinded trial).")
    out.start(
        "ODM",
        {
            "xmlns": ODM_NS,
            "Description": description,
            "FileType": "Transactional",
            "Granularity": "All",
            "FileOID": f"EXPORT.{_oid_part(ctx.trial.protocol_code)}.{ctx.job_id}.{cutoff:%Y%m%dT%H%M%SZ}",
            "CreationDateTime": iso(now),
            "AsOfDateTime": iso(cutoff),
            "ODMVersion": "1.3.2",
            "Originator": ctx.requested_by,
            "SourceSystem": "HB Trials",
        },
    )
    _write_metadata(out, ctx, items)
    signatures = casebook_signatures_at(trial_site_ids=ctx.trial_site_ids, cutoff=ctx.cutoff)
    record_signatures = record_signatures_at(trial_site_ids=ctx.trial_site_ids, cutoff=ctx.cutoff)
    _write_admin(out, ctx, {**signatures, **{str(k): v for k, v in record_signatures.items()}})
    streams = {g.dataset.name: Stream(g, ctx, items[g.oid]) for g in GROUPS}
    subjects = SubjectWriter(out, ctx, streams)
    subjects.signatures = signatures
    subjects.record_signatures = record_signatures
    out.start(
        "ClinicalData", {"StudyOID": f"ST.{ctx.trial.protocol_code}", "MetaDataVersionOID": "MDV.1"}
    )
    patients = streams["patients"]
    count = 0
    while patients.head is not None:
        patient_id = patients.head[0]
        rows = patients.take(patient_id, progress)[patient_id]
        subjects.write_subject(patient_id, rows, progress)
        count += 1
    out.end("ClinicalData")
    out.end("ODM")
    ctx.row_counts["subjects"] = count
    return count


__all__ = [
    "CLINICAL_FORMS",
    "DATA_TYPES",
    "FORMS",
    "FORM_ORDER",
    "F_AE",
    "F_CM",
    "F_DM",
    "F_ENR",
    "F_EX",
    "F_IC",
    "F_LB",
    "F_LES",
    "F_PR",
    "F_RESP",
    "F_SCREEN",
    "F_TA",
    "F_VISIT",
    "F_VS",
    "GROUPS",
    "HISTORY_COLUMNS",
    "IG_AE",
    "IG_AECAUS",
    "IG_CM",
    "IG_DM",
    "IG_ENR",
    "IG_EX",
    "IG_IC",
    "IG_LB",
    "IG_LES",
    "IG_LM",
    "IG_PR",
    "IG_RESP",
    "IG_SCREEN",
    "IG_TA",
    "IG_VISIT",
    "IG_VS",
    "ODM_NS",
    "PLACEMENT",
    "SE_BASELINE",
    "SE_COMMON",
    "SE_UNSCHEDULED",
    "SYSTEM_USERNAME",
    "VISIT_FORMS",
    "Form",
    "Group",
    "GroupData",
    "Item",
    "Stream",
    "SubjectWriter",
    "XmlOut",
    "count_rows",
    "write_odm",
]
