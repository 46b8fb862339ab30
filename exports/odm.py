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
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from monitoring.models import Signature
from monitoring.selectors import casebook_signatures_at, record_signatures_at
from trials.models import Arm, ConsentVersion, Intervention, ProtocolVersion, VisitDefinition

from . import datasets as D
from .datasets import Column, Dataset
from .writing import ExportContext, Progress

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
SYSTEM_USERNAME = "system"  # what audit.signals records for unattributed writes
DATA_TYPES = {
    "text": "text",
    "list": "text",
    "json": "text",
    "integer": "integer",
    "float": "float",
    "date": "date",
    "datetime": "datetime",
    "boolean": "boolean",
}
HISTORY_COLUMNS = (
    "history_id",
    "history_date",
    "history_type",
    "history_username",
    "history_change_reason",
    "history_request_id",
)
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ATTR_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


_SPECIAL = re.compile('[&<>"\x00-\x1f\ufffe\uffff]')


def _attr(value: Any) -> str:
    text = str(value)
    if _SPECIAL.search(text) is None:  # the common case: nothing to escape
        return text
    return escape(_ILLEGAL_XML.sub("", text), _ATTR_ENTITIES)


def _text(value: Any) -> str:
    text = str(value)
    if _SPECIAL.search(text) is None:
        return text
    return escape(_ILLEGAL_XML.sub("", text))


def _oid_part(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.@+-]", "_", value) or "_"


class XmlOut:
    """A minimal streaming XML writer (what ``XMLGenerator`` does, with empty elements
    closed in place to keep large files smaller)."""

    def __init__(self, write: Callable[[str], Any]) -> None:
        self.write = write

    @staticmethod
    def _attrs(attrs: dict[str, Any] | None) -> str:
        if not attrs:
            return ""
        return "".join(f' {k}="{_attr(v)}"' for k, v in attrs.items() if v is not None)

    def start(self, name: str, attrs: dict[str, Any] | None = None) -> None:
        self.write(f"<{name}{self._attrs(attrs)}>\n")

    def end(self, name: str) -> None:
        self.write(f"</{name}>\n")

    def empty(self, name: str, attrs: dict[str, Any] | None = None) -> None:
        self.write(f"<{name}{self._attrs(attrs)}/>\n")

    def leaf(self, name: str, text: Any, attrs: dict[str, Any] | None = None) -> None:
        self.write(f"<{name}{self._attrs(attrs)}>{_text(text)}</{name}>\n")

    def translated(self, name: str, text: Any) -> None:
        self.write(
            f'<{name}><TranslatedText xml:lang="en">{_text(text)}</TranslatedText></{name}>\n'
        )


# --- metadata -------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    oid: str
    name: str
    dataset: Dataset
    repeating: bool = False


@dataclass(frozen=True)
class Form:
    oid: str
    name: str
    repeating: bool
    groups: tuple[Group, ...]


IG_DM = Group("IG.DM", "Registration and demographics", D.PATIENTS)
IG_SCREEN = Group("IG.SCREEN", "Screening", D.SCREENINGS)
IG_IC = Group("IG.IC", "Informed consent", D.CONSENTS)
IG_ENR = Group("IG.ENR", "Enrollment", D.ENROLLMENTS)
IG_LES = Group("IG.LES", "Lesion", D.LESIONS, repeating=True)
IG_VISIT = Group("IG.VISIT", "Visit", D.VISITS)
IG_TA = Group("IG.TA", "Tumour assessment", D.TUMOR_ASSESSMENTS)
IG_LM = Group("IG.LM", "Lesion measurement", D.MEASUREMENTS, repeating=True)
IG_AE = Group("IG.AE", "Adverse event", D.ADVERSE_EVENTS)
IG_AECAUS = Group("IG.AECAUS", "Causality", D.CAUSALITY, repeating=True)
IG_RESP = Group("IG.RESP", "Response", D.RESPONSES)

