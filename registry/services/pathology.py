"""Synoptic pathology: what a protocol version requires is data, read here."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from audit.users import ActingUser

from ..models import PathologyReport, Tumour
from .clinical import _not_future
from .common import save_record

PROTOCOLS = Path(__file__).resolve().parent.parent / "data" / "pathology_protocols.json"
FIELDS = (
    "protocol",
    "protocol_version",
    "report_date",
    "specimen",
    "histologic_type",
    "grade",
    "icca_subtype",
    "margin",
    "margin_distance_mm",
    "nodes_examined",
    "nodes_positive",
    "perineural_invasion",
    "vascular_invasion",
    "pt",
    "pn",
    "ihc",
    "elements",
)


@cache
def protocols() -> dict[str, dict[str, Any]]:
    return json.loads(PROTOCOLS.read_text(encoding="utf-8"))["protocols"]


def protocol_versions(protocol: str) -> list[str]:
    return sorted(protocols().get(protocol, {}))


def _empty(value: Any) -> bool:
    return value is None or value == ""


def pathology_rules(report: PathologyReport) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    _not_future(errors, "report_date", report.report_date)
    if (
        report.report_date
        and report.tumour.diagnosis_date
        and report.report_date < report.tumour.diagnosis_date
    ):
        # a pathology report is usually the diagnosis; before it means the diagnosis date is wrong
        errors.setdefault("report_date", []).append(
            _("The report is dated before the diagnosis; correct one of the two dates.")
        )
    spec = protocols().get(report.protocol, {}).get(report.protocol_version)
    if spec is None:
        errors["protocol_version"] = [
            _("Unknown version of this protocol; known: %(versions)s.")
            % {"versions": ", ".join(protocol_versions(report.protocol)) or "–"}
        ]
        return errors
    required = list(spec["core"])
    for rule in spec["conditional"]:
        hit = True
        for field, allowed in rule["when"].items():
            value = getattr(report, field)
            matched = bool(value) if allowed == "positive" else value in allowed
            hit = hit and matched
        if hit:
            required.extend(rule["require"])
    for field in dict.fromkeys(required):
        if _empty(getattr(report, field)):
            errors.setdefault(field, []).append(_("This protocol requires this element."))
    if report.histologic_type and report.histologic_type not in spec["histologic_types"]:
        errors.setdefault("histologic_type", []).append(
            _("This histologic type is not covered by this protocol.")
        )
    if report.pt and report.pt not in spec["pt"]:
        errors.setdefault("pt", []).append(
            _("Choose one of: %(values)s.") % {"values": ", ".join(spec["pt"])}
        )
    if report.pn and report.pn not in spec["pn"]:
        errors.setdefault("pn", []).append(
            _("Choose one of: %(values)s.") % {"values": ", ".join(spec["pn"])}
        )
    if (
        report.nodes_positive is not None
        and report.nodes_examined is not None
        and report.nodes_positive > report.nodes_examined
    ):
        errors.setdefault("nodes_positive", []).append(
            _("More positive nodes than nodes examined.")
        )
    if report.pn == "pN0" and report.nodes_positive:
        errors.setdefault("pn", []).append(_("pN0 with positive nodes."))
    if report.icca_subtype and report.protocol != PathologyReport.Protocol.CAP_ICC:
        errors.setdefault("icca_subtype", []).append(
            _("The iCCA subtype belongs to the intrahepatic bile duct protocol.")
        )
    if not isinstance(report.ihc, dict):
        errors["ihc"] = [_("Give markers and results as marker: result.")]
    return errors


def pathology_report_record(
    *,
    tumour: Tumour,
    acting_user: ActingUser,
    report: PathologyReport | None = None,
    reason: str = "",
    source_system: str = "",
    source_id: str = "",
    **fields: Any,
) -> PathologyReport:
    instance = report or PathologyReport(
        tumour=tumour, source_system=source_system, source_id=source_id
    )
    return save_record(
        instance,
        fields={k: v for k, v in fields.items() if k in FIELDS},
        site=tumour.patient.site,
        acting_user=acting_user,
        reason=reason,
        rules=pathology_rules,
        created_reason=_("Pathology report recorded"),
    )
