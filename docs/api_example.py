#!/usr/bin/env python3
"""Example client of the trials API that uses nothing but ``requests``.

It registers a patient at your first trial-site, screens them, records consent, enrolls
(randomizes) them and submits their first visit that is due, printing each result:

    export HBT_API_URL=http://127.0.0.1:8000
    export HBT_API_TOKEN=hbt_...   # Account → API tokens, as a site coordinator
    python docs/api_example.py

Every POST carries an ``Idempotency-Key``: ``post`` retries a request that failed on the
network with the same key, so a flaky connection never registers, randomizes or submits
twice. The test suite imports these functions (``tests/api/test_requests_script.py``), so
what the README shows is what is tested.
"""

from __future__ import annotations

import datetime
import os
import sys
import time
import uuid
from typing import Any

import requests

#: A patient who meets every default iCCA criterion (answers by field name; values on
#: the patient record, such as the date of birth, are not sent).
EXAMPLE_ANSWERS: dict[str, Any] = {
    "histology": "icca",
    "histology_confirmed": True,
    "unresectable": True,
    "metastatic": False,
    "measurable_lesion_count": 2,
    "prior_systemic_therapy": False,
    "prior_checkpoint_inhibitor": False,
    "prior_radiotherapy": False,
    "prior_major_surgery": False,
    "prior_local_therapy": False,
    "other_malignancy": False,
    "cns_metastases": False,
    "child_pugh_class": "A",
    "ecog": 1,
    "life_expectancy_weeks": 24,
    "platelets": 150,
    "neutrophils": 3.2,
    "haemoglobin": 125,
    "bilirubin": 12,
    "bilirubin_uln": 21,
    "alt": 40,
    "alt_uln": 40,
    "ast": 35,
    "ast_uln": 40,
    "creatinine": 70,
    "creatinine_uln": 104,
}

EXAMPLE_PATIENT: dict[str, Any] = {
    "full_name": "王芳",
    "sex": "F",
    "birth_date": "1961-03-14",
    "nationality": "CN",
    "is_expatriate": False,
    "id_document_type": "resident_id",
    "id_document_number": "11010519491231002X",
    "preferred_language": "zh",
}


class ApiError(Exception):
    """A 4xx/5xx answer: ``status`` and the decoded ``body`` (field → messages on a 400)."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


class Client:
    """A tiny API client: token auth, JSON, errors as ``ApiError``, retries on 429 and
    on network errors (POSTs keep their ``Idempotency-Key`` across retries)."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30, retries: int = 3):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )
        self.timeout = timeout
        self.retries = retries

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> requests.Response:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        for attempt in range(self.retries + 1):
            try:
                response = self.session.request(
                    method, url, json=json, params=params, headers=headers, timeout=self.timeout
                )
            except requests.ConnectionError:
                if attempt == self.retries:
                    raise
                time.sleep(2**attempt)
                continue
            if response.status_code == 429 and attempt < self.retries:
                time.sleep(int(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code >= 400:
                try:
                    body = response.json()
                except ValueError:
                    body = response.text
                raise ApiError(response.status_code, body)
            return response
        raise AssertionError("unreachable")

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None).json()

    def post(self, path: str, data: dict[str, Any], *, idempotency_key: str | None = None) -> Any:
        key = idempotency_key or str(uuid.uuid4())
        return self.request("POST", path, json=data, idempotency_key=key).json()

    def get_all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every row of a paginated list (follows ``next``)."""
        rows: list[dict[str, Any]] = []
        page: dict[str, Any] | None = self.get(path, **params)
        while page is not None:
            rows.extend(page["results"])
            page = self.get(page["next"]) if page.get("next") else None
        return rows


# --- the workflow, one function per step ----------------------------------------------


def register_patient(client: Client, trial_site: int, data: dict[str, Any]) -> dict[str, Any]:
    return client.post("/api/v1/patients/", {"trial_site": trial_site, **data})


def screen(
    client: Client, patient: int, screening_date: datetime.date, answers: dict[str, Any]
) -> dict[str, Any]:
    """The screening with ``result`` and the decision on every criterion."""
    return client.post(
        f"/api/v1/patients/{patient}/screen/",
        {"screening_date": screening_date.isoformat(), "answers": answers},
    )


def consent(
    client: Client,
    patient: int,
    consent_version: int,
    consented_at: datetime.datetime,
    language: str,
    **extra: Any,
) -> dict[str, Any]:
    return client.post(
        f"/api/v1/patients/{patient}/consents/",
        {
            "consent_version": consent_version,
            "consented_at": consented_at.isoformat(),
            "language": language,
            "personal_information_consent": True,
            **extra,
        },
    )


def enroll(
    client: Client, patient: int, enrolled_on: datetime.date, *, idempotency_key: str
) -> dict[str, Any]:
    """Randomize; retried with the same key, the first allocation comes back."""
    return client.post(
        f"/api/v1/patients/{patient}/enroll/",
        {"enrolled_on": enrolled_on.isoformat()},
        idempotency_key=idempotency_key,
    )


def visits(client: Client, patient: int) -> list[dict[str, Any]]:
    return client.get_all("/api/v1/visits/", patient=patient, ordering="scheduled_date")


def submit_visit(
    client: Client,
    visit: int,
    actual_date: datetime.date,
    *,
    ecog: int | None = None,
    notes: str = "",
    reason: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "actual_date": actual_date.isoformat(),
        "vital_status": "alive",
        "ecog": ecog,
        "ae_review_done": True,
        "notes": notes,
    }
    if reason:
        data["reason"] = reason  # correcting a submitted visit
    return client.post(f"/api/v1/visits/{visit}/submit/", data)


def due_visit(rows: list[dict[str, Any]], on: datetime.date) -> dict[str, Any] | None:
    """The first planned visit whose window is open on ``on``."""
    for row in rows:
        start = row["window_start"] or row["scheduled_date"]
        end = row["window_end"] or row["scheduled_date"]
        if row["status"] == "planned" and start <= on.isoformat() <= end:
            return row
    return None


def main() -> int:
    base_url = os.environ.get("HBT_API_URL", "http://127.0.0.1:8000")
    token = os.environ.get("HBT_API_TOKEN")
    if not token:
        print("Set HBT_API_TOKEN to a personal API token (Account → API tokens).")
        return 2
    client = Client(base_url, token)
    today = datetime.date.today()
    trial_site = client.get("/api/v1/trial-sites/", status="active")["results"][0]
    versions = client.get("/api/v1/consent-versions/", trial=trial_site["trial"], language="zh")[
        "results"
    ]
    try:
        patient = register_patient(client, trial_site["id"], EXAMPLE_PATIENT)
        print("registered", patient["subject_id"])
        screening = screen(client, patient["id"], today, EXAMPLE_ANSWERS)
        print("screening", screening["result"], screening["failed_codes"])
        made = consent(
            client,
            patient["id"],
            versions[0]["id"],
            datetime.datetime.now().astimezone(),
            "zh",
        )
        print("consent", made["id"])
        enrollment = enroll(client, patient["id"], today, idempotency_key=str(uuid.uuid4()))
        arm = enrollment["arm_code"] or "(blinded)"
        print("enrolled", enrollment["randomization_number"], enrollment["stratum"], arm)
        visit = due_visit(visits(client, patient["id"]), today)
        if visit is not None:
            done = submit_visit(client, visit["id"], today, ecog=1, notes="Seen in clinic.")
            print("visit", done["definition_code"], done["status"])
    except ApiError as exc:
        print(f"refused ({exc.status}):", exc.body)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
