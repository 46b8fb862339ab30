"""FHIR R4 bundle import (fhir.resources validates the bundle against its R4B models, the
R4 technical correction; the package default is R5): Patient, Condition
(the tumour, ICD-O-3 coded) and Procedure (treatments) become the same rows as the CSV
templates, and go through the same checks, dry run and idempotent matching (source
system + the resource id).

Mapping:
- Patient: ``identifier`` typed ``PPN`` (passport), ``PRC`` (permanent residence card) or
  ``NI`` / ``NNCHN`` (resident identity card); ``name[0]``; ``gender``; ``birthDate``;
  ``address[0].country`` as nationality (default CN).
- Condition: ``code.coding`` in ICD-O-3 morphology (system ending ``icd-o-3`` or
  ``2.16.840.1.113883.6.43.1``, code like ``8160/3``), ``bodySite.coding`` the topography
  (``C22.1``); ``onsetDateTime`` (else ``recordedDate``) the diagnosis date; the cancer
  from the morphology / topography; basis ``histology`` when ``evidence`` is given,
  else ``clinical``.
- Procedure: ``code.text`` / ``code.coding.display`` matched to a treatment kind
  (resection, transplant, RFA, MWA, cryoablation, TACE, HAIC, SIRT, radiotherapy);
  ``performedPeriod`` or ``performedDateTime``; curative intent for resection,
  transplant and ablation, palliative otherwise.
Other resource types are listed as skipped.
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.utils.translation import gettext as _
from fhir.resources.R4B.bundle import Bundle  # R4B: the R4 data model (the package default is R5)
from pydantic import ValidationError as PydanticError

from .codes import category_topographies, morphology_category

DOC_TYPES = {
    "PPN": "passport",
    "PRC": "permanent_residence",
    "NI": "resident_id",
    "NNCHN": "resident_id",
}
KINDS = [
    ("transplant", "transplant"),
    ("resection", "resection"),
    ("hepatectomy", "resection"),
    ("radiofrequency", "rfa"),
    ("rfa", "rfa"),
    ("microwave", "mwa"),
    ("cryo", "cryoablation"),
    ("haic", "haic"),
    ("tace", "tace"),
    ("chemoembolization", "tace"),
    ("sirt", "sirt"),
    ("radioemboli", "sirt"),
    ("radiotherapy", "radiotherapy"),
    ("sbrt", "radiotherapy"),
]
CURATIVE = {"resection", "transplant", "rfa", "mwa", "cryoablation"}


class FhirError(ValueError):
    pass


def _ref_id(reference: Any) -> str:
    ref = getattr(reference, "reference", None) or ""
    return ref.split("/")[-1]


def _day(value: Any) -> str:
    """A FHIR date / dateTime as the day it names: fhir.resources gives a ``datetime``, a
    ``date`` (date-only values) or the text of a partial date (``1960``, ``1960-05``),
    which the row checks then report instead of the import failing on it."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _category(morphology: str, topography: str) -> str:
    cat = morphology_category(morphology)
    if cat:
        return cat
    for candidate in ("icca", "gbc", "dcca", "pcca", "hcc"):
        if topography in category_topographies(candidate):
            return candidate
    return ""


def bundle_rows(content: bytes) -> tuple[list[tuple[str, dict[str, str]]], list[str]]:
    """(domain, row) in dependency order (patients, tumours, treatments), and the
    resources of other types, which are not imported."""
    try:
        bundle = Bundle.model_validate(json.loads(content.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FhirError(_("The file is not a JSON FHIR bundle.")) from exc
    except PydanticError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise FhirError(
            _("Not a valid FHIR R4 bundle: %(where)s %(msg)s")
            % {"where": where, "msg": first.get("msg", "")}
        ) from exc
    patients, tumours, treatments, skipped = [], [], [], []
    for index, entry in enumerate(bundle.entry or [], start=1):
        res = entry.resource
        kind = res.get_resource_type()
        label = f"{kind}/{res.id or index}"
        if kind == "Patient":
            doc_type, number = "", ""
            for ident in res.identifier or []:
                codes = [c.code for c in (ident.type.coding if ident.type else []) or []]
                for code in codes:
                    if code in DOC_TYPES:
                        doc_type, number = DOC_TYPES[code], ident.value or ""
            name = ""
            if res.name:
                n = res.name[0]
                name = n.text or " ".join([*(n.given or []), n.family or ""]).strip()
            country = (res.address[0].country if res.address else None) or "CN"
            patients.append(
                (
                    "patients",
                    {
                        "source_id": res.id or "",
                        "full_name": name,
                        "id_document_type": doc_type,
                        "id_document_number": number,
                        "sex": {"male": "M", "female": "F"}.get(res.gender or "", ""),
                        "birth_date": _day(res.birthDate),
                        "nationality": country,
                        "is_expatriate": "yes" if country != "CN" else "no",
                    },
                )
            )
        elif kind == "Condition":
            morphology = next(
                (
                    c.code
                    for c in (res.code.coding if res.code else []) or []
                    if c.code and "/" in c.code
                ),
                "",
            )
            topography = next(
                (
                    c.code
                    for s in res.bodySite or []
                    for c in s.coding or []
                    if c.code and c.code.startswith("C")
                ),
                "",
            )
            when = res.onsetDateTime or res.recordedDate
            tumours.append(
                (
                    "tumours",
                    {
                        "patient_source_id": _ref_id(res.subject),
                        "source_id": res.id or "",
                        "category": _category(morphology, topography),
                        "topography": topography,
                        "morphology": morphology,
                        "diagnosis_date": _day(when),
                        "basis": "histology" if res.evidence else "clinical",
                    },
                )
            )
        elif kind == "Procedure":
            text = " ".join(
                filter(
                    None,
                    [
                        res.code.text if res.code else "",
                        *[c.display or "" for c in ((res.code.coding if res.code else None) or [])],
                    ],
                )
            ).lower()
            kind_code = next((k for word, k in KINDS if word in text), "")
            start = end = ""
            if res.performedPeriod:
                start = _day(res.performedPeriod.start)
                end = _day(res.performedPeriod.end)
            elif res.performedDateTime:
                start = _day(res.performedDateTime)
            treatments.append(
                (
                    "treatments",
                    {
                        "patient_source_id": _ref_id(res.subject),
                        "source_id": res.id or "",
                        "kind": kind_code,
                        "start_date": start,
                        "end_date": end,
                        "intent": "curative" if kind_code in CURATIVE else "palliative",
                    },
                )
            )
        else:
            skipped.append(label)
    return patients + tumours + treatments, skipped
