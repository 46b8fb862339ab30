# ruff: noqa: S608 - the SQL is the compiled ORM cohort and constants; values are parameters
"""Characterisation and survival of a cohort (or of groups within it).

Why one module: every table is a statement over the same temporary cohort table and the
same search-table-or-live choice; split, each part would have to repeat that choice.

Tables of age at diagnosis, sex, aetiology, cancer, stage and histology; an alteration
frequency matrix (genes × patients, OncoPrint style: aggregated to counts per gene and
alteration kind for research roles); treatment sequences (the first three treatments in
order, counted); Kaplan-Meier OS / RFS / PFS from a chosen anchor with log-rank and the
Cox hazard ratio between two groups, by the trials' statistics engine
(``domain.statistics.kaplan_meier`` / ``logrank``, ``domain.survival``). Every count
below the threshold is shown as ``< 5``; curves stop where fewer than the threshold remain
at risk.

The counting is done by the database (README "Registry research", scale): each table is
one grouped SQL statement over the cohort (window functions pick the earliest diagnosis,
the latest stage per tumour and system, the first three treatments and one record per
person), so what travels to Python is a few dozen counts, not the cohort's rows; survival
reads one row per person (the anchor, last contact and death merged over the person's
records, first recurrence / progression) and runs ``domain.outcomes`` on it. The SQL is
portable (PostgreSQL and SQLite: window functions, no ``DISTINCT ON``). Counts that tie
are listed by key, so the order of a table no longer depends on the order the rows came
in. While the search table (``research.facts``) is current, the per-record facts, the
latest stages and the treatment sequences are read from it instead of being aggregated
from the registry's tables; otherwise the same statements run on the live tables.
``tests/research/test_characterise_sql.py`` pins every table, curve and test statistic,
on both paths, to the former Python computation over rows.
"""

from __future__ import annotations

import datetime
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from domain.disclosure import shown_or_hidden
from domain.outcomes import outcomes
from domain.statistics import kaplan_meier, logrank
from domain.survival import cox_hazard_ratio
from registry.models import (
    CopyNumberChange,
    FollowUp,
    Fusion,
    GenomicTest,
    RegistryPatient,
    Variant,
)

from .facts import facts_current, facts_sql, latest_stage_sql
from .sql import without_jit

ANCHORS = ("diagnosis", "treatment", "test")
ENDPOINTS = ("os", "rfs", "pfs")
AGE_BANDS = ((0, 40), (40, 50), (50, 60), (60, 70), (70, 80), (80, 200))


def _band(age: int) -> str:
    for lo, hi in AGE_BANDS:
        if lo <= age < hi:
            return f"<{hi}" if lo == 0 else (f"≥{lo}" if hi == 200 else f"{lo}-{hi - 1}")
    return "?"


def _most_common(counter: Counter) -> list[str]:
    """Keys by count, largest first; ties by key (deterministic whatever the row order)."""
    return [k for k, _n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]


def _table(counter: Counter, threshold: int, order: list[str] | None = None) -> list[dict]:
    keys = order if order is not None else _most_common(counter)
    return [
        {"key": k, "display": shown_or_hidden(counter.get(k, 0), threshold)}
        for k in keys
        if counter.get(k, 0) or order is not None
    ]


# --- SQL over the cohort ------------------------------------------------------------------


_FIELDS = ("pk", "national_pseudonym", "sex", "birth_date", *RegistryPatient.RISK_FACTORS)
_COLUMNS = dict(
    zip(_FIELDS, ("id", "np", "sex", "birth_date", *RegistryPatient.RISK_FACTORS), strict=True)
)