F_DM = Form("F.DM", "Registration and demographics", False, (IG_DM,))
F_SCREEN = Form("F.SCREEN", "Screening", True, (IG_SCREEN,))
F_IC = Form("F.IC", "Informed consent", True, (IG_IC,))
F_ENR = Form("F.ENR", "Enrollment", False, (IG_ENR,))
F_LES = Form("F.LES", "Baseline lesions", False, (IG_LES,))
F_VISIT = Form("F.VISIT", "Visit", False, (IG_VISIT,))
F_TA = Form("F.TA", "Tumour assessment", True, (IG_TA, IG_LM))
F_AE = Form("F.AE", "Adverse event", True, (IG_AE, IG_AECAUS))
F_RESP = Form("F.RESP", "Response summary", False, (IG_RESP,))
# Clinical data forms (clinical app): at the visit they were collected at, else common.
IG_LB = Group("IG.LB", "Laboratory result", D.LAB_RESULTS)
IG_VS = Group("IG.VS", "Vital signs", D.VITAL_SIGNS)
IG_EX = Group("IG.EX", "Exposure", D.EXPOSURES)
IG_PR = Group("IG.PR", "Procedure", D.PROCEDURES)
IG_CM = Group("IG.CM", "Concomitant medication", D.CONMEDS)
F_LB = Form("F.LB", "Laboratory result", True, (IG_LB,))
F_VS = Form("F.VS", "Vital signs", True, (IG_VS,))
F_EX = Form("F.EX", "Exposure", True, (IG_EX,))
F_PR = Form("F.PR", "Procedure", True, (IG_PR,))
F_CM = Form("F.CM", "Concomitant medication", True, (IG_CM,))
CLINICAL_FORMS = (F_LB, F_VS, F_EX, F_PR, F_CM)
FORMS = (F_DM, F_SCREEN, F_IC, F_ENR, F_LES, F_VISIT, F_TA, F_AE, F_RESP, *CLINICAL_FORMS)
FORM_ORDER = {f.oid: n for n, f in enumerate(FORMS)}
GROUPS = tuple(g for f in FORMS for g in f.groups)

SE_BASELINE = "SE.BASELINE"
SE_UNSCHEDULED = "SE.UNSCHEDULED"
SE_COMMON = "SE.COMMON"
VISIT_FORMS = (F_VISIT, F_TA, *CLINICAL_FORMS)

# Extra history columns each dataset needs to place its records in the structure.
PLACEMENT = {
    "patients": ("subject_id", "trial_site_id"),
    "visits": ("definition_id", "scheduled_date"),
    "tumor_assessments": ("visit_id", "is_baseline", "assessment_date"),
    "lesion_measurements": ("assessment_id",),
    "adverse_event_causality": ("adverse_event_id", "intervention_id"),
    "lesions": ("code",),
    **{form.groups[0].dataset.name: ("visit_id",) for form in CLINICAL_FORMS},
}


@dataclass
class Item:
    oid: str
    column: Column
    format: Callable[[Any], str]
    index: int = 0


def _items(group: Group, ctx: ExportContext) -> list[Item]:
    columns = group.dataset.columns_for(identities=ctx.identities, allocation=ctx.allocation)
    short = group.oid.split(".", 1)[1]
    return [
        Item(f"IT.{short}.{c.name.upper()}", c, D.formatter(c, transform=True))
        for c in columns
        if c.field
    ]


def _visit_event_oid(code: str) -> str:
    return f"SE.V.{_oid_part(code)}"


