"""Clinical data for the export tests, entered through the services (so every record
has its history), and small readers for the files the exports write."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

from django.conf import settings
from lxml import etree

from patients.services import patient_update
from patients.services.safety import adverse_event_record
from patients.services.tumor import assessment_record_baseline
from patients.services.visits import patient_local_today, visit_submit
from tests.patients.helpers_visits import DAY, enroll, setup_protocol, submit_data, visit

ODM_NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}


def odm_schema() -> etree.XMLSchema:
    """The ODM 1.3.2 schema shipped in the ``odmlib`` package."""
    import odmlib

    xsd = Path(odmlib.__file__).parent / "schemas" / "odm" / "1.3.2" / "ODM1-3-2.xsd"
    return etree.XMLSchema(etree.parse(str(xsd)))


def build_clinical(trial: Any, patient_a: Any, patient_b: Any, crc_a: Any, crc_b: Any) -> dict:
    """Both patients enrolled; patient A with a submitted baseline visit, an adverse
    event with causality, a baseline scan with a lesion, and a corrected phone number."""
    protocol = setup_protocol(trial)
    enroll(patient_a, crc_a, protocol["arm"])
    enroll(patient_b, crc_b, protocol["other_arm"], number="R002")
    today = patient_local_today(patient_a)
    d0 = visit(patient_a, "D0")
    visit_submit(visit=d0, acting_user=crc_a, actual_date=d0.scheduled_date, **submit_data())
    i = protocol["interventions"]
    ae = adverse_event_record(
        patient=patient_a,
        acting_user=crc_a,
        term="Hypertension",
        grade=2,
        serious=False,
        serious_criteria=[],
        onset_date=today - 10 * DAY,
        resolution_date=None,
        outcome="not_recovered",
        action_taken="reduced",
        causality={
            i["Cryoablation"].pk: "not_related",
            i["Lenvatinib"].pk: "probable",
            i["Toripalimab"].pk: "unlikely",
        },
    )
    baseline = assessment_record_baseline(
        patient=patient_a,
        acting_user=crc_a,
        assessment_date=d0.scheduled_date,
        method="CT",
        visit=d0,
        lesions=[
            {
                "organ": "liver",
                "location": "segment 4",
                "nodal": False,
                "target": True,
                "ablated": False,
                "diameter_mm": 32,
            }
        ],
    )
    patient_update(
        patient=patient_a,
        acting_user=crc_a,
        reason="Phone number copied wrongly",
        phone="13900001111",
    )
    patient_update(
        patient=patient_a,
        acting_user=crc_a,
        reason="Patient moved to the other insurer",
        insurance_provider="Ping An Health",
    )
    patient_a.refresh_from_db()
    return {"protocol": protocol, "visit": d0, "ae": ae, "baseline": baseline}


def export_file(job: Any) -> Path:
    job.refresh_from_db()
    return Path(settings.MEDIA_ROOT) / job.file_path


def read_bundle(job: Any) -> dict[str, Any]:
    """{name: list of row dicts} for CSV entries, {name: text} for others."""
    out: dict[str, Any] = {}
    with zipfile.ZipFile(export_file(job)) as zf:
        for name in zf.namelist():
            text = zf.read(name).decode("utf-8-sig")
            if name.endswith(".csv"):
                out[name] = list(csv.DictReader(io.StringIO(text)))
            else:
                out[name] = text
    return out


def bundle_text(job: Any) -> str:
    with zipfile.ZipFile(export_file(job)) as zf:
        return "\n".join(zf.read(n).decode("utf-8-sig") for n in zf.namelist())


def read_odm(job: Any) -> bytes:
    with zipfile.ZipFile(export_file(job)) as zf:
        (name,) = zf.namelist()
        assert name.endswith(".xml")
        return zf.read(name)