class _Source:
    """Where a statement reads the cohort's records: the compiled ORM query (the criteria's
    ``EXISTS`` filters, evaluated by each statement), or the temporary table the
    characterisation copies them into once (``_materialised``)."""

    def __init__(
        self, patients: QuerySet[RegistryPatient], table: str | None = None, *, facts: bool = False
    ) -> None:
        self.patients = patients
        self.db = patients.db
        self.table = table
        self.facts = facts  # read the search table (research.facts): it is current

    def select(self, *fields: str) -> tuple[str, list] | None:
        """The cohort's SELECT of ``fields`` (a CTE body), or None when it is empty by
        construction (``.none()``)."""
        if self.table is not None:
            return f"SELECT {', '.join(_COLUMNS[f] for f in fields)} FROM {self.table}", []
        try:
            sql, params = self.patients.order_by().values_list(*fields).query.sql_with_params()
        except EmptyResultSet:
            return None
        return sql, list(params)


Cohortish = QuerySet[RegistryPatient] | _Source


def _source(patients: Cohortish) -> _Source:
    return patients if isinstance(patients, _Source) else _Source(patients)


def _cohort_sql(patients: Cohortish, *fields: str) -> tuple[str, list] | None:
    return _source(patients).select(*fields)


def _run(patients: Cohortish, sql: str, params: Sequence[Any]) -> list[tuple]:
    """Run one statement on the cohort's database; on PostgreSQL without JIT (see
    ``research.sql``)."""
    db = _source(patients).db
    with without_jit(db), connections[db].cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


@contextmanager
def _materialised(patients: QuerySet[RegistryPatient], *, facts: bool) -> Iterator[_Source]:
    """The cohort's records (id, pseudonym, sex, birth date, risk factors) copied once into
    a temporary table for the statements of one characterisation, instead of each of
    them evaluating the criteria again (at 500,000 patients the iCCA cohort's semi-join
    costs about as much as a statement's own work). Dropped at the end."""
    cohort = _cohort_sql(patients, *_FIELDS)
    if cohort is None:
        yield _Source(patients, facts=facts)
        return
    sql, params = cohort
    db = patients.db
    table = f"research_cohort_{uuid.uuid4().hex[:16]}"
    columns = ", ".join(_COLUMNS[f] for f in _FIELDS)
    with without_jit(db), connections[db].cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {table} AS WITH c ({columns}) AS ({sql}) SELECT * FROM c",
            params,
        )
        if connections[db].vendor == "postgresql":
            cursor.execute(f"ANALYZE {table}")  # row count and pseudonyms for the planner
        yield _Source(patients, table, facts=facts)
        # on an error the transaction (or savepoint) rolls back, and the CREATE with it
        cursor.execute(f"DROP TABLE {table}")


def _days(vendor: str, later: str, earlier: str) -> str:
    """Whole days from ``earlier`` to ``later`` (two date columns) in SQL."""
    if vendor == "sqlite":
        return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"
    return f"({later} - {earlier})"


def _as_date(value: Any) -> datetime.date | None:
    """A date from a raw cursor (SQLite gives ISO text, PostgreSQL a date)."""
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value)[:10])


# The earliest diagnosis of each record and the category of its earliest tumour (the
# first non-empty one in (date, id) order): from the registry (``facts_sql``, restricted to
# the cohort) or from the search table; then one record per person: the one with the
# earliest diagnosis (records without a tumour last), ties by id. The CTE ``cohort``
# selects (id, national pseudonym, ...) of the cohort's records.
_RECORDS = """
records AS (
  SELECT c.*, t.first_dx, COALESCE(t.category, '') AS category,
         ROW_NUMBER() OVER (
           PARTITION BY c.np
           ORDER BY CASE WHEN t.first_dx IS NULL THEN 1 ELSE 0 END, t.first_dx, c.id
         ) AS person_rn
  FROM cohort c LEFT JOIN tum t ON t.patient_id = c.id
)"""


def _records(facts: bool) -> str:
    if facts:  # one join: the search table has a row for every record
        return _RECORDS.replace("LEFT JOIN tum t", "LEFT JOIN research_registryfacts t")
    live = facts_sql(cohort=True)
    tum = live[: live.index("first_treatment AS (")].rstrip().rstrip(",")
    return f"{tum},{_RECORDS}"