def _write_metadata(out: XmlOut, ctx: ExportContext, items: dict[str, list[Item]]) -> None:
    trial = ctx.trial
    definitions = list(
        VisitDefinition.objects.filter(trial=trial).order_by("order", "day_offset", "pk")
    )
    events: list[tuple[str, str, str, bool, tuple[Form, ...]]] = [
        (
            SE_BASELINE,
            "Registration, screening and baseline",
            "Scheduled",
            False,
            (F_DM, F_SCREEN, F_IC, F_ENR, F_TA, F_LES),
        )
    ]
    events += [
        (_visit_event_oid(d.code), f"{d.code} – {d.name}", "Scheduled", False, VISIT_FORMS)
        for d in definitions
    ]
    events += [
        (SE_UNSCHEDULED, "Unscheduled visit", "Unscheduled", True, VISIT_FORMS),
        (
            SE_COMMON,
            "Adverse events, other assessments and response",
            "Common",
            False,
            (
                F_AE,
                F_TA,
                F_RESP,
                *CLINICAL_FORMS,
            ),
        ),
    ]
    out.start("Study", {"OID": f"ST.{trial.protocol_code}"})
    out.start("GlobalVariables")
    out.leaf("StudyName", trial.protocol_code)
    out.leaf("StudyDescription", trial.title)
    out.leaf("ProtocolName", trial.nct_id or trial.chictr_id or trial.protocol_code)
    out.end("GlobalVariables")
    out.start("MetaDataVersion", {"OID": "MDV.1", "Name": f"{trial.protocol_code} export"})
    out.start("Protocol")
    for n, (oid, *_rest) in enumerate(events, start=1):
        out.empty("StudyEventRef", {"StudyEventOID": oid, "OrderNumber": n, "Mandatory": "No"})
    out.end("Protocol")
    for oid, name, kind, repeating, forms in events:
        out.start(
            "StudyEventDef",
            {"OID": oid, "Name": name, "Repeating": "Yes" if repeating else "No", "Type": kind},
        )
        for n, form in enumerate(forms, start=1):
            out.empty("FormRef", {"FormOID": form.oid, "OrderNumber": n, "Mandatory": "No"})
        out.end("StudyEventDef")
    for form in FORMS:
        out.start(
            "FormDef",
            {"OID": form.oid, "Name": form.name, "Repeating": "Yes" if form.repeating else "No"},
        )
        for n, group in enumerate(form.groups, start=1):
            out.empty(
                "ItemGroupRef", {"ItemGroupOID": group.oid, "OrderNumber": n, "Mandatory": "No"}
            )
        out.end("FormDef")
    for group in GROUPS:
        out.start(
            "ItemGroupDef",
            {
                "OID": group.oid,
                "Name": group.name,
                "Repeating": "Yes" if group.repeating else "No",
                "SASDatasetName": group.oid.split(".", 1)[1][:8],
            },
        )
        for n, item in enumerate(items[group.oid], start=1):
            out.empty("ItemRef", {"ItemOID": item.oid, "OrderNumber": n, "Mandatory": "No"})
        out.end("ItemGroupDef")
    codelists = []
    for group in GROUPS:
        for item in items[group.oid]:
            c = item.column
            out.start(
                "ItemDef",
                {"OID": item.oid, "Name": c.name, "DataType": DATA_TYPES.get(c.type, "text")},
            )
            if c.description:
                out.translated("Description", c.description)
            out.translated("Question", c.label)
            if c.choices and c.type != "list":
                cl = "CL." + item.oid[3:]
                out.empty("CodeListRef", {"CodeListOID": cl})
                codelists.append((cl, c))
            out.end("ItemDef")
    for cl, c in codelists:
        out.start("CodeList", {"OID": cl, "Name": str(c.label), "DataType": "text"})
        for code, label in c.choices:
            out.start("CodeListItem", {"CodedValue": code})
            out.translated("Decode", label)
            out.end("CodeListItem")
        out.end("CodeList")
    out.end("MetaDataVersion")
    out.end("Study")


def _user_oid(username: str | None) -> str:
    return f"USR.{_oid_part(username or SYSTEM_USERNAME)}"


def _site_oid(code: str) -> str:
    return f"LOC.{_oid_part(code)}"


def _history_usernames(ctx: ExportContext) -> list[str]:
    names: set[str] = set()
    for group in GROUPS:
        qs = group.dataset.history_queryset(trial_site_ids=ctx.trial_site_ids, cutoff=ctx.cutoff)
        names.update(qs.order_by().values_list("history_username", flat=True).distinct())
    return sorted(names, key=lambda n: n or "")


def _signature_def_oid(meaning: str) -> str:
    return f"SD.{_oid_part(meaning.upper())}"


