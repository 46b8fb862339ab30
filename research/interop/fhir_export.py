"""A FHIR R4 collection Bundle (mCODE style) of a research dataset, validated by
fhir.resources' R4B models (the R4 technical correction, as ``registry/fhir.py`` reads
them) before it is returned.

- Patient: one per person; the subject id as the only identifier, gender, birthDate as
  the year only, deceasedDateTime (shifted); no name, address or document.
- Condition (mCODE PrimaryCancerCondition): ICD-O-3 morphology in ``code`` (and the
  histology-morphology-behavior extension), ICD-O-3 topography as ``bodySite``, onset =
  the shifted diagnosis date.
- Observation: AJCC stage groups (mCODE TNM clinical stage group, LOINC 21908-9), ECOG
  (LOINC 89247-1), BCLC / CNLC / Child-Pugh / ALBI (code text, no LOINC code exists);
  tumour markers of the molecular tests: TMB (LOINC 94076-7), MSI (81695-9), HER2
  (48676-1), PD-L1 TPS / CPS (code text).
- DiagnosticReport (genomics report, LOINC 81247-9) per test with its variant
  Observations (LOINC 69548-6; gene studied 48018-6 as an HGNC symbol, HGVS c. 48004-6 and
  p. 48005-3, allele frequency 81258-6), fusions and copy-number changes.
- Procedure for surgery, ablation, TACE, HAIC, SIRT, radiotherapy (code text names the
  kind, as the registry's FHIR import matches it); MedicationAdministration per drug of a
  systemic line.
- With ``study``: a ResearchStudy and one ResearchSubject per patient.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from .dataset import ResearchDataset, persons

BASE = "https://hbtrials.invalid/fhir/"  # fullUrl base: resolvable by nobody, unique here
SUBJECT_SYSTEM = "urn:hbtrials:research-subject-id"
STUDY_SYSTEM = "urn:hbtrials:research-study-id"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
LOINC = "http://loinc.org"
HGNC = "http://www.genenames.org/geneId"
HGVS = "http://varnomen.hgvs.org"
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
GENOMICS = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PROCEDURES = {
    "resection": "Resection",
    "transplant": "Liver transplant",
    "rfa": "Radiofrequency ablation",
    "mwa": "Microwave ablation",
    "cryoablation": "Cryoablation",
    "tace": "TACE (transarterial chemoembolization)",
    "haic": "HAIC (hepatic arterial infusion chemotherapy)",
    "sirt": "SIRT (radioembolization)",
    "radiotherapy": "Radiotherapy",
}
STAGES = {
    "AJCC8_LIVER": ("21908-9", "Stage group.clinical Cancer", "mcode-tnm-clinical-stage-group"),
    "AJCC8_ICC": ("21908-9", "Stage group.clinical Cancer", "mcode-tnm-clinical-stage-group"),
    "ECOG": ("89247-1", "ECOG Performance Status score", "mcode-ecog-performance-status"),
}


def _id(*parts: Any) -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "-", "-".join(str(p) for p in parts))[:64]


def _day(d: datetime.date | None) -> str | None:
    return d.isoformat() if d else None


def _ref(kind: str, rid: str) -> dict[str, str]:
    return {"reference": f"{kind}/{rid}"}


def _loinc(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display}


def _gene(symbol: str) -> dict[str, Any]:
    return {
        "code": _loinc("48018-6", "Gene studied [ID]"),
        "valueCodeableConcept": {"coding": [{"system": HGNC, "display": symbol}], "text": symbol},
    }


def _clean(value: Any) -> Any:
    """Drop None and empty containers (FHIR has no nulls)."""
    if isinstance(value, dict):
        cleaned = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v not in (None, [], {}, "")}
    if isinstance(value, list):
        return [c for c in (_clean(v) for v in value) if c not in (None, [], {}, "")]
    return value


def bundle(dataset: ResearchDataset, *, study: dict[str, Any] | None = None) -> dict[str, Any]:
    """The dataset as a collection Bundle (JSON-ready dict), validated against R4B.

    ``study``: ``id`` (or ``trial_id``), ``title``, ``status`` (a ResearchStudy status,
    default ``active``), optionally ``description`` and ``subject_status`` (default
    ``on-study``).
    """
    resources: list[dict[str, Any]] = []
    people = persons(dataset)
    for p in people:
        resources.append(
            {
                "resourceType": "Patient",
                "id": p.subject_id,
                "meta": {"profile": [MCODE + "mcode-cancer-patient"]},
                "identifier": [{"system": SUBJECT_SYSTEM, "value": p.subject_id}],
                "gender": {"F": "female", "M": "male"}.get(p.sex, "unknown"),
                "birthDate": str(p.year_of_birth),
                "deceasedDateTime": _day(p.death_date),
            }
        )

    condition_of: dict[tuple[str, str, int], str] = {}
    first_condition: dict[str, str] = {}
    for t in dataset.records("tumours"):
        subject = t["subject_id"]
        cid = _id(subject, t["center"], "c", t["tumour_id"])
        condition_of[(subject, t["center"], t["tumour_id"])] = cid
        first_condition.setdefault(subject, cid)
        morphology = {"system": ICDO3, "code": t["morphology"]}
        resources.append(
            {
                "resourceType": "Condition",
                "id": cid,
                "meta": {"profile": [MCODE + "mcode-primary-cancer-condition"]},
                "extension": [
                    {
                        "url": MCODE + "mcode-histology-morphology-behavior",
                        "valueCodeableConcept": {"coding": [morphology]},
                    }
                ],
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active",
                        }
                    ]
                },
                "category": [
                    {"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}
                ],
                "code": {"coding": [morphology], "text": t["category"]},
                "bodySite": [{"coding": [{"system": ICDO3, "code": t["topography"]}]}],
                "subject": _ref("Patient", subject),
                "onsetDateTime": _day(t["diagnosis_date"]),
            }
        )

    for n, s in enumerate(dataset.records("staging"), start=1):
        if not s["value"]:
            continue
        subject = s["subject_id"]
        loinc = STAGES.get(s["system"])
        code = (
            _loinc(loinc[0], loinc[1])
            if loinc
            else {"coding": [{"system": "urn:hbtrials:staging-system", "code": s["system"]}]}
            | {"text": s["system"]}
        )
        resources.append(
            {
                "resourceType": "Observation",
                "id": _id(subject, s["center"], "stage", n),
                "meta": {"profile": [MCODE + loinc[2]]} if loinc else None,
                "status": "final",
                "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
                "code": code,
                "method": {"text": f"{s['system']} (engine {s['engine_version']})"},
                "subject": _ref("Patient", subject),
                "focus": [
                    _ref(
                        "Condition",
                        condition_of.get((subject, s["center"], s["tumour_id"]), ""),
                    )
                ]
                if (subject, s["center"], s["tumour_id"]) in condition_of
                else None,
                "effectiveDateTime": _day(s["staged_on"]),
                "valueCodeableConcept": {"text": s["value"]},
            }
        )

    resources += _genomics(dataset, condition_of, first_condition)
    resources += _treatments(dataset, condition_of, first_condition)

    if study:
        identifier = str(study.get("id") or study.get("trial_id") or "study")
        study_id = _id("study", identifier)
        resources.append(
            {
                "resourceType": "ResearchStudy",
                "id": study_id,
                "identifier": [{"system": STUDY_SYSTEM, "value": identifier}],
                "title": study.get("title"),
                "status": study.get("status") or "active",
                "description": study.get("description") or None,
            }
        )
        for p in people:
            resources.append(
                {
                    "resourceType": "ResearchSubject",
                    "id": _id("rs", p.subject_id),
                    "identifier": [{"system": SUBJECT_SYSTEM, "value": p.subject_id}],
                    "status": study.get("subject_status") or "on-study",
                    "study": _ref("ResearchStudy", study_id),
                    "individual": _ref("Patient", p.subject_id),
                }
            )

    result = _clean(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": f"{BASE}{r['resourceType']}/{r['id']}", "resource": r}
                for r in resources
            ],
        }
    )
    Bundle.model_validate(result)  # raises pydantic.ValidationError on anything invalid
    return result


def _genomics(
    dataset: ResearchDataset,
    condition_of: dict[tuple[str, str, int], str],
    first_condition: dict[str, str],
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    findings: dict[str, list[dict[str, Any]]] = {}
    for v in dataset.records("variants"):
        components = [_gene(v["gene"])]
        if v["hgvs_c"]:
            components.append(
                {
                    "code": _loinc("48004-6", "DNA change (c.HGVS)"),
                    "valueCodeableConcept": {
                        "coding": [{"system": HGVS, "code": v["hgvs_c"]}],
                        "text": v["hgvs_c"],
                    },
                }
            )
        if v["hgvs_p"]:
            components.append(
                {
                    "code": _loinc("48005-3", "Amino acid change (pHGVS)"),
                    "valueCodeableConcept": {
                        "coding": [{"system": HGVS, "code": v["hgvs_p"]}],
                        "text": v["hgvs_p"],
                    },
                }
            )
        if v["vaf"] is not None:
            components.append(
                {
                    "code": _loinc("81258-6", "Sample variant allelic frequency [NFr]"),
                    "valueQuantity": {
                        "value": v["vaf"],
                        "system": "http://unitsofmeasure.org",
                        "code": "1",
                    },
                }
            )
        findings.setdefault(v["sample_id"], []).append(
            {"label": f"{v['gene']} {v['hgvs_p'] or v['hgvs_c']}".strip(), "component": components}
        )
    for f in dataset.records("fusions"):
        findings.setdefault(f["sample_id"], []).append(
            {
                "label": f"{f['gene_5']}::{f['gene_3']} fusion",
                "component": [_gene(f["gene_5"]), _gene(f["gene_3"])],
            }
        )
    for c in dataset.records("copy_numbers"):
        components = [_gene(c["gene"])]
        if c["copy_number"] is not None:
            components.append(
                {
                    "code": _loinc("82155-3", "Genomic structural variant copy number"),
                    "valueQuantity": {"value": c["copy_number"]},
                }
            )
        findings.setdefault(c["sample_id"], []).append(
            {"label": f"{c['gene']} {c['change'].replace('_', ' ')}", "component": components}
        )

    for t in dataset.records("genomic_tests"):
        subject, sample = t["subject_id"], t["sample_id"]
        focus = condition_of.get((subject, t["center"], t["tumour_id"])) or first_condition.get(
            subject
        )
        results = []
        markers = [
            ("94076-7", "Mutations/Megabase [# Ratio] in Tumor", "tmb", "{mutations}/Mb"),
            (
                "81695-9",
                "Microsatellite instability [Interpretation] in Cancer specimen",
                "msi",
                None,
            ),
            ("48676-1", "HER2 [Interpretation] in Tissue", "her2", None),
            ("", "PD-L1 tumor proportion score (%)", "pdl1_tps", "%"),
            ("", "PD-L1 combined positive score", "pdl1_cps", None),
        ]
        for n, (code, display, field, unit) in enumerate(markers, start=1):
            value = t[field]
            if value in (None, ""):
                continue
            oid = _id(sample, "m", n)
            results.append(_ref("Observation", oid))
            out.append(
                {
                    "resourceType": "Observation",
                    "id": oid,
                    "meta": {"profile": [MCODE + "mcode-tumor-marker-test"]},
                    "status": "final",
                    "category": [
                        {"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory"}]}
                    ],
                    "code": _loinc(code, display) if code else {"text": display},
                    "subject": _ref("Patient", subject),
                    "focus": [_ref("Condition", focus)] if focus else None,
                    "effectiveDateTime": _day(t["test_date"]),
                    "valueQuantity": {"value": value, "unit": unit}
                    if isinstance(value, int | float)
                    else None,
                    "valueCodeableConcept": {"text": value} if isinstance(value, str) else None,
                }
            )
        for n, finding in enumerate(findings.get(sample, []), start=1):
            oid = _id(sample, "v", n)
            results.append(_ref("Observation", oid))
            out.append(
                {
                    "resourceType": "Observation",
                    "id": oid,
                    "meta": {"profile": [GENOMICS + "variant"]},
                    "status": "final",
                    "category": [
                        {"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory"}]}
                    ],
                    "code": _loinc("69548-6", "Genetic variant assessment"),
                    "subject": _ref("Patient", subject),
                    "focus": [_ref("Condition", focus)] if focus else None,
                    "effectiveDateTime": _day(t["test_date"]),
                    "valueCodeableConcept": {
                        "coding": [{"system": LOINC, "code": "LA9633-4", "display": "Present"}],
                        "text": finding["label"],
                    },
                    "component": finding["component"],
                }
            )
        out.append(
            {
                "resourceType": "DiagnosticReport",
                "id": _id(sample, "report"),
                "meta": {"profile": [GENOMICS + "genomics-report"]},
                "identifier": [{"system": "urn:hbtrials:sample-id", "value": sample}],
                "status": "final",
                "category": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v2-0074",
                                "code": "GE",
                                "display": "Genetics",
                            }
                        ]
                    }
                ],
                "code": _loinc("81247-9", "Master HL7 genetic variant reporting panel"),
                "subject": _ref("Patient", subject),
                "effectiveDateTime": _day(t["test_date"]),
                "result": results,
                "conclusion": f"{t['kind']} on {t['specimen']}",
            }
        )
    return out


def _treatments(
    dataset: ResearchDataset,
    condition_of: dict[tuple[str, str, int], str],
    first_condition: dict[str, str],
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for t in dataset.records("treatments"):
        subject = t["subject_id"]
        reason = condition_of.get((subject, t["center"], t["tumour_id"])) or first_condition.get(
            subject
        )
        period = {"start": _day(t["start_date"]), "end": _day(t["end_date"])}
        if t["kind"] != "systemic":
            profile = (
                "mcode-radiotherapy-course-summary"
                if t["kind"] == "radiotherapy"
                else "mcode-cancer-related-surgical-procedure"
            )
            out.append(
                {
                    "resourceType": "Procedure",
                    "id": _id(subject, t["center"], "p", t["treatment_id"]),
                    "meta": {"profile": [MCODE + profile]},
                    "status": "completed",
                    "code": {"text": PROCEDURES.get(t["kind"], t["kind"])},
                    "subject": _ref("Patient", subject),
                    "performedPeriod": period,
                    "reasonReference": [_ref("Condition", reason)] if reason else None,
                    "outcome": {"text": t["best_response"]} if t["best_response"] else None,
                }
            )
            continue
        drugs = [d for d in (t["drugs"] or "").split(";") if d] or [t["regimen"] or "unspecified"]
        for n, drug in enumerate(drugs, start=1):
            out.append(
                {
                    "resourceType": "MedicationAdministration",
                    "id": _id(subject, t["center"], "m", t["treatment_id"], n),
                    "meta": {"profile": [MCODE + "mcode-cancer-related-medication-administration"]},
                    "status": "completed",
                    "medicationCodeableConcept": {"text": drug},
                    "subject": _ref("Patient", subject),
                    "effectivePeriod": period,
                    "reasonReference": [_ref("Condition", reason)] if reason else None,
                    "note": [
                        {
                            "text": f"Line {t['line']}, {t['intent']}"
                            + (f", regimen {t['regimen']}" if t["regimen"] else "")
                        }
                    ],
                }
            )
    return out