def _person_counts(patients: Cohortish) -> dict[str, Counter]:
    """Persons, age band at diagnosis, sex, aetiology and cancer of the persons (one
    record per person, see ``_RECORDS``), counted in one statement."""
    risk = RegistryPatient.RISK_FACTORS
    cohort = _cohort_sql(patients, "pk", "national_pseudonym", "sex", "birth_date", *risk)
    counts: dict[str, Counter] = {
        k: Counter() for k in ("persons", "age", "sex", "aetiology", "cancer")
    }
    if cohort is None:
        return counts
    sql, params = cohort
    vendor = connections[patients.db].vendor
    days = _days(vendor, "first_dx", "birth_date")
    # floor(days / 365) is in [lo, hi) exactly when 365 lo <= days < 365 hi
    band_sql = "CASE WHEN " + days + " < 0 THEN %s"
    band_params: list[Any] = [_band(-1)]
    for lo, hi in AGE_BANDS:
        band_sql += f" WHEN {days} < {365 * hi} THEN %s"
        band_params.append(_band(lo))
    band_sql += " ELSE %s END"
    band_params.append(_band(-1))
    aetiology = " UNION ALL ".join(
        f"SELECT 'aetiology', '{f}', SUM(CASE WHEN {f} THEN 1 ELSE 0 END) FROM people" for f in risk
    )
    statement = f"""
WITH cohort (id, np, sex, birth_date, {", ".join(risk)}) AS ({sql}),
{_records(_source(patients).facts)},
people AS (SELECT * FROM records WHERE person_rn = 1)
SELECT 'persons', '', COUNT(*) FROM people
UNION ALL
SELECT 'age', band, COUNT(*) FROM (
  SELECT {band_sql} AS band FROM people WHERE first_dx IS NOT NULL
) ages GROUP BY band
UNION ALL SELECT 'sex', sex, COUNT(*) FROM people GROUP BY sex
UNION ALL SELECT 'cancer', category, COUNT(*) FROM people WHERE category <> '' GROUP BY category
UNION ALL {aetiology}
"""
    for table, key, n in _run(patients, statement, [*params, *band_params]):
        if n:
            counts[table][key] += int(n)
    return counts


def _stage_counts(patients: Cohortish) -> list[tuple[str, str, int]]:
    """(system, recorded value, patients) with the latest stage per tumour and system (by
    date, then id); the recorded value is the override when there is one."""
    cohort = _cohort_sql(patients, "pk")
    if cohort is None:
        return []
    sql, params = cohort
    if _source(patients).facts:
        statement = f"""
WITH cohort (id) AS ({sql})
SELECT s."system", s.value, COUNT(DISTINCT s.patient_id)
FROM research_registrystage s JOIN cohort c ON c.id = s.patient_id
GROUP BY s."system", s.value
"""
    else:
        statement = f"""
WITH cohort (id) AS ({sql}),
{latest_stage_sql(cohort=True)}
SELECT "system", value, COUNT(DISTINCT patient_id) FROM latest
WHERE rn = 1 AND value <> '' GROUP BY "system", value
"""
    return [(system, value, int(n)) for system, value, n in _run(patients, statement, params)]


def _histology_counts(patients: Cohortish) -> Counter:
    """Patients per histologic type of their pathology reports."""
    cohort = _cohort_sql(patients, "pk")
    if cohort is None:
        return Counter()
    sql, params = cohort
    statement = f"""
WITH cohort (id) AS ({sql})
SELECT p.histologic_type, COUNT(DISTINCT t.patient_id)
FROM registry_pathologyreport p JOIN registry_tumour t ON t.id = p.tumour_id
JOIN cohort c ON c.id = t.patient_id
GROUP BY p.histologic_type
"""
    return Counter({key: int(n) for key, n in _run(patients, statement, params)})