def _write_admin(out: XmlOut, ctx: ExportContext, signatures: dict[str, Any] | None = None) -> None:
    signatures = signatures or {}
    usernames = sorted(
        set(_history_usernames(ctx)) | {s.signer_username for s in signatures.values()},
        key=lambda n: n or "",
    )
    full_names = {
        u.username: u.get_full_name()
        for u in get_user_model().objects.filter(username__in=[n for n in usernames if n])
    }
    out.start("AdminData", {"StudyOID": f"ST.{ctx.trial.protocol_code}"})
    written = set()
    for name in usernames:
        name = name or SYSTEM_USERNAME
        oid = _user_oid(name)
        if oid in written:
            continue
        written.add(oid)
        out.start("User", {"OID": oid, "UserType": "Other" if name == SYSTEM_USERNAME else None})
        out.leaf("LoginName", name)
        if full_names.get(name):
            out.leaf("FullName", full_names[name])
        out.end("User")
    fallback = ctx.trial.created_at.date()
    for ts in ctx.trial_sites:
        out.start(
            "Location",
            {"OID": _site_oid(ts.site.code), "Name": ts.site.name, "LocationType": "Site"},
        )
        out.empty(
            "MetaDataVersionRef",
            {
                "StudyOID": f"ST.{ctx.trial.protocol_code}",
                "MetaDataVersionOID": "MDV.1",
                "EffectiveDate": (ts.activation_date or fallback).isoformat(),
            },
        )
        out.end("Location")
    for meaning, label in Signature.Meaning.choices:  # 21 CFR 11.50: the meaning
        out.start("SignatureDef", {"OID": _signature_def_oid(meaning), "Methodology": "Electronic"})
        out.leaf("Meaning", str(label))
        out.leaf(
            "LegalReason",
            _("Electronic signature under 21 CFR Part 11 (user id and password re-entered)."),
        )
        out.end("SignatureDef")
    out.end("AdminData")


# --- clinical data ----------------------------------------------------------------------


class Stream:
    """One dataset's history rows for the export, ordered by patient, then record, then
    time; ``take(patient_id)`` returns that patient's records as {record id: [rows]}."""

    def __init__(self, group: Group, ctx: ExportContext, items: list[Item]) -> None:
        ds = group.dataset
        self.group = group
        fields = ["_patient", "id", *HISTORY_COLUMNS, *PLACEMENT.get(ds.name, ())]
        for item in items:
            if item.column.field not in fields:
                fields.append(item.column.field)
        self.index = {name: n for n, name in enumerate(fields)}
        for item in items:
            item.index = self.index[item.column.field]
        self.items = items
        qs = ds.history_queryset(trial_site_ids=ctx.trial_site_ids, cutoff=ctx.cutoff)
        self.rows: Iterator[tuple] = (
            qs.order_by(ds.patient_id_path, "id", "history_date", "history_id")
            .values_list(ds.patient_id_path, *fields[1:])
            .iterator(chunk_size=ctx.chunk_size)
        )
        self.head: tuple | None = next(self.rows, None)

    def take(self, patient_id: int, progress: Progress) -> dict[int, list[tuple]]:
        records: dict[int, list[tuple]] = {}
        while self.head is not None and self.head[0] < patient_id:
            self.head = next(self.rows, None)  # an orphan: its patient is not exported
        while self.head is not None and self.head[0] == patient_id:
            records.setdefault(self.head[1], []).append(self.head)
            self.head = next(self.rows, None)
            progress.tick()
        return records


@dataclass
class GroupData:
    group: Group
    repeat_key: str | None
    items: list[tuple[Item, list[tuple[str, str | None, tuple]]]]
    # A record-level signature on the item group's record (AE causality).
    signature: Any = None


