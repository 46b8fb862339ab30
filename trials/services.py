"""Writes on trial configuration (criteria, ...). The admin, management commands and
the demo call these; each write is attributed through ``audit_context``."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.context import audit_context
from audit.users import ActingUser
from domain.eligibility import ICCA_DEFAULT_CRITERIA
from sites.roles import Perm
from sites.scoping import has_perm

from .models import EligibilityCriterion, ProtocolVersion

#: Simplified Chinese text of the default iCCA criteria (shown when the UI is Chinese).
ICCA_DEFAULT_CRITERIA_ZH: dict[str, str] = {
    "INC-AGE": "筛选时年龄 18 至 75 岁（含）。",
    "INC-HISTOLOGY": "经组织学或细胞学确诊的肝内胆管癌（iCCA）。",
    "INC-UNRESECTABLE": "不可切除或晚期（转移性）疾病。",
    "INC-NO-PRIOR-SYSTEMIC": "既往未接受系统治疗；若既往仅接受辅助治疗，且辅助治疗结束后超过 6 个月（183 天）复发，可入组。",
    "INC-MEASURABLE": "根据 RECIST 1.1 至少有一个可测量病灶。",
    "INC-CHILD-PUGH": "肝功能 Child-Pugh A 级。",
    "INC-ECOG": "ECOG 体能状态评分 0 或 1。",
    "INC-LIFE-EXPECTANCY": "预计生存期至少 12 周。",
    "INC-PLATELETS": "血小板计数 ≥ 75 ×10^9/L。",
    "INC-NEUTROPHILS": "中性粒细胞绝对计数 ≥ 1.5 ×10^9/L。",
    "INC-HAEMOGLOBIN": "血红蛋白 ≥ 90 g/L。",
    "INC-BILIRUBIN": "总胆红素 ≤ 1.5 × 正常值上限（ULN）。",
    "INC-TRANSAMINASES": "ALT 和 AST ≤ 5 × ULN（肝脏受累）。",
    "INC-CREATININE": "血清肌酐 ≤ 1.5 × ULN。",
    "EXC-HISTOLOGY": "组织学为肝细胞癌或混合型肝细胞-胆管细胞癌。",
    "EXC-OTHER-CANCER": "近 5 年内诊断或治疗过其他恶性肿瘤（已充分治疗的非黑色素瘤皮肤癌或原位癌除外）。",
    "EXC-RADIOTHERAPY": "筛选前 28 天内接受过放疗。",
    "EXC-MAJOR-SURGERY": "筛选前 28 天内接受过大手术。",
    "EXC-CNS": "已知有中枢神经系统（CNS）转移。",
    "EXC-PRIOR-CHECKPOINT": "既往接受过抗 PD-1、抗 PD-L1 或抗 CTLA-4 治疗。",
    "EXC-RECENT-LOCAL-THERAPY": "局部治疗（包括消融）结束距基线扫描不足 28 天。",
    "EXP-CONSENT-LANGUAGE": "以患者能理解的语言知情同意：经伦理批准的译本，或由合格翻译在公正见证人在场的情况下进行。",
    "EXP-PERMIT": "居留许可/签证有效期覆盖计划随访结束，或已同意远程随访。",
    "EXP-ID-DOCUMENT": "已记录身份证件（护照或外国人永久居留身份证）。",
    "EXP-INSURANCE": "已记录保险及费用承担情况。",
}


def criteria_load_defaults(
    *, protocol_version: ProtocolVersion, acting_user: ActingUser | None
) -> int:
    """Create the default iCCA criteria (``ICCA_DEFAULT_CRITERIA``) for a protocol version.

    Idempotent: a criterion whose code the version already has is left as it is (it
    may have been adapted by the data manager). Returns how many were created.
    ``acting_user`` ``None`` means an operator at the shell (management command).
    """
    trial = protocol_version.trial
    if acting_user is not None and not has_perm(acting_user, Perm.CONFIGURE_TRIAL, trial=trial):
        raise PermissionDenied(_("You may not configure the criteria of this trial."))
    reason = _("Default iCCA eligibility criteria loaded")
    created = 0
    with transaction.atomic(), audit_context(user=acting_user, reason=reason):
        locked = ProtocolVersion.objects.select_for_update().get(pk=protocol_version.pk)
        existing = set(locked.criteria.values_list("code", flat=True))
        for position, criterion in enumerate(ICCA_DEFAULT_CRITERIA, start=1):
            if criterion.code in existing:
                continue
            obj = EligibilityCriterion(
                trial=trial,
                protocol_version=locked,
                code=criterion.code,
                kind=str(criterion.kind),
                applies_to=str(criterion.applies_to),
                text=criterion.text,
                text_zh=ICCA_DEFAULT_CRITERIA_ZH.get(criterion.code, ""),
                rule=json.loads(json.dumps(criterion.rule)),  # a private copy
                order=position * 10,
            )
            try:
                obj.full_clean()
            except ValidationError as exc:  # pragma: no cover - the defaults are tested
                raise ValidationError(
                    {"rule": [f"{criterion.code}: {m}" for m in exc.messages]}
                ) from exc
            obj.save()
            created += 1
    return created


def consent_document_upload(
    *,
    consent_version: Any,
    file: Any,
    document_version: str,
    ethics_approval_ref: str,
    approved_on: Any,
    acting_user: ActingUser,
    reason: str | None = None,
) -> Any:
    """Store the ethics-approved PDF of ``consent_version`` with its SHA-256."""
    import hashlib

    from .consent_documents import ConsentDocument

    if acting_user is not None and not has_perm(
        acting_user, Perm.CONFIGURE_TRIAL, trial=consent_version.trial
    ):
        raise PermissionDenied(_("You may not configure this trial."))
    errors: dict[str, list[str]] = {}
    content = b"".join(file.chunks()) if hasattr(file, "chunks") else file.read()
    if not content.startswith(b"%PDF-"):
        errors["file"] = [_("Upload the approved document as a PDF file.")]
    if not (document_version or "").strip():
        errors["document_version"] = [_("Enter the document version.")]
    if not (ethics_approval_ref or "").strip():
        errors["ethics_approval_ref"] = [_("Enter the ethics approval reference.")]
    if ConsentDocument.objects.filter(
        consent_version=consent_version, document_version=(document_version or "").strip()
    ).exists():
        errors["document_version"] = [_("This version already has a document of that version.")]
    if errors:
        raise ValidationError(errors)
    if hasattr(file, "seek"):
        file.seek(0)
    with transaction.atomic(), audit_context(user=acting_user, reason=reason or _("Upload")):
        document = ConsentDocument(
            consent_version=consent_version,
            document_version=document_version.strip(),
            ethics_approval_ref=ethics_approval_ref.strip(),
            approved_on=approved_on,
            sha256=hashlib.sha256(content).hexdigest(),
        )
        document.file.save(
            f"{consent_version.pk}-{document.document_version}.pdf", file, save=False
        )
        document.save()
    return document


def consent_document_for(*, consent_version: Any, on_date: Any) -> Any:
    """The latest document of the version approved on or before ``on_date``."""
    from .consent_documents import ConsentDocument

    return (
        ConsentDocument.objects.filter(consent_version=consent_version, approved_on__lte=on_date)
        .order_by("-approved_on", "-pk")
        .first()
    )