def _distribution(
    patients: Cohortish, counts: dict[str, Counter], threshold: int
) -> dict[str, Any]:
    stages: dict[str, Counter] = {}
    for system, value, n in _stage_counts(patients):
        stages.setdefault(system, Counter())[value] += n
    histology = _histology_counts(patients)
    return {
        "age_at_diagnosis": _table(counts["age"], threshold, [_band(lo) for lo, _hi in AGE_BANDS]),
        "sex": _table(counts["sex"], threshold, ["F", "M"]),
        "aetiology": _table(counts["aetiology"], threshold, list(RegistryPatient.RISK_FACTORS)),
        "cancer": _table(counts["cancer"], threshold),
        "stage": {
            system: _table(counter, threshold, sorted(counter))
            for system, counter in sorted(stages.items())
        },
        "histology": _table(histology, threshold),
    }


# --- alterations and treatments -----------------------------------------------------------

ALTERATION_KINDS = ["mutation", "fusion", *CopyNumberChange.Change.values]


def _matrix(
    altered: dict[str, int], by_kind: dict[tuple[str, str], int], tested: int, threshold: int
) -> dict[str, Any]:
    genes = _most_common(Counter(altered))
    return {
        "tested": shown_or_hidden(tested, threshold),
        "kinds": ALTERATION_KINDS,
        "genes": [
            {
                "gene": g,
                "altered": shown_or_hidden(altered[g], threshold),
                "by_kind": {
                    k: shown_or_hidden(by_kind.get((g, k), 0), threshold) for k in ALTERATION_KINDS
                },
            }
            for g in genes
        ],
    }


def _alteration_counts(
    patients: Cohortish,
) -> tuple[dict[str, int], dict[tuple[str, str], int], int]:
    """(patients altered per gene, per gene and kind, patients tested), in one statement.
    Genes are compared in upper case (HGNC symbols are ASCII)."""
    cohort = _cohort_sql(patients, "pk")
    if cohort is None:
        return {}, {}, 0
    sql, params = cohort
    statement = f"""
WITH cohort (id) AS ({sql}),
tests AS (SELECT g.id, g.patient_id FROM registry_genomictest g
          JOIN cohort c ON c.id = g.patient_id),
alts AS (
  SELECT UPPER(v.gene) AS gene, 'mutation' AS kind, t.patient_id AS pid
    FROM registry_variant v JOIN tests t ON t.id = v.test_id
  UNION ALL SELECT UPPER(f.gene_5), 'fusion', t.patient_id
    FROM registry_fusion f JOIN tests t ON t.id = f.test_id
  UNION ALL SELECT UPPER(f.gene_3), 'fusion', t.patient_id
    FROM registry_fusion f JOIN tests t ON t.id = f.test_id
  UNION ALL SELECT UPPER(c.gene), c."change", t.patient_id
    FROM registry_copynumberchange c JOIN tests t ON t.id = c.test_id
)
SELECT 'kind', gene, kind, COUNT(DISTINCT pid) FROM alts GROUP BY gene, kind
UNION ALL SELECT 'gene', gene, '', COUNT(DISTINCT pid) FROM alts GROUP BY gene
UNION ALL SELECT 'tested', '', '', COUNT(DISTINCT patient_id) FROM tests
"""
    altered: dict[str, int] = {}
    by_kind: dict[tuple[str, str], int] = {}
    tested = 0
    for tag, gene, kind, n in _run(patients, statement, params):
        if tag == "kind":
            by_kind[(gene, kind)] = int(n)
        elif tag == "gene":
            altered[gene] = int(n)
        else:
            tested = int(n)
    return altered, by_kind, tested