class SubjectWriter:
    def __init__(self, out: XmlOut, ctx: ExportContext, streams: dict[str, Stream]) -> None:
        self.signatures: dict[str, Any] = {}  # subject id -> casebook Signature
        # (model label, record id) -> record-level Signature (visit, tumour assessment,
        # AE causality, exposure, procedure): written on the record's FormData or
        # ItemGroupData, where ODM 1.3.2 puts a signature of that level.
        self.record_signatures: dict[tuple[str, int], Any] = {}
        self.form_signatures: dict[tuple, Any] = {}
        self.out = out
        self.ctx = ctx
        self.streams = streams
        self.sites = {ts.pk: ts.site.code for ts in ctx.trial_sites}
        trial = ctx.trial
        self.lookups: dict[str, dict[Any, str]] = {
            "arm": dict(Arm.objects.filter(trial=trial).values_list("pk", "code")),
            "protocol_version": dict(
                ProtocolVersion.objects.filter(trial=trial).values_list("pk", "version")
            ),
            "consent_version": {
                pk: f"{version} ({language})"
                for pk, version, language in ConsentVersion.objects.filter(trial=trial).values_list(
                    "pk", "version", "language"
                )
            },
            "intervention": dict(
                Intervention.objects.filter(trial=trial).values_list("pk", "name")
            ),
            "lesion": {},
        }
        self.definitions = dict(
            VisitDefinition.objects.filter(trial=trial).values_list("pk", "code")
        )
        self._audit: dict[tuple[str, int], str] = {}
        self.location = ""

    # audit records are identical for every item changed by one history row
    def audit(self, dataset: str, row: tuple, index: dict[str, int]) -> str:
        hid = (dataset, row[index["history_id"]])
        cached = self._audit.get(hid)
        if cached is not None:
            return cached
        when = row[index["history_date"]]
        if timezone.is_naive(when):
            when = timezone.make_aware(when, datetime.UTC)
        stamp = when.astimezone(datetime.UTC).isoformat(timespec="milliseconds")
        parts = [
            "<AuditRecord>",
            f'<UserRef UserOID="{_attr(_user_oid(row[index["history_username"]]))}"/>',
            f'<LocationRef LocationOID="{_attr(self.location)}"/>',
            f"<DateTimeStamp>{stamp.replace('+00:00', 'Z')}</DateTimeStamp>",
        ]
        reason = row[index["history_change_reason"]]
        if reason:
            parts.append(f"<ReasonForChange>{_text(reason)}</ReasonForChange>")
        request_id = row[index["history_request_id"]]
        if request_id:
            parts.append(f"<SourceID>{_text(request_id)}</SourceID>")
        parts.append("</AuditRecord>")
        text = "".join(parts)
        self._audit[hid] = text
        return text

    def transactions(
        self, stream: Stream, rows: list[tuple], overrides: dict[str, str] | None = None
    ) -> list[tuple[Item, list[tuple[str, str | None, tuple]]]]:
        """Per item: [(TransactionType, value or None for null, history row)]."""
        result = []
        type_at = stream.index["history_type"]
        for item in stream.items:
            ref = self.lookups.get(item.column.ref) if item.column.ref else None
            fixed = overrides.get(item.column.name) if overrides else None
            txns: list[tuple[str, str | None, tuple]] = []
            previous = ""
            for n, row in enumerate(rows):
                if row[type_at] == "-":
                    if previous:
                        txns.append(("Remove", None, row))
                    previous = ""
                    continue
                raw = row[item.index]
                if fixed is not None:
                    value = fixed if raw is not None else ""
                elif ref is not None:
                    value = ref.get(raw, "" if raw is None else str(raw))
                else:
                    value = item.format(raw)
                if n == 0 or not txns and not previous:
                    if value:
                        txns.append(("Insert", value, row))
                elif value != previous:
                    txns.append(("Update", value or None, row))
                previous = value
            if txns:
                result.append((item, txns))
        return result

    @staticmethod
    def latest(stream: Stream, rows: list[tuple], name: str) -> Any:
        return rows[-1][stream.index[name]]

    def write_subject(self, patient_id: int, patient_rows: list[tuple], progress: Progress) -> None:
        s = self.streams
        p = s["patients"]
        subject_id = self.latest(p, patient_rows, "subject_id")
        self.location = _site_oid(
            self.sites.get(self.latest(p, patient_rows, "trial_site_id"), "?")
        )
        self._audit = {}
        self.form_signatures = {}
        data = {
            name: stream.take(patient_id, progress)
            for name, stream in s.items()
            if name != "patients"
        }
        # events: key -> (sort key, oid, repeat key, {form key: (form, repeat key, [GroupData])})
        events: dict[tuple[str, str | None], list] = {}

        def add(
            event: tuple[str, str | None],
            sort: tuple,
            form: Form,
            form_key: str | None,
            gd: GroupData,
        ) -> None:
            if not gd.items:
                return
            entry = events.setdefault(event, [sort, {}])
            forms = entry[1]
            forms.setdefault((FORM_ORDER[form.oid], form.oid, form_key), []).append(gd)

        def sign(
            event: tuple[str, str | None], form: Form, form_key: str | None, label: str, rid: int
        ) -> None:
            signature = self.record_signatures.get((label, rid))
            if signature is not None:
                self.form_signatures[(event, form.oid, form_key)] = signature

        baseline = (SE_BASELINE, None)
        add(baseline, (0,), F_DM, None, GroupData(IG_DM, None, self.transactions(p, patient_rows)))
        for name, form, group in (
            ("screenings", F_SCREEN, IG_SCREEN),
            ("consents", F_IC, IG_IC),
            ("enrollments", F_ENR, IG_ENR),
        ):
            for rid, rows in data[name].items():
                key = str(rid) if form.repeating else None
                add(
                    baseline,
                    (0,),
                    form,
                    key,
                    GroupData(group, None, self.transactions(s[name], rows)),
                )
        lesions = data["lesions"]
        self.lookups["lesion"] = {
            rid: self.latest(s["lesions"], rows, "code") for rid, rows in lesions.items()
        }
        for rid, rows in lesions.items():
            add(
                baseline,
                (0,),
                F_LES,
                None,
                GroupData(IG_LES, str(rid), self.transactions(s["lesions"], rows)),
            )

        visit_events: dict[int, tuple[tuple[str, str | None], tuple]] = {}
        for rid, rows in data["visits"].items():
            definition = self.latest(s["visits"], rows, "definition_id")
            when = self.latest(s["visits"], rows, "scheduled_date")
            if definition is not None and definition in self.definitions:
                event = (_visit_event_oid(self.definitions[definition]), None)
            else:
                event = (SE_UNSCHEDULED, str(rid))
            sort = (1, when or datetime.date.min, rid)
            visit_events[rid] = (event, sort)
            add(
                event,
                sort,
                F_VISIT,
                None,
                GroupData(IG_VISIT, None, self.transactions(s["visits"], rows)),
            )
            sign(event, F_VISIT, None, "patients.visit", rid)

        measurements: dict[int, list[list[tuple]]] = {}
        m = s["lesion_measurements"]
        for rows in data["lesion_measurements"].values():
            measurements.setdefault(self.latest(m, rows, "assessment_id"), []).append(rows)
        ta = s["tumor_assessments"]
        for rid, rows in data["tumor_assessments"].items():
            visit_id = self.latest(ta, rows, "visit_id")
            if visit_id in visit_events:
                event, sort = visit_events[visit_id]
            elif self.latest(ta, rows, "is_baseline"):
                event, sort = baseline, (0,)
            else:
                event, sort = (SE_COMMON, None), (2,)
            key = str(rid)
            add(event, sort, F_TA, key, GroupData(IG_TA, None, self.transactions(ta, rows)))
            sign(event, F_TA, key, "patients.tumorassessment", rid)
            for mrows in measurements.get(rid, []):
                add(
                    event,
                    sort,
                    F_TA,
                    key,
                    GroupData(IG_LM, str(mrows[-1][1]), self.transactions(m, mrows)),
                )

        causality: dict[int, list[list[tuple]]] = {}
        c = s["adverse_event_causality"]
        for rows in data["adverse_event_causality"].values():
            causality.setdefault(self.latest(c, rows, "adverse_event_id"), []).append(rows)
        common = (SE_COMMON, None)
        for rid, rows in data["adverse_events"].items():
            key = str(rid)
            add(
                common,
                (2,),
                F_AE,
                key,
                GroupData(IG_AE, None, self.transactions(s["adverse_events"], rows)),
            )
            linked = causality.get(rid, [])
            names = self.lookups["intervention"]
            linked.sort(
                key=lambda r: (names.get(self.latest(c, r, "intervention_id"), ""), r[-1][1])
            )
            for n, crows in enumerate(linked, start=1):
                overrides = None
                if not self.ctx.allocation:
                    overrides = {"intervention": str(_("Study treatment %(n)s") % {"n": n})}
                causality_id = crows[-1][1]
                add(
                    common,
                    (2,),
                    F_AE,
                    key,
                    GroupData(
                        IG_AECAUS,
                        str(causality_id),
                        self.transactions(c, crows, overrides),
                        self.record_signatures.get(
                            ("patients.adverseeventcausality", causality_id)
                        ),
                    ),
                )
        for form in CLINICAL_FORMS:
            group = form.groups[0]
            stream = s[group.dataset.name]
            for rid, rows in data[group.dataset.name].items():
                visit_id = self.latest(stream, rows, "visit_id")
                event, sort = visit_events.get(visit_id, (common, (2,)))
                overrides = None
                if group is IG_EX and not self.ctx.allocation:
                    overrides = {"intervention": str(_("Study treatment"))}
                add(
                    event,
                    sort,
                    form,
                    str(rid),
                    GroupData(group, None, self.transactions(stream, rows, overrides)),
                )
                sign(event, form, str(rid), group.dataset.model._meta.label_lower, rid)
        for rows in data["responses"].values():
            add(
                common,
                (2,),
                F_RESP,
                None,
                GroupData(IG_RESP, None, self.transactions(s["responses"], rows)),
            )

        self.write(subject_id, events)

    def write(self, subject_id: str, events: dict) -> None:
        w = self.out.write
        w(f'<SubjectData SubjectKey="{_attr(subject_id)}" TransactionType="Context">\n')
        signature = self.signatures.get(subject_id)
        if signature is not None:
            w(_signature_xml(signature))
        w(f'<SiteRef LocationOID="{_attr(self.location)}"/>\n')
        for (oid, repeat), (_sort, forms) in sorted(events.items(), key=lambda e: e[1][0]):
            rk = f' StudyEventRepeatKey="{_attr(repeat)}"' if repeat else ""
            w(f'<StudyEventData StudyEventOID="{oid}"{rk} TransactionType="Context">\n')
            for (_order, form_oid, form_key), groups in sorted(
                forms.items(), key=lambda f: (f[0][0], int(f[0][2] or 0))
            ):
                fk = f' FormRepeatKey="{form_key}"' if form_key else ""
                w(f'<FormData FormOID="{form_oid}"{fk} TransactionType="Context">\n')
                form_signature = self.form_signatures.get(((oid, repeat), form_oid, form_key))
                if form_signature is not None:
                    w(_signature_xml(form_signature))
                for gd in groups:
                    gk = f' ItemGroupRepeatKey="{gd.repeat_key}"' if gd.repeat_key else ""
                    w(
                        f'<ItemGroupData ItemGroupOID="{gd.group.oid}"{gk} TransactionType="Context">\n'
                    )
                    if gd.signature is not None:
                        w(_signature_xml(gd.signature))
                    dataset = gd.group.dataset.name
                    index = self.streams[dataset].index
                    for item, txns in gd.items:
                        for ttype, value, row in txns:
                            if value is None:
                                head = f'<ItemData ItemOID="{item.oid}" TransactionType="{ttype}" IsNull="Yes">'
                            else:
                                head = f'<ItemData ItemOID="{item.oid}" TransactionType="{ttype}" Value="{_attr(value)}">'
                            w(head + self.audit(dataset, row, index) + "</ItemData>\n")
                    w("</ItemGroupData>\n")
                w("</FormData>\n")
            w("</StudyEventData>\n")
        w("</SubjectData>\n")


def _signature_xml(signature: Any) -> str:
    """An ODM ``Signature``: who (UserRef), where (LocationRef), the meaning
    (SignatureRef to its SignatureDef) and when (UTC)."""
    stamp = signature.signed_at.astimezone(datetime.UTC).replace(tzinfo=None)
    return (
        f'<Signature><UserRef UserOID="{_attr(_user_oid(signature.signer_username))}"/>'
        f'<LocationRef LocationOID="{_attr(_site_oid(signature.trial_site.site.code))}"/>'
        f'<SignatureRef SignatureOID="{_signature_def_oid(signature.meaning)}"/>'
        f"<DateTimeStamp>{stamp.isoformat(timespec='seconds')}Z</DateTimeStamp>"
        "</Signature>\n"
    )


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
