# ruff: noqa: S608 - the SQL names model tables only; there are no values in it
"""The flattened search table (``RegistryFacts``): one row per registry record.

``facts_refresh()`` rebuilds it in one transaction (readers see the previous version
until it commits) from the registry's tables: the earliest diagnosis and the category of
the earliest tumour, the first treatment and genomic test, the latest contact, the
earliest death, the first recurrence and progression, and the first three treatments in
order. It records the highest history id of every table it read (``marks``).
``facts_current()`` compares them with the registry's history now: any write since
(through the services, which always write history) makes the table stale, and the
characterisation then reads the live tables (``research.characterise``: the same
statements over the registry, giving the same figures, tested) while
``research.tasks.refresh_registry_facts`` is queued to rebuild it. The task also runs
nightly (``CELERY_BEAT_SCHEDULE``).
"""

from __future__ import annotations

import time
from typing import Any

from django.db import connections, transaction
from django.db.models import Model
from django.utils import timezone

from registry.models import (
    FollowUp,
    GenomicTest,
    RegistryPatient,
    StagingRecord,
    Treatment,
    Tumour,
)

from .models import RegistryFacts, RegistryFactsState, RegistryStage
from .sql import without_jit

# the registry tables the facts are computed from
SOURCES: tuple[type[Model], ...] = (
    RegistryPatient,
    Tumour,
    StagingRecord,
    Treatment,
    GenomicTest,
    FollowUp,
)

# One record's facts from the registry's tables; ``{where}`` restricts each table to the
# records of a cohort (``JOIN cohort``) or is empty (every record).
FACTS_SQL = """
tum AS (
  SELECT patient_id, category, first_dx FROM (
    SELECT t.patient_id, t.category,
           MIN(t.diagnosis_date) OVER (PARTITION BY t.patient_id) AS first_dx,
           ROW_NUMBER() OVER (
             PARTITION BY t.patient_id
             ORDER BY CASE WHEN t.category = '' THEN 1 ELSE 0 END, t.diagnosis_date, t.id
           ) AS rn
    FROM registry_tumour t {where_tumour}
  ) ranked WHERE rn = 1
),
first_treatment AS (
  SELECT tr.patient_id, MIN(tr.start_date) AS day FROM registry_treatment tr {where_treatment}
  GROUP BY tr.patient_id
),
first_test AS (
  SELECT g.patient_id, MIN(g.test_date) AS day FROM registry_genomictest g {where_test}
  GROUP BY g.patient_id
),
fu AS (
  SELECT f.patient_id, MAX(f.contact_date) AS last_contact, MIN(f.death_date) AS death,
         MIN(CASE WHEN f.event = 'recurrence' THEN f.event_date END) AS recurrence,
         MIN(CASE WHEN f.event = 'progression' THEN f.event_date END) AS progression
  FROM registry_followup f {where_followup} GROUP BY f.patient_id
),
ordered AS (
  SELECT tr.patient_id, tr."kind", tr.start_date, tr.id,
         LAG(tr."kind") OVER (PARTITION BY tr.patient_id ORDER BY tr.start_date, tr.id) AS prev
  FROM registry_treatment tr {where_treatment}
),
kept AS (
  SELECT patient_id, "kind",
         ROW_NUMBER() OVER (PARTITION BY patient_id ORDER BY start_date, id) AS n
  FROM ordered WHERE prev IS NULL OR prev <> "kind"
),
seqs AS (
  SELECT patient_id,
         MAX(CASE WHEN n = 1 THEN "kind" END) AS treatment_1,
         MAX(CASE WHEN n = 2 THEN "kind" END) AS treatment_2,
         MAX(CASE WHEN n = 3 THEN "kind" END) AS treatment_3
  FROM kept WHERE n <= 3 GROUP BY patient_id
)"""

# The latest stage of each tumour and system (by date, then id) and its recorded value
# (the override when there is one), with ``{where}`` as above.
LATEST_STAGE_SQL = """
latest AS (
  SELECT t.patient_id, s."system",
         CASE WHEN s.override_value <> '' THEN s.override_value ELSE s.computed_value END
           AS value,
         ROW_NUMBER() OVER (
           PARTITION BY s.tumour_id, s."system" ORDER BY s.staged_on DESC, s.id DESC
         ) AS rn
  FROM registry_stagingrecord s JOIN registry_tumour t ON t.id = s.tumour_id {where_tumour}
)"""

