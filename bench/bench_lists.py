"""List benchmark: an API page of tumour assessments against the raw SQL of that page.

Seeds ``--patients`` patients with a baseline and ``--followups`` follow-up scans each
(the dashboard benchmark's seeder: 10,000 patients = 100,000 assessments and 180,000
lesion measurements; ``--patients 100000`` = 1 million assessments) into a SEPARATE,
throw-away database (SQLite temporary file, or a database ``bench_lists`` next to
``DATABASE_URL``'s PostgreSQL), then times, for the first page, a page in the middle and
the last page of ``/api/v1/tumor-assessments/`` (keyset pagination, 50 rows):

- the API answer through Django's test client, as the lead investigator (trial-wide
  scope) and as one site's coordinator (site scope): token, scope, the page, the
  measurements of the page, serialisation;
- the baseline: the same rows read with raw SQL (the scope join, the keyset condition,
  ``LIMIT 50``; then the page's measurements with their lesion codes) and ``json.dumps``.

Goal: every page <= 3x its baseline (``list_...`` lines).

Usage:  python bench/bench_lists.py [--patients 10000] [--followups 9] [--keep]
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import sys
from pathlib import Path
from typing import Any

import common  # bench/common.py
from ratios import Goals, median_seconds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCH_DB = "bench_lists"
PAGE = 50


def cursor(values: list[Any]) -> str:
    """The API's cursor for "after this key" (``api.pagination.KeysetPagination``)."""
    raw = json.dumps({"v": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--sites", type=int, default=20)
    parser.add_argument("--followups", type=int, default=9)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--profile", help="write a pyinstrument profile of one API page")
    args = parser.parse_args()
    if args.patients < 100:
        parser.error("--patients must be >= 100")

    url, cleanup, label = common.prepare_database(BENCH_DB)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("TESTING", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    import time

    from bench_dashboard import Seeder
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from api.services import api_token_create
    from sites.models import Membership
    from sites.roles import Role

    goals = Goals()
    try:
        common.create_schema()
        t0 = time.perf_counter()
        seeder = Seeder(sites=args.sites, followups=args.followups, seed=args.seed)
        sites = seeder.sites()
        trial, arms, trial_sites = seeder.trial("LIST", sites, args.patients)
        seeder.patients(trial, arms, trial_sites, args.patients)
        if connection.vendor == "postgresql":
            with connection.cursor() as c:
                c.execute("ANALYZE")
        print(f"Database: {label}")
        print(
            f"Seeded {args.patients:,} patients, {seeder.counts['assessments']:,} tumour "
            f"assessments, {seeder.counts['measurements']:,} measurements in "
            f"{time.perf_counter() - t0:.0f} s"
        )
        User = get_user_model()
        lead = User.objects.create_user("bench_lead")
        Membership.objects.create(user=lead, role=Role.LEAD_INVESTIGATOR, trial=trial)
        crc = User.objects.create_user("bench_crc")
        site_scope = trial_sites[0]
        Membership.objects.create(
            user=crc, role=Role.COORDINATOR, trial=trial, trial_site=site_scope
        )

        def scoped_sql(where_scope: str) -> str:
            return (
                "SELECT a.id, a.patient_id, p.subject_id, p.trial_site_id, s.code, a.visit_id, "
                "a.is_baseline, a.assessment_date, a.method, a.non_target_status, "
                "a.new_lesions, a.new_lesions_increased, a.recorded_response "
                "FROM patients_tumorassessment a "
                "JOIN patients_patient p ON p.id = a.patient_id "
                "JOIN trial_sites_trialsite ts ON ts.id = p.trial_site_id "
                "JOIN trial_sites_site s ON s.id = ts.site_id "
                f"WHERE {where_scope} AND (a.assessment_date > %s OR "
                "(a.assessment_date = %s AND a.id > %s)) AND a.assessment_date >= %s "
                "ORDER BY a.assessment_date, a.id LIMIT %s"
            )

        measurement_sql = (
            "SELECT m.assessment_id, m.id, m.lesion_id, l.code, m.diameter_mm, m.state "
            "FROM patients_lesionmeasurement m JOIN patients_lesion l ON l.id = m.lesion_id "
            "WHERE m.assessment_id IN ({})"
        )

        def raw_page(where_scope: str, scope_param: int, key: tuple[Any, int]) -> int:
            with connection.cursor() as c:
                c.execute(
                    scoped_sql(where_scope), [scope_param, key[0], key[0], key[1], key[0], PAGE]
                )
                rows = c.fetchall()
                ids = [r[0] for r in rows]
                c.execute(measurement_sql.format(",".join(["%s"] * len(ids))), ids)
                measurements = c.fetchall()
            json.dumps({"results": rows, "measurements": measurements}, default=str)
            return len(rows)

        scopes = {
            "lead": (lead, "ts.trial_id = %s", trial.pk),
            "site": (crc, "p.trial_site_id = %s", site_scope.pk),
        }
        for scope_name, (user, where_scope, scope_param) in scopes.items():
            _token, raw = api_token_create(user=user, name="bench")
            client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {raw}")
            with connection.cursor() as c:
                c.execute(
                    "SELECT a.assessment_date, a.id FROM patients_tumorassessment a "
                    "JOIN patients_patient p ON p.id = a.patient_id "
                    "JOIN trial_sites_trialsite ts ON ts.id = p.trial_site_id "
                    f"WHERE {where_scope} ORDER BY a.assessment_date, a.id",
                    [scope_param],
                )
                keys = c.fetchall()
            positions = {
                "first": None,
                "middle": keys[len(keys) // 2],
                "last": keys[max(0, len(keys) - PAGE - 1)],
            }
            for where, key in positions.items():
                query = f"?page_size={PAGE}"
                start_key = (datetime.date(1900, 1, 1), 0) if key is None else key
                if key is not None:
                    day = key[0] if isinstance(key[0], datetime.date) else key[0]
                    query += f"&cursor={cursor([str(day), key[1]])}"

                def api_page(q: str = query, client: Any = client) -> None:
                    response = client.get(f"/api/v1/tumor-assessments/{q}")
                    assert response.status_code == 200, response.content[:500]
                    assert 0 < len(response.json()["results"]) <= PAGE

                api_s = median_seconds(api_page, repeat=7)
                if args.profile and scope_name == "lead" and where == "middle":
                    from pyinstrument import Profiler

                    profiler = Profiler(interval=0.0002)
                    profiler.start()
                    api_page()
                    profiler.stop()
                    Path(args.profile).write_text(profiler.output_text(unicode=True))
                raw_s = median_seconds(
                    lambda k=start_key, w=where_scope, p=scope_param: raw_page(w, p, k), repeat=7
                )
                goals.ratio(
                    f"list_tumor_assessments_{scope_name}_{where}_page ({len(keys):,} rows)",
                    api_s,
                    raw_s,
                    limit=3,
                )
        return 1 if goals.failed() else 0
    finally:
        if args.keep:
            print(f"Kept the benchmark database: {url}")
        else:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