def alteration_matrix(
    patients: QuerySet[RegistryPatient], threshold: int, *, rows: bool
) -> dict[str, Any]:
    """Genes × kinds of alteration. ``rows`` (own-center staff): each patient's alterations
    too (the OncoPrint grid, read row by row: one center's records); otherwise counts of
    patients per gene and kind only, counted by the database."""
    if not rows:
        return _matrix(*_alteration_counts(patients), threshold)
    ids = patients.order_by().values("pk")
    per_gene: dict[str, dict[str, set[int]]] = {}

    def add(gene: str, kind: str, pid: int) -> None:
        per_gene.setdefault(gene.upper(), {}).setdefault(kind, set()).add(pid)

    for gene, pid in Variant.objects.filter(test__patient_id__in=ids).values_list(
        "gene", "test__patient_id"
    ):
        add(gene, "mutation", pid)
    for g5, g3, pid in Fusion.objects.filter(test__patient_id__in=ids).values_list(
        "gene_5", "gene_3", "test__patient_id"
    ):
        add(g5, "fusion", pid)
        add(g3, "fusion", pid)
    for gene, change, pid in CopyNumberChange.objects.filter(test__patient_id__in=ids).values_list(
        "gene", "change", "test__patient_id"
    ):
        add(gene, change, pid)
    tested = GenomicTest.objects.filter(patient_id__in=ids).values("patient_id").distinct().count()
    altered = {g: len(set().union(*kinds.values())) for g, kinds in per_gene.items()}
    by_kind = {(g, k): len(pids) for g, kinds in per_gene.items() for k, pids in kinds.items()}
    result = _matrix(altered, by_kind, tested, threshold)
    grid: dict[int, dict[str, list[str]]] = {}
    for entry in result["genes"]:
        for kind, pids in per_gene[entry["gene"]].items():
            for pid in pids:
                grid.setdefault(pid, {}).setdefault(entry["gene"], []).append(kind)
    numbers = dict(patients.order_by().values_list("pk", "record_number"))
    result["patients"] = [
        {"record_number": numbers[pid], "alterations": alts} for pid, alts in sorted(grid.items())
    ]
    return result


def treatment_sequences(patients: Cohortish, threshold: int) -> list[dict]:
    """The first three treatments of each patient in order ("resection → systemic"), a
    treatment of the same kind as the one before it counted once; the 15 most frequent."""
    cohort = _cohort_sql(patients, "pk")
    if cohort is None:
        return []
    sql, params = cohort
    if _source(patients).facts:
        statement = f"""
WITH cohort (id) AS ({sql})
SELECT f.treatment_1, f.treatment_2, f.treatment_3, COUNT(*)
FROM research_registryfacts f JOIN cohort c ON c.id = f.patient_id
WHERE f.treatment_1 IS NOT NULL
GROUP BY f.treatment_1, f.treatment_2, f.treatment_3
"""
    else:
        statement = f"""
WITH cohort (id) AS ({sql}),
ordered AS (
  SELECT t.patient_id, t."kind", t.start_date, t.id,
         LAG(t."kind") OVER (PARTITION BY t.patient_id ORDER BY t.start_date, t.id) AS prev
  FROM registry_treatment t JOIN cohort c ON c.id = t.patient_id
),
kept AS (
  SELECT patient_id, "kind",
         ROW_NUMBER() OVER (PARTITION BY patient_id ORDER BY start_date, id) AS n
  FROM ordered WHERE prev IS NULL OR prev <> "kind"
),
seqs AS (
  SELECT MAX(CASE WHEN n = 1 THEN "kind" END) AS k1,
         MAX(CASE WHEN n = 2 THEN "kind" END) AS k2,
         MAX(CASE WHEN n = 3 THEN "kind" END) AS k3
  FROM kept WHERE n <= 3 GROUP BY patient_id
)
SELECT k1, k2, k3, COUNT(*) FROM seqs GROUP BY k1, k2, k3
"""
    counter: Counter = Counter()
    for *kinds, n in _run(patients, statement, params):
        counter[" → ".join(k for k in kinds if k is not None)] += int(n)
    return [
        {"key": k, "display": shown_or_hidden(counter[k], threshold)}
        for k in _most_common(counter)[:15]
    ]


