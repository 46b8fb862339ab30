"""Cohort criteria are data: a JSON tree, validated here, compiled into an ORM filter.

A node is a group or a leaf::

    {"all": [node, ...]}      AND
    {"any": [node, ...]}      OR
    {"not": node}             NOT
    {"type": "<leaf type>", ...fields}

Leaf types (every registry domain; see the README for examples):

- ``diagnosis``: ``category`` [hcc, icca, …], ``topography`` [C22.1 …], ``morphology``
  [8160/3 …], ``diagnosed_from`` / ``diagnosed_to`` (ISO dates).
- ``stage``: ``system`` (AJCC8_LIVER, AJCC8_ICC, BCLC, CNLC, CHILD_PUGH, ALBI, ECOG) and
  ``values`` (the recorded stage: the override when there is one, else the engine's).
- ``pathology``: any of ``histologic_type``, ``grade``, ``icca_subtype``, ``margin``,
  ``perineural_invasion``, ``vascular_invasion``, ``pt``, ``pn``, ``specimen`` (lists of
  values) and ``nodes_positive_min`` (an integer); all given elements on one report.
- ``genomic``: ``alteration`` (variant, fusion, cnv) of ``gene``; for a variant optionally
  ``protein`` (HGVS p., a prefix such as ``p.R132`` matches every change at the codon) and
  ``classification``; for a fusion optionally ``partner`` (either side); for a cnv
  optionally ``change`` [amplification, …].
- ``biomarker``: ``marker`` tmb / pdl1_tps / pdl1_cps with ``op`` (>=, >, <=, <, =) and a
  numeric ``value``, or msi / her2 with ``values``.
- ``treatment``: optionally ``kind``, ``intent`` (lists), ``line``, and the temporal
  relations ``within_days_of_diagnosis`` (started on or after a diagnosis and at most N days
  after it) and ``before_first_systemic`` (started before any systemic therapy).
- ``vital_status``: ``status`` alive / dead.
- ``center``: ``codes`` (center codes).
- ``patient``: ``sex`` (F / M), ``risk_factors`` (hbv, hcv, … recorded as present).

``validate`` returns every problem at once, keyed by the path of the offending field
(``all.1.gene``); ``compile_q`` turns a valid tree into a ``Q`` over ``RegistryPatient``
(correlated ``EXISTS`` subqueries, one per leaf: no SQL is ever written by a user).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from decimal import Decimal
from typing import Any

from django.db.models import DateField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.utils.translation import gettext as _

from registry.models import (
    Category,
    CopyNumberChange,
    FollowUp,
    Fusion,
    GenomicTest,
    PathologyReport,
    RegistryPatient,
    StagingRecord,
    Treatment,
    Tumour,
    Variant,
)

MAX_DEPTH = 8
MAX_LEAVES = 40

PATHOLOGY_CHOICES: dict[str, list[str] | None] = {
    "histologic_type": None,  # ICD-O-3 morphology codes (free list)
    "grade": list(PathologyReport.Grade.values),
    "icca_subtype": list(PathologyReport.Subtype.values),
    "margin": list(PathologyReport.Margin.values),
    "perineural_invasion": list(PathologyReport.Invasion.values),
    "vascular_invasion": list(PathologyReport.Invasion.values),
    "pt": None,
    "pn": None,
    "specimen": list(PathologyReport.Specimen.values),
}
NUMERIC_MARKERS = {"tmb", "pdl1_tps", "pdl1_cps"}
CATEGORICAL_MARKERS = {"msi": list(GenomicTest.Msi.values), "her2": list(GenomicTest.Her2.values)}
OPS = {">=": "gte", ">": "gt", "<=": "lte", "<": "lt", "=": "exact"}

LEAF_FIELDS: dict[str, set[str]] = {
    "diagnosis": {"category", "topography", "morphology", "diagnosed_from", "diagnosed_to"},
    "stage": {"system", "values"},
    "pathology": {*PATHOLOGY_CHOICES, "nodes_positive_min"},
    "genomic": {"alteration", "gene", "protein", "classification", "partner", "change"},
    "biomarker": {"marker", "op", "value", "values"},
    "treatment": {"kind", "intent", "line", "within_days_of_diagnosis", "before_first_systemic"},
    "vital_status": {"status"},
    "center": {"codes"},
    "patient": {"sex", "risk_factors"},
}


class Errors(dict):
    """path -> [messages]"""

    def add(self, path: str, message: str) -> None:
        self.setdefault(path or "criteria", []).append(message)


def _join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def _str_list(
    errors: Errors, node: dict, key: str, path: str, allowed: list[str] | None, *, required: bool
) -> None:
    value = node.get(key)
    where = _join(path, key)
    if value is None:
        if required:
            errors.add(where, _("This field is required."))
        return
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        errors.add(where, _("Give a non-empty list of values."))
        return
    if allowed is not None:
        bad = [v for v in value if v not in allowed]
        if bad:
            errors.add(
                where,
                _("Unknown value(s): %(bad)s. Allowed: %(allowed)s.")
                % {"bad": ", ".join(bad), "allowed": ", ".join(allowed)},
            )


def _int(errors: Errors, node: dict, key: str, path: str, lo: int, hi: int) -> None:
    value = node.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        errors.add(
            _join(path, key),
            _("Give a whole number from %(lo)s to %(hi)s.") % {"lo": lo, "hi": hi},
        )


def _date(errors: Errors, node: dict, key: str, path: str) -> None:
    value = node.get(key)
    if value is None:
        return
    try:
        datetime.date.fromisoformat(str(value))
    except ValueError:
        errors.add(_join(path, key), _("Give a date as YYYY-MM-DD."))


def _validate_leaf(node: dict, path: str, errors: Errors) -> None:
    kind = node.get("type")
    if kind not in LEAF_FIELDS:
        errors.add(
            _join(path, "type"),
            _("Unknown criterion type. Allowed: %(allowed)s.")
            % {"allowed": ", ".join(sorted(LEAF_FIELDS))},
        )
        return
    unknown = sorted(set(node) - LEAF_FIELDS[kind] - {"type"})
    for key in unknown:
        errors.add(_join(path, key), _("Unknown field for this criterion."))
    if kind == "diagnosis":
        _str_list(errors, node, "category", path, list(Category.values), required=False)
        _str_list(errors, node, "topography", path, None, required=False)
        _str_list(errors, node, "morphology", path, None, required=False)
        _date(errors, node, "diagnosed_from", path)
        _date(errors, node, "diagnosed_to", path)
        if not set(node) & LEAF_FIELDS["diagnosis"]:
            errors.add(path, _("Give at least one diagnosis field."))
    elif kind == "stage":
        if node.get("system") not in StagingRecord.System.values:
            errors.add(
                _join(path, "system"),
                _("Choose one of: %(allowed)s.")
                % {"allowed": ", ".join(StagingRecord.System.values)},
            )
        _str_list(errors, node, "values", path, None, required=True)
    elif kind == "pathology":
        for key, allowed in PATHOLOGY_CHOICES.items():
            _str_list(errors, node, key, path, allowed, required=False)
        _int(errors, node, "nodes_positive_min", path, 0, 200)
        if not set(node) & LEAF_FIELDS["pathology"]:
            errors.add(path, _("Give at least one pathology element."))
    elif kind == "genomic":
        alteration = node.get("alteration")
        if alteration not in ("variant", "fusion", "cnv"):
            errors.add(_join(path, "alteration"), _("Choose one of: variant, fusion, cnv."))
        gene = node.get("gene")
        if not isinstance(gene, str) or not gene.strip():
            errors.add(_join(path, "gene"), _("This field is required."))
        allowed_extra = {
            "variant": {"protein", "classification"},
            "fusion": {"partner"},
            "cnv": {"change"},
        }.get(alteration, set())
        for key in ("protein", "classification", "partner", "change"):
            if key in node and key not in allowed_extra:
                errors.add(_join(path, key), _("Not a field of this alteration."))
        for key in ("protein", "partner"):
            if key in node and (not isinstance(node[key], str) or not node[key].strip()):
                errors.add(_join(path, key), _("Give a text value."))
        if "classification" in node:
            _str_list(
                errors,
                node,
                "classification",
                path,
                list(Variant.Classification.values),
                required=True,
            )
        if "change" in node:
            _str_list(
                errors, node, "change", path, list(CopyNumberChange.Change.values), required=True
            )
    elif kind == "biomarker":
        marker = node.get("marker")
        if marker in NUMERIC_MARKERS:
            if node.get("op") not in OPS:
                errors.add(_join(path, "op"), _("Choose one of: %s.") % ", ".join(OPS))
            value = node.get("value")
            if isinstance(value, bool) or not isinstance(value, int | float):
                errors.add(_join(path, "value"), _("Give a number."))
            if "values" in node:
                errors.add(_join(path, "values"), _("Not a field of this marker."))
        elif marker in CATEGORICAL_MARKERS:
            _str_list(errors, node, "values", path, CATEGORICAL_MARKERS[marker], required=True)
            for key in ("op", "value"):
                if key in node:
                    errors.add(_join(path, key), _("Not a field of this marker."))
        else:
            errors.add(
                _join(path, "marker"),
                _("Choose one of: %(allowed)s.")
                % {"allowed": ", ".join(sorted(NUMERIC_MARKERS | set(CATEGORICAL_MARKERS)))},
            )
    elif kind == "treatment":
        _str_list(errors, node, "kind", path, list(Treatment.Kind.values), required=False)
        _str_list(errors, node, "intent", path, list(Treatment.Intent.values), required=False)
        _int(errors, node, "line", path, 1, 10)
        _int(errors, node, "within_days_of_diagnosis", path, 0, 36500)
        if "before_first_systemic" in node and not isinstance(node["before_first_systemic"], bool):
            errors.add(_join(path, "before_first_systemic"), _("Give true or false."))
    elif kind == "vital_status":
        if node.get("status") not in FollowUp.VitalStatus.values:
            errors.add(_join(path, "status"), _("Choose one of: alive, dead."))
    elif kind == "center":
        _str_list(errors, node, "codes", path, None, required=True)
    elif kind == "patient":
        if "sex" in node and node["sex"] not in RegistryPatient.Sex.values:
            errors.add(_join(path, "sex"), _("Choose one of: F, M."))
        _str_list(
            errors, node, "risk_factors", path, list(RegistryPatient.RISK_FACTORS), required=False
        )
        if not set(node) & LEAF_FIELDS["patient"]:
            errors.add(path, _("Give the sex or risk factors."))


def validate(tree: Any) -> dict[str, list[str]]:
    """Every problem of ``tree`` at once: {path: [messages]}; empty when valid."""
    errors = Errors()
    leaves = 0

    def walk(node: Any, path: str, depth: int) -> None:
        nonlocal leaves
        if depth > MAX_DEPTH:
            errors.add(path, _("Criteria nest too deeply (at most %d levels).") % MAX_DEPTH)
            return
        if not isinstance(node, dict):
            errors.add(path, _("Each criterion is an object."))
            return
        groups = [k for k in ("all", "any", "not") if k in node]
        if groups:
            if len(node) != 1:
                errors.add(path, _("A group has exactly one key: all, any or not."))
                return
            key = groups[0]
            if key == "not":
                walk(node["not"], _join(path, "not"), depth + 1)
                return
            children = node[key]
            if not isinstance(children, list) or not children:
                errors.add(_join(path, key), _("Give a non-empty list of criteria."))
                return
            for i, child in enumerate(children):
                walk(child, _join(_join(path, key), i), depth + 1)
            return
        leaves += 1
        _validate_leaf(node, path, errors)

    walk(tree, "", 0)
    if leaves > MAX_LEAVES:
        errors.add("criteria", _("At most %d criteria in one cohort.") % MAX_LEAVES)
    return dict(errors)


def canonical(tree: Any) -> str:
    return json.dumps(tree, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def criteria_hash(tree: Any) -> str:
    return hashlib.sha256(canonical(tree).encode()).hexdigest()


def fingerprint(tree: Any) -> str:
    """The criteria's shape without its numbers and dates: queries that differ only by a
    threshold or a date window (the raw material of a differencing attack) share it."""

    def blur(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: blur(v) for k, v in node.items()}
        if isinstance(node, list):
            return [blur(v) for v in node]
        if isinstance(node, bool) or node is None:
            return node
        if isinstance(node, int | float | Decimal):
            return "#"
        if isinstance(node, str):
            try:
                datetime.date.fromisoformat(node)
                return "#date"
            except ValueError:
                return node
        return node

    return hashlib.sha256(canonical(blur(tree)).encode()).hexdigest()


# --- compilation -------------------------------------------------------------------------


def _stage_value_q(values: list[str]) -> Q:
    return Q(override_value__in=values) | (Q(override_value="") & Q(computed_value__in=values))


def _leaf_q(node: dict) -> Q:
    kind = node["type"]
    if kind == "diagnosis":
        f = Q()
        if node.get("category"):
            f &= Q(category__in=node["category"])
        if node.get("topography"):
            f &= Q(topography__in=node["topography"])
        if node.get("morphology"):
            f &= Q(morphology__in=node["morphology"])
        if node.get("diagnosed_from"):
            f &= Q(diagnosis_date__gte=node["diagnosed_from"])
        if node.get("diagnosed_to"):
            f &= Q(diagnosis_date__lte=node["diagnosed_to"])
        return Q(Exists(Tumour.objects.filter(f, patient_id=OuterRef("pk"))))
    if kind == "stage":
        return Q(
            Exists(
                StagingRecord.objects.filter(
                    _stage_value_q(node["values"]),
                    tumour__patient_id=OuterRef("pk"),
                    system=node["system"],
                )
            )
        )
    if kind == "pathology":
        f = Q()
        for key in PATHOLOGY_CHOICES:
            if node.get(key):
                f &= Q(**{f"{key}__in": node[key]})
        if node.get("nodes_positive_min") is not None:
            f &= Q(nodes_positive__gte=node["nodes_positive_min"])
        return Q(Exists(PathologyReport.objects.filter(f, tumour__patient_id=OuterRef("pk"))))
    if kind == "genomic":
        gene = node["gene"].strip().upper()
        if node["alteration"] == "variant":
            f = Q(gene__iexact=gene)
            if node.get("protein"):
                f &= Q(hgvs_p__startswith=node["protein"].strip())
            if node.get("classification"):
                f &= Q(classification__in=node["classification"])
            return Q(Exists(Variant.objects.filter(f, test__patient_id=OuterRef("pk"))))
        if node["alteration"] == "fusion":
            f = Q(gene_5__iexact=gene) | Q(gene_3__iexact=gene)
            partner = (node.get("partner") or "").strip().upper()
            if partner:
                f = (Q(gene_5__iexact=gene) & Q(gene_3__iexact=partner)) | (
                    Q(gene_3__iexact=gene) & Q(gene_5__iexact=partner)
                )
            return Q(Exists(Fusion.objects.filter(f, test__patient_id=OuterRef("pk"))))
        f = Q(gene__iexact=gene)
        if node.get("change"):
            f &= Q(change__in=node["change"])
        return Q(Exists(CopyNumberChange.objects.filter(f, test__patient_id=OuterRef("pk"))))
    if kind == "biomarker":
        marker = node["marker"]
        if marker in NUMERIC_MARKERS:
            f = Q(**{f"{marker}__{OPS[node['op']]}": Decimal(str(node["value"]))})
        else:
            f = Q(**{f"{marker}__in": node["values"]})
        return Q(Exists(GenomicTest.objects.filter(f, patient_id=OuterRef("pk"))))
    if kind == "treatment":
        qs = Treatment.objects.filter(patient_id=OuterRef("pk"))
        if node.get("kind"):
            qs = qs.filter(kind__in=node["kind"])
        if node.get("intent"):
            qs = qs.filter(intent__in=node["intent"])
        if node.get("line") is not None:
            qs = qs.filter(line=node["line"])
        if node.get("within_days_of_diagnosis") is not None:
            # a diagnosis of the same patient on or before the start, at most N days before
            days = datetime.timedelta(days=node["within_days_of_diagnosis"])
            near = (
                Tumour.objects.filter(
                    patient_id=OuterRef("patient_id"), diagnosis_date__lte=OuterRef("start_date")
                )
                .annotate(
                    until=ExpressionWrapper(F("diagnosis_date") + days, output_field=DateField())
                )
                .filter(until__gte=OuterRef("start_date"))
            )
            qs = qs.filter(Exists(near))
        if node.get("before_first_systemic"):
            earlier_systemic = Treatment.objects.filter(
                patient_id=OuterRef("patient_id"),
                kind=Treatment.Kind.SYSTEMIC,
                start_date__lte=OuterRef("start_date"),
            )
            qs = qs.exclude(kind=Treatment.Kind.SYSTEMIC).filter(~Exists(earlier_systemic))
        return Q(Exists(qs))
    if kind == "vital_status":
        dead = Q(
            Exists(
                FollowUp.objects.filter(
                    patient_id=OuterRef("pk"), vital_status=FollowUp.VitalStatus.DEAD
                )
            )
        )
        return dead if node["status"] == FollowUp.VitalStatus.DEAD else ~dead
    if kind == "center":
        return Q(site__code__in=node["codes"])
    if kind == "patient":
        f = Q()
        if node.get("sex"):
            f &= Q(sex=node["sex"])
        for factor in node.get("risk_factors") or ():
            f &= Q(**{factor: True})
        return f
    raise ValueError(kind)  # pragma: no cover - validate() refuses unknown types


def compile_q(tree: dict) -> Q:
    """A valid criteria tree as a filter on ``RegistryPatient`` (call ``validate`` first)."""
    if "all" in tree:
        q = Q()
        for child in tree["all"]:
            q &= compile_q(child)
        return q
    if "any" in tree:
        q = Q(pk__in=[])
        for child in tree["any"]:
            q |= compile_q(child)
        return q
    if "not" in tree:
        return ~compile_q(tree["not"])
    return _leaf_q(tree)