COLUMNS = (
    "patient_id",
    "first_dx",
    "category",
    "first_treatment",
    "first_test",
    "last_contact",
    "death",
    "recurrence",
    "progression",
    "treatment_1",
    "treatment_2",
    "treatment_3",
)


def facts_sql(*, cohort: bool) -> str:
    """The CTEs of ``FACTS_SQL``, restricted to a CTE ``cohort (id)`` or not."""
    joins = {
        "where_tumour": "JOIN cohort c ON c.id = t.patient_id",
        "where_treatment": "JOIN cohort c ON c.id = tr.patient_id",
        "where_test": "JOIN cohort c ON c.id = g.patient_id",
        "where_followup": "JOIN cohort c ON c.id = f.patient_id",
    }
    return FACTS_SQL.format(**{k: v if cohort else "" for k, v in joins.items()})


def latest_stage_sql(*, cohort: bool) -> str:
    """The CTE ``latest`` of ``LATEST_STAGE_SQL``, restricted to a CTE ``cohort (id)`` or
    not; its rows with ``rn = 1 AND value <> ''`` are the stages counted."""
    where = "JOIN cohort c ON c.id = t.patient_id" if cohort else ""
    return LATEST_STAGE_SQL.format(where_tumour=where)


def _marks(using: str) -> dict[str, int | None]:
    tables = [m.history.model._meta.db_table for m in SOURCES]  # type: ignore[attr-defined]
    select = ", ".join(f"(SELECT MAX(history_id) FROM {t})" for t in tables)
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT {select}")
        row = cursor.fetchone()
    return dict(zip(tables, row, strict=True))


def facts_current(using: str = "default") -> bool:
    """True when the search table was rebuilt after the registry's last write."""
    state = RegistryFactsState.objects.using(using).order_by("-pk").first()
    return state is not None and state.marks == _marks(using)


def facts_refresh(using: str = "default") -> RegistryFactsState:
    """Rebuild the search table from the registry (one transaction)."""
    start = time.perf_counter()
    table = RegistryFacts._meta.db_table
    columns = ", ".join(COLUMNS)
    with transaction.atomic(using=using), without_jit(using):
        marks = _marks(using)
        with connections[using].cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")
            cursor.execute(
                f"""INSERT INTO {table} ({columns})
WITH {facts_sql(cohort=False)}
SELECT p.id, tum.first_dx, COALESCE(tum.category, ''), first_treatment.day, first_test.day,
       fu.last_contact, fu.death, fu.recurrence, fu.progression,
       seqs.treatment_1, seqs.treatment_2, seqs.treatment_3
FROM registry_registrypatient p
LEFT JOIN tum ON tum.patient_id = p.id
LEFT JOIN first_treatment ON first_treatment.patient_id = p.id
LEFT JOIN first_test ON first_test.patient_id = p.id
LEFT JOIN fu ON fu.patient_id = p.id
LEFT JOIN seqs ON seqs.patient_id = p.id"""
            )
            stages = RegistryStage._meta.db_table
            cursor.execute(f"DELETE FROM {stages}")
            cursor.execute(
                f"""INSERT INTO {stages} (patient_id, "system", value)
WITH {latest_stage_sql(cohort=False)}
SELECT patient_id, "system", value FROM latest WHERE rn = 1 AND value <> ''"""
            )
        RegistryFactsState.objects.using(using).all().delete()
        state = RegistryFactsState.objects.using(using).create(
            refreshed_at=timezone.now(), marks=marks, seconds=time.perf_counter() - start
        )
    if connections[using].vendor == "postgresql":
        with connections[using].cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
            cursor.execute(f"ANALYZE {RegistryStage._meta.db_table}")
    return state


def facts_status(using: str = "default") -> dict[str, Any]:
    """For the README / operators: when it was refreshed, how long it took, is it current."""
    state = RegistryFactsState.objects.using(using).order_by("-pk").first()
    return {
        "refreshed_at": state.refreshed_at if state else None,
        "seconds": state.seconds if state else None,
        "current": facts_current(using),
        "rows": RegistryFacts.objects.using(using).count(),
    }