# --- the search table or the live tables ---------------------------------------------------

_REFRESH_QUEUED = "research-facts-refresh-queued"


def _use_facts(db: str) -> bool:
    """Read the search table when it is current; else the live tables, and queue its
    rebuild (once per 10 minutes; with no broker, no worker runs it: the nightly
    ``refresh_registry_facts`` or ``facts_refresh()`` does)."""
    if facts_current(db):
        return True
    if not settings.CELERY_TASK_ALWAYS_EAGER and cache.add(_REFRESH_QUEUED, True, 600):
        from .tasks import refresh_registry_facts

        transaction.on_commit(refresh_registry_facts.delay, using=db)
    return False


# --- survival -----------------------------------------------------------------------------

_ANCHOR_SQL = {
    "treatment": "SELECT patient_id, MIN(start_date) AS day FROM registry_treatment",
    "test": "SELECT patient_id, MIN(test_date) AS day FROM registry_genomictest",
}

PersonDates = tuple[
    datetime.date,
    datetime.date | None,
    datetime.date | None,
    datetime.date | None,
    datetime.date | None,
]


_FACTS_ANCHOR = {"diagnosis": "first_dx", "treatment": "first_treatment", "test": "first_test"}


def person_dates(patients: Cohortish, anchor: str) -> list[PersonDates]:
    """(anchor, last contact, death, first recurrence, first progression) of each person
    with an anchor: the record with the earliest diagnosis, with the person's latest
    contact and earliest death over all their records in the cohort."""
    cohort = _cohort_sql(patients, "pk", "national_pseudonym")
    if cohort is None:
        return []
    sql, params = cohort
    if _source(patients).facts:
        day = _FACTS_ANCHOR[anchor]
        statement = f"""
WITH cohort (id, np) AS ({sql}),
records AS (
  SELECT f.{day} AS anchor, f.recurrence, f.progression,
         MAX(f.last_contact) OVER (PARTITION BY c.np) AS last_contact,
         MIN(f.death) OVER (PARTITION BY c.np) AS death,
         ROW_NUMBER() OVER (
           PARTITION BY c.np
           ORDER BY CASE WHEN f.first_dx IS NULL THEN 1 ELSE 0 END, f.first_dx, c.id
         ) AS person_rn
  FROM cohort c LEFT JOIN research_registryfacts f ON f.patient_id = c.id
)
SELECT anchor, last_contact, death, recurrence, progression FROM records
WHERE person_rn = 1 AND anchor IS NOT NULL
"""
        return _dates(patients, _run(patients, statement, params))
    if anchor == "diagnosis":  # the first diagnosis, as read for the person's record
        anchors, anchor_day = "", "r.first_dx"
    else:
        anchors = f"""
anchors AS (
  {_ANCHOR_SQL[anchor]} JOIN cohort ON cohort.id = patient_id GROUP BY patient_id
),"""
        anchor_day = "a.day"
    joins = "LEFT JOIN anchors a ON a.patient_id = r.id" if anchors else ""
    statement = f"""
WITH cohort (id, np) AS ({sql}),
{_records(False)},{anchors}
fu AS (
  SELECT patient_id, MAX(contact_date) AS last_contact, MIN(death_date) AS death,
         MIN(CASE WHEN event = %s THEN event_date END) AS recurrence,
         MIN(CASE WHEN event = %s THEN event_date END) AS progression
  FROM registry_followup JOIN cohort ON cohort.id = registry_followup.patient_id
  GROUP BY patient_id
),
merged AS (
  SELECT r.person_rn, {anchor_day} AS anchor, fu.recurrence, fu.progression,
         MAX(fu.last_contact) OVER (PARTITION BY r.np) AS last_contact,
         MIN(fu.death) OVER (PARTITION BY r.np) AS death
  FROM records r {joins}
  LEFT JOIN fu ON fu.patient_id = r.id
)
SELECT anchor, last_contact, death, recurrence, progression FROM merged
WHERE person_rn = 1 AND anchor IS NOT NULL
"""
    return _dates(
        patients,
        _run(
            patients,
            statement,
            [*params, FollowUp.Event.RECURRENCE.value, FollowUp.Event.PROGRESSION.value],
        ),
    )


