"""``ClinicalData``: each dataset's history rows streamed by patient, and the subject
writer that places every record in its study event and form, with one ``ItemData``
(and its ``AuditRecord``) per insert, update or removal."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from trials.models import Arm, ConsentVersion, Intervention, ProtocolVersion, VisitDefinition

from ..writing import ExportContext, Progress
from .admin_data import _signature_xml, _site_oid, _user_oid
from .metadata import (
    CLINICAL_FORMS,
    F_AE,
    F_DM,
    F_ENR,
    F_IC,
    F_LES,
    F_RESP,
    F_SCREEN,
    F_TA,
    F_VISIT,
    FORM_ORDER,
    HISTORY_COLUMNS,
    IG_AE,
    IG_AECAUS,
    IG_DM,
    IG_ENR,
    IG_EX,
    IG_IC,
    IG_LES,
    IG_LM,
    IG_RESP,
    IG_SCREEN,
    IG_TA,
    IG_VISIT,
    PLACEMENT,
    SE_BASELINE,
    SE_COMMON,
    SE_UNSCHEDULED,
    Form,
    Group,
    Item,
    _visit_event_oid,
)
from .xmlout import XmlOut, _attr, _text

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
