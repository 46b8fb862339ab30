"""The study definition: the ODM structure of the export (study events, forms, item
groups over the export datasets, items) and the ``Study`` / ``MetaDataVersion`` element."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trials.models import VisitDefinition

from .. import datasets as D
from ..datasets import Column, Dataset
from ..writing import ExportContext
from .xmlout import XmlOut, _oid_part

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