def _dates(patients: Cohortish, rows: list[tuple]) -> list[PersonDates]:
    if connections[_source(patients).db].vendor == "sqlite":  # dates come back as text
        return [tuple(_as_date(v) for v in row) for row in rows]  # type: ignore[misc]
    return rows  # type: ignore[return-value]


def time_to_event(people: list[PersonDates], endpoint: str) -> tuple[list[float], list[bool]]:
    times: list[float] = []
    events: list[bool] = []
    for start, last_contact, death, recurrence, progression in people:
        o = outcomes(
            anchor=start,
            last_contact=last_contact,
            death_date=death,
            recurrence_date=recurrence,
            progression_date=progression,
        )
        tte = getattr(o, endpoint)
        if tte.days is None:
            continue
        times.append(float(tte.days))
        events.append(tte.event)
    return times, events


def _curve(times: list[float], events: list[bool], threshold: int) -> dict[str, Any]:
    if len(times) < threshold:
        return {
            "n": shown_or_hidden(len(times), threshold),
            "steps": [],
            "median": None,
            "truncated": True,
        }
    km = kaplan_meier(times, events)
    steps = [s.to_dict() for s in km.steps if s.at_risk >= threshold]
    return {
        "n": str(km.n),
        "events": shown_or_hidden(km.events, threshold),
        "median": km.median,
        "median_ci": [km.median_ci_lower, km.median_ci_upper],
        "steps": [
            {"time": s["time"], "survival": s["survival"], "at_risk": s["at_risk"]} for s in steps
        ],
        "truncated": len(steps) < len(km.steps),
    }


def survival(
    groups: list[tuple[str, QuerySet[RegistryPatient]]],
    *,
    anchor: str,
    endpoint: str,
    threshold: int,
) -> dict[str, Any]:
    """KM per group; with two groups the log-rank test and the Cox hazard ratio (B vs A)."""
    facts = bool(groups) and _use_facts(groups[0][1].db)
    data = []
    for label, patients in groups:
        people = person_dates(_Source(patients, facts=facts), anchor)
        data.append((label, *time_to_event(people, endpoint)))
    result: dict[str, Any] = {
        "anchor": anchor,
        "endpoint": endpoint,
        "threshold": threshold,
        "curves": [{"label": label, **_curve(t, e, threshold)} for label, t, e in data],
    }
    if len(data) == 2 and all(len(t) >= threshold for _l, t, _e in data):
        (la, ta, ea), (lb, tb, eb) = data
        lr = logrank(ta, ea, tb, eb, label_a=la, label_b=lb)
        hr = cox_hazard_ratio(ta + tb, ea + eb, [0] * len(ta) + [1] * len(tb))
        result["logrank"] = {"statistic": lr.statistic, "p_value": lr.p_value}
        result["hazard_ratio"] = {
            k: hr.get(k) for k in ("hr", "ci_lower", "ci_upper", "p_value", "notes")
        }
    elif len(data) == 2:
        result["note"] = _("A group is below the threshold: no comparison is shown.")
    return result


def characterise(
    patients: QuerySet[RegistryPatient], *, threshold: int, rows: bool
) -> dict[str, Any]:
    with _materialised(patients, facts=_use_facts(patients.db)) as cohort:
        counts = _person_counts(cohort)
        return {
            "persons": shown_or_hidden(counts["persons"][""], threshold),
            "threshold": threshold,
            **_distribution(cohort, counts, threshold),
            "alterations": (
                alteration_matrix(patients, threshold, rows=True)
                if rows
                else _matrix(*_alteration_counts(cohort), threshold)
            ),
            "treatment_sequences": treatment_sequences(cohort, threshold),
        }
